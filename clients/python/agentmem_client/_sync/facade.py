# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""AsyncMemory: mem0's `AsyncMemory` interface over AgentMem, so a mem0 user switches with a changed import."""

from __future__ import annotations

from typing import Any

from agentmem_client._mem0 import (
    INFER_UNSUPPORTED,
    MEM0_TYPES,
    as_messages,
    history_items,
    memory_item,
    search_item,
    split_filters,
)
from agentmem_client._sync.client import AgentMem
from agentmem_client.errors import AgentMemError, NotFoundError

MAX_PAGE = 100


class Memory:
    """mem0's methods and result shapes: add, search, get_all, get, update, delete, delete_all, history."""

    def __init__(self, url: str | None = None, api_key: str | None = None, **options: Any) -> None:
        self.client = AgentMem(url, api_key, **options)

    def add(
        self,
        messages: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        infer: bool = True,
        memory_type: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Stores messages; with infer=False each message becomes an episodic memory (one atomic batch)."""
        if infer:
            raise AgentMemError(INFER_UNSUPPORTED)
        scope = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
        kind = MEM0_TYPES.get(memory_type or "", memory_type) or "episodic"
        items = [m for m in as_messages(messages) if str(m.get("content") or "").strip()]
        if not items:
            return {"results": []}
        roles = [str(m.get("role") or "user") for m in items]
        batch: list[dict[str, Any]] = [
            {**scope, "text": str(m["content"]), "memory_type": kind, "metadata": {**(metadata or {}), "role": role}}
            for m, role in zip(items, roles, strict=True)
        ]
        written = self.client.memories.add_batch(batch)
        return {
            "results": [
                {"id": w.id, "memory": b["text"], "event": "ADD", "role": role}
                for w, b, role in zip(written.memories, batch, roles, strict=True)
            ]
        }

    def get(self, memory_id: str) -> dict[str, Any] | None:
        """The memory, or None when there is no such memory."""
        try:
            return memory_item(self.client.memories.get(memory_id))
        except NotFoundError:
            return None

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Memories of a scope, newest first: at most `top_k` (mem0 2.x) or `limit` (mem0 1.x), default 100."""
        scope, metadata = split_filters(filters, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        wanted = top_k or limit or 100
        results: list[dict[str, Any]] = []
        for memory in self.client.memories.iterate(page_size=min(wanted, MAX_PAGE), filters=metadata, **scope):
            results.append(memory_item(memory))
            if len(results) >= wanted:
                break
        return {"results": results}

    def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        filters: dict[str, Any] | None = None,
        top_k: int | None = None,
        limit: int | None = None,
        threshold: float | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """The best matches of a scope (hybrid search), each with its score; `threshold` drops lower scores."""
        scope, metadata = split_filters(filters, {"user_id": user_id, "agent_id": agent_id, "run_id": run_id})
        found = self.client.memories.search(query, limit=min(top_k or limit or 20, MAX_PAGE), filters=metadata, **scope)
        hits = [h for h in found.results if threshold is None or h.score >= threshold]
        return {"results": [search_item(h) for h in hits]}

    def update(
        self, memory_id: str, text: str | None = None, metadata: dict[str, Any] | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """Changes the text (`text`, or mem0 1.x's `data`) and/or the metadata."""
        fields: dict[str, Any] = {}
        if (text or data) is not None:
            fields["text"] = text if text is not None else data
        if metadata is not None:
            fields["metadata"] = metadata
        self.client.memories.update(memory_id, **fields)
        return {"message": "Memory updated successfully!"}

    def delete(self, memory_id: str) -> dict[str, Any]:
        self.client.memories.delete(memory_id)
        return {"message": "Memory deleted successfully!"}

    def delete_all(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> dict[str, Any]:
        """Deletes every memory of a scope (each one a soft delete with its own history)."""
        scope = {k: v for k, v in {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}.items() if v}
        if not scope:
            raise AgentMemError("delete_all needs at least one of user_id, agent_id, run_id")
        ids = [m.id for m in self.client.memories.iterate(**scope)]
        for memory_id in ids:
            self.client.memories.delete(memory_id)
        return {"message": "Memories deleted successfully!"}

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """Every change, oldest first: old and new text and the event (ADD, UPDATE, DELETE)."""
        return history_items(self.client.memories.history(memory_id))

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

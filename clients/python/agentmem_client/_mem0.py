"""mem0's argument names and result shapes, mapped to and from AgentMem's (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
from typing import Any

from agentmem_client.errors import AgentMemError
from agentmem_client.types import History, Memory, MemoryHit

SCOPE_KEYS = ("user_id", "agent_id", "run_id")
MEM0_TYPES = {"procedural_memory": "procedural"}
EVENTS = {"Created": "ADD", "Updated": "UPDATE", "Deleted": "DELETE", "Restored": "ADD"}
INFER_UNSUPPORTED = (
    "infer=True asks the server to extract facts with a language model; this client does not drive extraction "
    "jobs yet. Pass infer=False to store the messages as they are (one episodic memory per message)."
)


def as_messages(messages: Any) -> list[dict[str, Any]]:
    """mem0 accepts a string, one message dict, or a list of them."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, dict):
        return [messages]
    if isinstance(messages, list) and all(isinstance(m, dict) for m in messages):
        return messages
    raise AgentMemError("messages must be a string, a message dict, or a list of message dicts")


def split_filters(
    filters: dict[str, Any] | None, scope: dict[str, str | None]
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """mem0's `filters` (with user_id/agent_id/run_id inside, as mem0 2.x wants) and top-level scope ids (mem0 1.x):
    the scope, and the metadata filter left over (mem0's AND/OR/NOT spelled as AgentMem's and/or/not)."""
    rest = dict(filters or {})
    ids = {k: str(rest.pop(k)) for k in SCOPE_KEYS if rest.get(k) is not None}
    ids.update({k: v for k, v in scope.items() if v is not None})
    return ids, _lower_logic(rest) if rest else None


def _lower_logic(value: Any) -> Any:
    if isinstance(value, dict):
        return {(k.lower() if k in ("AND", "OR", "NOT") else k): _lower_logic(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_logic(v) for v in value]
    return value


def memory_item(memory: Memory) -> dict[str, Any]:
    """A memory as mem0 returns it from get / get_all."""
    item: dict[str, Any] = {
        "id": memory.id,
        "memory": memory.text,
        "hash": hashlib.md5(memory.text.encode()).hexdigest(),  # noqa: S324 - mem0's content hash, not security
        "created_at": memory.created_at.isoformat(),
        "updated_at": memory.updated_at.isoformat(),
    }
    for key in SCOPE_KEYS:
        value = getattr(memory, key)
        if value is not None:
            item[key] = value
    if memory.metadata:
        item["metadata"] = dict(memory.metadata)
    return item


def search_item(hit: MemoryHit) -> dict[str, Any]:
    """A search hit as mem0 returns it: the memory item with its score."""
    return {**memory_item(hit), "score": hit.score}


def history_items(history: History) -> list[dict[str, Any]]:
    """Every version as mem0's history rows: old and new text, the event (ADD, UPDATE, DELETE), when, by whom."""
    rows: list[dict[str, Any]] = []
    text: str | None = None
    deleted = False
    for entry in history.versions:
        old = text
        change = entry.changes.get("text")
        if change is not None:
            text = change.new
        deleted = entry.event_type == "Deleted" or (deleted and entry.event_type != "Restored")
        rows.append(
            {
                "id": f"{history.id}:{entry.version}",
                "memory_id": history.id,
                "old_memory": old,
                "new_memory": None if deleted else text,
                "event": EVENTS.get(entry.event_type, entry.event_type.upper()),
                "created_at": entry.timestamp.isoformat(),
                "updated_at": entry.timestamp.isoformat() if entry.version > 1 else None,
                "is_deleted": int(deleted),
                "actor_id": entry.actor_id,
                "role": None,
            }
        )
    return rows

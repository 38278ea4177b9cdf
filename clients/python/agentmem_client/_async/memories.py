"""client.memories: add (idempotent), read now / at a version / at an instant, edit, delete, restore, history,
search and list."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from agentmem_client._async.http import HttpCore
from agentmem_client._params import NOT_GIVEN, NotGiven, body, changes, if_match
from agentmem_client._params import query as query_params
from agentmem_client.types import (
    BatchWrite,
    Deleted,
    History,
    Memory,
    MemoryType,
    MemoryWrite,
    Order,
    Page,
    SearchMode,
    SearchResult,
)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Memories:
    """Memories of your organization. Every add carries an Idempotency-Key, so a retried add never duplicates."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def add(
        self,
        text: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory_type: MemoryType | None = None,
        metadata: dict[str, Any] | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> MemoryWrite:
        """Adds a memory; `idempotency_key` defaults to a fresh one (retries of this call reuse it)."""
        fields = body(
            text=text,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=memory_type,
            metadata=metadata,
            valid_from=valid_from,
            valid_to=valid_to,
        )
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        return await self._http.call("POST", "/v1/memories", MemoryWrite, json=fields, headers=headers)

    async def add_batch(self, memories: Sequence[dict[str, Any]], *, idempotency_key: str | None = None) -> BatchWrite:
        """Adds up to 1,000 memories atomically (each a dict of `add`'s arguments)."""
        headers = {"Idempotency-Key": idempotency_key or new_idempotency_key()}
        payload = {"memories": [body(**m) for m in memories]}
        return await self._http.call("POST", "/v1/memories/batch", BatchWrite, json=payload, headers=headers)

    async def get(
        self,
        memory_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Memory:
        """The memory now, at a version, or as it was at an instant."""
        params = query_params(version=version, as_of=as_of, include_deleted=include_deleted or None)
        return await self._http.call("GET", f"/v1/memories/{memory_id}", Memory, params=params)

    async def update(
        self,
        memory_id: str,
        *,
        text: str | NotGiven = NOT_GIVEN,
        memory_type: MemoryType | NotGiven = NOT_GIVEN,
        metadata: dict[str, Any] | NotGiven = NOT_GIVEN,
        valid_from: datetime | NotGiven | None = NOT_GIVEN,
        valid_to: datetime | NotGiven | None = NOT_GIVEN,
        expected_version: int | None = None,
    ) -> MemoryWrite:
        """Changes the given fields; with `expected_version`, a stale version raises ConflictError."""
        fields = changes(
            text=text, memory_type=memory_type, metadata=metadata, valid_from=valid_from, valid_to=valid_to
        )
        return await self._http.call(
            "PATCH", f"/v1/memories/{memory_id}", MemoryWrite, json=fields, headers=if_match(expected_version)
        )

    async def delete(self, memory_id: str, *, expected_version: int | None = None) -> Deleted:
        """Soft-deletes a memory (its history stays; `restore` undoes it)."""
        path = f"/v1/memories/{memory_id}"
        return Deleted(memory_id, await self._http.position_of("DELETE", path, headers=if_match(expected_version)))

    async def restore(self, memory_id: str, *, expected_version: int | None = None) -> MemoryWrite:
        path = f"/v1/memories/{memory_id}/restore"
        return await self._http.call("POST", path, MemoryWrite, headers=if_match(expected_version))

    async def history(self, memory_id: str) -> History:
        """Every version: event, time, actor, request id and each changed field's old and new value."""
        return await self._http.call("GET", f"/v1/memories/{memory_id}/history", History)

    async def search(
        self,
        query: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory_type: MemoryType | Sequence[MemoryType] | None = None,
        filters: dict[str, Any] | None = None,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        min_score: float | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        valid_at: datetime | None = None,
        min_position: int | None = None,
    ) -> SearchResult:
        """Hybrid (default), vector or text search; sees this client's own writes unless read_your_writes=False."""
        payload = body(
            query=query,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=list(memory_type) if isinstance(memory_type, (list, tuple)) else memory_type,
            filters=filters,
            mode=mode,
            limit=limit,
            min_score=min_score,
            created_after=created_after,
            created_before=created_before,
            valid_at=valid_at,
            min_position=self._http.min_position(min_position),
        )
        return await self._http.call("POST", "/v1/memories/search", SearchResult, json=payload)

    async def list(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory_type: Sequence[MemoryType] | None = None,
        filters: dict[str, Any] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        valid_at: datetime | None = None,
        order: Order = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> Page[Memory]:
        """One page of memories, newest first by default."""
        params = query_params(
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=memory_type,
            filters=filters,
            created_after=created_after,
            created_before=created_before,
            valid_at=valid_at,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted or None,
            min_position=self._http.min_position(min_position),
        )
        return await self._http.call("GET", "/v1/memories", Page[Memory], params=params)

    async def iterate(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Memory]:
        """Every memory matching `list`'s filters, page after page (`page_size` up to 100)."""
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor, **filters)
            for memory in page.items:
                yield memory
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

"""/v1/memories: add, batch add, read (now, at a version, at an instant), edit, delete, restore, history."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.context import POSITION_HEADER, Principal
from agentmem.api.controllers.memory_search import make_scope, memory_row_out, wait_for
from agentmem.api.schemas.common import HistoryChange, HistoryEntryOut, WriteOut
from agentmem.api.schemas.memories import (
    MemoryBatchCreate,
    MemoryBatchOut,
    MemoryCreate,
    MemoryHistoryOut,
    MemoryOut,
    MemoryPageOut,
    MemoryPatch,
    MemoryType,
    MemoryWriteOut,
)
from agentmem.api.security import memory_quota
from agentmem.api.services import Services
from agentmem.application.memories import NewMemory
from agentmem.domain.base import Context
from agentmem.domain.memory import Memory
from agentmem.projections.queries import ListOrder

ListOrderParam = Annotated[
    ListOrder, Parameter(description="created_desc (default), created_asc, updated_desc or updated_asc")
]
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        min_length=1,
        max_length=255,
        required=False,
        description="Retrying with the same key and body returns the first result and records nothing new.",
    ),
]
IfMatch = Annotated[
    str | None,
    Parameter(
        header="If-Match",
        required=False,
        description='The version the change expects, e.g. `3` or `"3"`; a stale one gets 409.',
    ),
]


def expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or int(raw) < 1:
        raise HTTPException(status_code=400, detail=f"If-Match must be a version number, got {if_match!r}")
    return int(raw)


def memory_out(memory: Memory) -> MemoryOut:
    return MemoryOut(**_fields(memory))


def _fields(memory: Memory) -> dict[str, object]:
    return {
        "id": str(memory.id),
        "version": memory.version,
        "text": memory.text,
        "user_id": memory.user_id,
        "agent_id": memory.agent_id,
        "run_id": memory.run_id,
        "memory_type": memory.memory_type,
        "metadata": memory.metadata,
        "valid_from": memory.valid_from,
        "valid_to": memory.valid_to,
        "deleted": memory.deleted,
        "created_at": memory.created_on,
        "updated_at": memory.modified_on,
        "created_by": memory.created_by,
        "updated_by": memory.updated_by,
    }


def written(memory: Memory, position: int, status_code: int = 200) -> Response[MemoryWriteOut]:
    return Response(
        MemoryWriteOut(**_fields(memory), position=position),
        status_code=status_code,
        headers={POSITION_HEADER: str(position), "ETag": f'"{memory.version}"'},
    )


def new_memory(data: MemoryCreate) -> NewMemory:
    return NewMemory(
        text=data.text,
        user_id=data.user_id,
        agent_id=data.agent_id,
        run_id=data.run_id,
        memory_type=data.memory_type,
        metadata=data.metadata,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
    )


class MemoryController(Controller):
    """Memories of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/memories"
    tags = ["memories"]

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "memories:write"})
    async def add(
        self,
        data: MemoryCreate,
        context: Context,
        principal: Principal,
        services: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[MemoryWriteOut]:
        """Adds a memory (429 when the organization's memory quota is full)."""
        async with memory_quota(services, principal, 1):
            saved = await asyncio.to_thread(services.memories.add, new_memory(data), context, idempotency_key)
        return written(saved.memory, saved.position, HTTP_201_CREATED)

    @post("/batch", status_code=HTTP_201_CREATED, opt={"permission": "memories:write"})
    async def add_batch(
        self,
        data: MemoryBatchCreate,
        context: Context,
        principal: Principal,
        services: Services,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[MemoryBatchOut]:
        """Adds up to 1,000 memories in one transaction: all or none."""
        items = [new_memory(m) for m in data.memories]
        async with memory_quota(services, principal, len(items)):
            results = await asyncio.to_thread(services.memories.add_batch, items, context, idempotency_key)
        position = max(r.position for r in results)
        body = MemoryBatchOut(
            memories=[WriteOut(id=str(r.id), version=r.version, position=r.position) for r in results],
            position=position,
        )
        return Response(body, status_code=HTTP_201_CREATED, headers={POSITION_HEADER: str(position)})

    @get("/{memory_id:uuid}", sync_to_thread=True, opt={"permission": "memories:read"})
    def get_memory(
        self,
        memory_id: UUID,
        context: Context,
        services: Services,
        version: Annotated[int | None, Parameter(ge=1, description="Replay the memory to this version.")] = None,
        as_of: Annotated[datetime | None, Parameter(description="The memory as it was at this instant.")] = None,
        include_deleted: bool = False,
    ) -> Response[MemoryOut]:
        """Reads a memory now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        if version is not None and as_of is not None:
            raise HTTPException(status_code=400, detail="give either version or as_of, not both")
        if as_of is not None and as_of.tzinfo is None:
            raise HTTPException(status_code=400, detail="as_of needs a time zone, e.g. 2026-01-01T00:00:00Z")
        memory = services.memories.get(
            memory_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted
        )
        return Response(memory_out(memory), headers={"ETag": f'"{memory.version}"'})

    @patch("/{memory_id:uuid}", sync_to_thread=True, opt={"permission": "memories:write"})
    def update(
        self, memory_id: UUID, data: MemoryPatch, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[MemoryWriteOut]:
        """Changes a memory's text, type, metadata or validity; `If-Match` guards against lost updates."""
        changes = {name: getattr(data, name) for name in data.__struct_fields__ if getattr(data, name) is not UNSET}
        saved = services.memories.update(memory_id, changes, context, expected_version(if_match))
        return written(saved.memory, saved.position)

    @delete("/{memory_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "memories:delete"})
    async def delete_memory(
        self, memory_id: UUID, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes a memory: it leaves reads and search; its history stays."""
        saved = await asyncio.to_thread(services.memories.delete, memory_id, context, expected_version(if_match))
        await services.auth.memory_quota.release(context.tenant_id, 1)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

    @post("/{memory_id:uuid}/restore", status_code=200, opt={"permission": "memories:delete"})
    async def restore(
        self, memory_id: UUID, context: Context, principal: Principal, services: Services, if_match: IfMatch = None
    ) -> Response[MemoryWriteOut]:
        """Restores a soft-deleted memory (it counts against the memory quota again)."""
        async with memory_quota(services, principal, 1):
            saved = await asyncio.to_thread(services.memories.restore, memory_id, context, expected_version(if_match))
        return written(saved.memory, saved.position)

    @get("/{memory_id:uuid}/history", sync_to_thread=True, opt={"permission": "memories:read"})
    def history(self, memory_id: UUID, context: Context, services: Services) -> MemoryHistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        entries = services.memories.history(memory_id, context.tenant_id)
        return MemoryHistoryOut(
            id=str(memory_id),
            versions=[
                HistoryEntryOut(
                    version=e.version,
                    event_type=e.event_type,
                    timestamp=e.timestamp.isoformat(),
                    actor_id=e.actor_id,
                    request_id=e.request_id,
                    changes={k: HistoryChange(old=v["old"], new=v["new"]) for k, v in e.changes.items()},
                )
                for e in entries
            ],
        )

    @get("/", status_code=200, opt={"permission": "memories:read"})
    async def list_memories(
        self,
        context: Context,
        services: Services,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory_type: list[MemoryType] | None = None,
        filters: Annotated[str | None, Parameter(description="A metadata filter as JSON.")] = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        valid_at: datetime | None = None,
        order: ListOrderParam = "created_desc",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Parameter(max_length=512)] = None,
        include_deleted: bool = False,
        min_position: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> MemoryPageOut:
        """Lists memories, newest first by default, with cursor pagination."""
        parsed_filters = None
        if filters is not None:
            try:
                parsed_filters = msgspec.json.decode(filters)
            except msgspec.DecodeError:
                raise HTTPException(status_code=400, detail="filters must be JSON") from None
        scope = make_scope(
            context,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=memory_type,
            filters=parsed_filters,
            created_after=created_after,
            created_before=created_before,
            valid_at=valid_at,
        )
        active = await services.active("memories")
        await wait_for(services, active, min_position)
        page = await active.search.list(scope, order, limit, cursor, include_deleted)
        return MemoryPageOut(items=[MemoryOut(**memory_row_out(m)) for m in page.items], next_cursor=page.next_cursor)

"""/v1/memories search and lists, served from the read model (with read-your-writes via min_position)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

import psycopg
from litestar import Controller, post
from litestar.params import Parameter

from agentmem.api.schemas.memories import (
    MemoryHitOut,
    MemorySearchIn,
    MemorySearchOut,
)
from agentmem.api.services import ActiveSearch, Services
from agentmem.domain.base import Context
from agentmem.projections.filters import FilterError, parse_filter
from agentmem.projections.queries import Hit, ListOrder, MemoryRow, Scope

ListOrderParam = Annotated[
    ListOrder, Parameter(description="created_desc (default), created_asc, updated_desc or updated_asc")
]


class InvalidFilterError(ValueError):
    """A scope or filter value the read model cannot use."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def memory_row_out(row: MemoryRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "version": row.version,
        "text": row.text,
        "user_id": row.user_id,
        "agent_id": row.agent_id,
        "run_id": row.run_id,
        "memory_type": row.memory_type,
        "metadata": row.metadata,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "deleted": row.deleted,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "created_by": row.created_by,
        "updated_by": row.updated_by,
    }


def hit_out(hit: Hit) -> MemoryHitOut:
    return MemoryHitOut(
        **memory_row_out(hit.memory), score=round(hit.score, 6), vector_rank=hit.vector_rank, text_rank=hit.text_rank
    )


def make_scope(
    context: Context,
    *,
    user_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    memory_type: str | list[str] | None,
    filters: Any,
    created_after: datetime | None,
    created_before: datetime | None,
    valid_at: datetime | None,
) -> Scope:
    try:
        metadata = parse_filter(filters) if filters is not None else None
    except FilterError as error:
        raise InvalidFilterError(error.path, str(error)) from None
    for name, value in (("created_after", created_after), ("created_before", created_before), ("valid_at", valid_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidFilterError(name, f"{name} needs a time zone")
    types = (memory_type,) if isinstance(memory_type, str) else tuple(memory_type or ())
    return Scope(
        tenant_id=context.tenant_id,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        memory_types=types,
        metadata=metadata,
        created_after=created_after,
        created_before=created_before,
        valid_at=valid_at,
    )


async def wait_for(services: Services, active: ActiveSearch, min_position: int | None) -> None:
    if min_position:
        assert services.waiter is not None
        await services.waiter.wait_for(active.model.table, min_position, services.settings.read_wait_timeout)


class MemorySearchController(Controller):
    """Search and lists over the caller's memories."""

    path = "/v1/memories/search"
    tags = ["memories"]

    @post("/", status_code=200, opt={"permission": "memories:read"})
    async def search(self, data: MemorySearchIn, context: Context, services: Services) -> MemorySearchOut:
        """Hybrid (default), vector or text search, with scope and metadata filters."""
        scope = make_scope(
            context,
            user_id=data.user_id,
            agent_id=data.agent_id,
            run_id=data.run_id,
            memory_type=data.memory_type,
            filters=data.filters,
            created_after=data.created_after,
            created_before=data.created_before,
            valid_at=data.valid_at,
        )
        for attempt in (1, 2):
            active = await services.active("memories", refresh=attempt == 2)
            await wait_for(services, active, data.min_position)
            started = time.perf_counter()
            vector = await active.embed(data.query) if data.mode != "text" else None
            embedded = time.perf_counter()
            try:
                hits = await active.search.search(scope, data.query, vector, data.mode, data.limit, data.min_score)
            except psycopg.errors.UndefinedTable:
                if attempt == 2:
                    raise
                continue  # the read model was switched under us: follow it
            done = time.perf_counter()
            return MemorySearchOut(
                results=[hit_out(h) for h in hits],
                mode=data.mode,
                embedding_ms=round((embedded - started) * 1000, 3),
                search_ms=round((done - embedded) * 1000, 3),
            )
        raise AssertionError("unreachable")  # pragma: no cover

"""Reads from the read models: read-your-writes (`min_position`), the serving generation of searchable ones, search.

A searchable read model (memories, messages) is served from one generation of tables at a time; a rebuild
fills the next beside it and switches atomically. A query that finds its table gone (dropped after a switch)
follows the new one once. Plain read models (lists, audit, directory) have fixed tables.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agentmem.application.base import ApplicationError
from agentmem.application.metrics import SEARCH_SECONDS
from agentmem.application.telemetry import span
from agentmem.domain.errors import InvalidInput, Unavailable
from agentmem.projections.queries import Hit, ListOrder, Page, Scope, SearchMode


class ProjectionBehindError(ApplicationError, Unavailable):
    """A read model did not reach the wanted position within the wait timeout."""

    def __init__(self, name: str, wanted: int, reached: int, waited: float) -> None:
        super().__init__(
            f"the {name} read model has applied the log up to {reached}, not yet {wanted} "
            f"(waited {waited:.1f} s); retry shortly",
            retry_after=1,
        )
        self.reached = reached


class PositionBeyondHeadError(ApplicationError, InvalidInput):
    """`min_position` names a position the log has not reached: no wait could ever end."""

    def __init__(self, wanted: int, head: int) -> None:
        super().__init__("min_position", f"min_position {wanted} is beyond the end of the event log ({head})")


class TenantHeldError(ApplicationError, Unavailable):
    """An event of this tenant is parked in the read model: it holds the tenant's data up to before that event
    until an operator retries or skips it (GET /v1/admin/projections lists it)."""

    def __init__(self, name: str, wanted: int, applied_to: int) -> None:
        super().__init__(
            f"the {name} read model holds this organization's data up to position {applied_to}, not yet {wanted}: "
            "an event could not be applied and waits for an operator"
        )


class ReadModelSwitchedError(ApplicationError, Unavailable):
    """The generation a query was running on was switched and dropped under it."""


class PositionWaiter(Protocol):
    """Knows how far each projection has applied the log, and waits for one to reach a position."""

    async def wait_for(self, name: str, position: int, timeout: float, tenant_id: str) -> None:  # noqa: ASYNC109
        """Returns once `name` has applied `position` for the tenant; ProjectionBehindError after `timeout` seconds,
        PositionBeyondHeadError at once when the log has not reached `position`, TenantHeldError when the read
        model holds the tenant back before `position` (a parked event)."""
        ...


@dataclass(frozen=True, slots=True)
class Found:
    """What a search index returned, and whether its vector candidates came from an exact scan or HNSW."""

    hits: list[Hit]
    vector_index: str | None


class SearchIndex(Protocol):
    """One serving generation of a searchable read model, with the embedder that filled it."""

    @property
    def tracking_name(self) -> str:
        """The name its projection's position is tracked under."""
        ...

    async def embed(self, text: str) -> Any: ...

    async def search(
        self, scope: Scope, query: str, vector: Any, mode: SearchMode, limit: int, min_score: float | None
    ) -> Found:
        """Raises ReadModelSwitchedError when its tables were dropped by a switch."""
        ...

    async def list(
        self, scope: Scope, order: ListOrder, limit: int, cursor: str | None, include_deleted: bool
    ) -> Page: ...

    async def live_count(self, tenant_id: str) -> int:
        """Live memories of a tenant."""
        ...


class SearchIndexes(Protocol):
    """Which generation serves each searchable read model now."""

    async def serving(self, name: str, refresh: bool = False) -> SearchIndex: ...


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Hits best first, and where the time went."""

    hits: list[Hit]
    embedding_ms: float
    search_ms: float
    vector_index: str | None


class Reads:
    """Read-your-writes waits, search and memory lists over the serving read models."""

    def __init__(self, waiter: PositionWaiter, indexes: SearchIndexes, timeout: float) -> None:
        self.waiter = waiter
        self.indexes = indexes
        self.timeout = timeout

    async def wait(self, names: Sequence[str], min_position: int | None, tenant_id: str) -> None:
        """Returns once each read model in `names` has applied `min_position` for the tenant (bounded by the
        timeout)."""
        if min_position:
            for name in names:
                await self.waiter.wait_for(name, min_position, self.timeout, tenant_id)

    async def search(
        self,
        read_model: str,
        scope: Scope,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        min_score: float | None = None,
        min_position: int | None = None,
    ) -> SearchResult:
        """Hybrid, vector or text search once the read model has applied `min_position`; follows a switch once."""
        with span("search", {"agentmem.read_model": read_model, "agentmem.mode": mode, "agentmem.limit": limit}):
            result = await self._search(read_model, scope, query, mode, limit, min_score, min_position)
        SEARCH_SECONDS.observe((result.embedding_ms + result.search_ms) / 1000, read_model=read_model, mode=mode)
        return result

    async def _search(
        self,
        read_model: str,
        scope: Scope,
        query: str,
        mode: SearchMode,
        limit: int,
        min_score: float | None,
        min_position: int | None,
    ) -> SearchResult:
        for attempt in (1, 2):
            index = await self.indexes.serving(read_model, refresh=attempt == 2)
            await self.wait([index.tracking_name], min_position, scope.tenant_id)
            started = time.perf_counter()
            vector = await index.embed(query) if mode != "text" else None
            embedded = time.perf_counter()
            try:
                found = await index.search(scope, query, vector, mode, limit, min_score)
            except ReadModelSwitchedError:
                if attempt == 2:
                    raise
                continue
            return SearchResult(
                found.hits,
                embedding_ms=round((embedded - started) * 1000, 3),
                search_ms=round((time.perf_counter() - embedded) * 1000, 3),
                vector_index=found.vector_index,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def list_memories(
        self,
        scope: Scope,
        *,
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> Page:
        """One page of memories once the read model has applied `min_position`."""
        index = await self.indexes.serving("memories")
        await self.wait([index.tracking_name], min_position, scope.tenant_id)
        return await index.list(scope, order, limit, cursor, include_deleted)

    async def live_memories(self, tenant_id: str) -> int:
        """Live memories of a tenant, counted in the serving read model."""
        index = await self.indexes.serving("memories")
        return await index.live_count(tenant_id)

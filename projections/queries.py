"""Questions the memories read model answers: search and list, and what comes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from agentmem.projections.filters import Filter

SearchMode = Literal["hybrid", "vector", "text"]
ListOrder = Literal["created_desc", "created_asc", "updated_desc", "updated_asc"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which memories a query may see: always one tenant, optionally narrowed."""

    tenant_id: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    memory_types: tuple[str, ...] = ()
    metadata: Filter | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    valid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """A memory as the read model holds it."""

    id: UUID
    tenant_id: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    memory_type: str
    text: str
    metadata: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None
    version: int
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the memory, its fused score and its rank in each ranking (None if absent)."""

    memory: MemoryRow
    score: float
    vector_rank: int | None
    text_rank: int | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list and the cursor for the next (None at the end)."""

    items: list[MemoryRow]
    next_cursor: str | None


class MemorySearch(Protocol):
    """Search and list over the memories read model."""

    async def search(
        self, scope: Scope, query: str, vector: Any, mode: SearchMode, limit: int, min_score: float | None
    ) -> list[Hit]: ...

    async def list(
        self, scope: Scope, order: ListOrder, limit: int, cursor: str | None, include_deleted: bool
    ) -> Page: ...

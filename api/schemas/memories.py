"""Request and response bodies of /v1/memories."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from agentmem.api.schemas.common import HistoryEntryOut, WriteOut
from agentmem.application.memories import MAX_BATCH
from agentmem.domain.memory import MAX_SCOPE_ID_CHARS, MAX_TEXT_CHARS

MemoryType = Literal["core", "episodic", "semantic", "procedural", "resource", "knowledge"]
Text = Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS, description="The memory's text.")]
ScopeId = Annotated[str, Meta(min_length=1, max_length=MAX_SCOPE_ID_CHARS)]
AwareDatetime = Annotated[datetime, Meta(tz=True, description="ISO-8601 with a time zone.")]


class MemoryCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A memory to add."""

    text: Text
    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    run_id: ScopeId | None = None
    memory_type: MemoryType = "semantic"
    metadata: dict[str, Any] = {}
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None


class MemoryBatchCreate(Struct, forbid_unknown_fields=True):
    """Memories to add atomically: all of them or none."""

    memories: Annotated[list[MemoryCreate], Meta(min_length=1, max_length=MAX_BATCH)]


class MemoryPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; absent fields stay as they are, `null` clears valid_from/valid_to."""

    text: Text | UnsetType = UNSET
    memory_type: MemoryType | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    valid_from: AwareDatetime | UnsetType | None = UNSET
    valid_to: AwareDatetime | UnsetType | None = UNSET


class MemoryOut(Struct):
    """A memory as stored, at one version."""

    id: str
    version: int
    text: str
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    memory_type: str
    metadata: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class MemoryWriteOut(MemoryOut):
    """A memory after a write, with the log position to pass as `min_position` to later reads."""

    position: int


class MemoryBatchOut(Struct):
    """The memories a batch added, in request order."""

    memories: list[WriteOut]
    position: int


class MemoryHistoryOut(Struct):
    """Every version of a memory, oldest first."""

    id: str
    versions: list[HistoryEntryOut]


SearchModeName = Literal["hybrid", "vector", "text"]


class MemorySearchIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A search over the caller's memories."""

    query: Annotated[str, Meta(min_length=1, max_length=4_000, description="Natural language or websearch syntax.")]
    mode: SearchModeName = "hybrid"
    limit: Annotated[int, Meta(ge=1, le=100)] = 10
    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    run_id: ScopeId | None = None
    memory_type: MemoryType | list[MemoryType] | None = None
    filters: dict[str, Any] | None = None
    created_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    valid_at: AwareDatetime | None = None
    min_score: float | None = None
    min_position: Annotated[int, Meta(ge=0)] | None = None


class MemoryHitOut(MemoryOut):
    """A search result: the memory, its fused score and its rank in each ranking (null if absent there)."""

    score: float
    vector_rank: int | None
    text_rank: int | None


class MemorySearchOut(Struct):
    """Search results, best first, and where the time went."""

    results: list[MemoryHitOut]
    mode: str
    embedding_ms: float
    search_ms: float


class MemoryPageOut(Struct):
    """One page of memories; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[MemoryOut]
    next_cursor: str | None

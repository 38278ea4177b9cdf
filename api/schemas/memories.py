"""Request and response bodies of /v1/memories."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Response
from msgspec import UNSET, Meta, Struct, UnsetType

from agentmem.api.responses import written
from agentmem.api.schemas.common import WriteOut
from agentmem.application.base import Saved
from agentmem.application.memories import MAX_BATCH
from agentmem.domain.episode import MAX_CONTENT_CHARS, MAX_MESSAGES, MAX_NAME_CHARS
from agentmem.domain.memory import MAX_SCOPE_ID_CHARS, MAX_TEXT_CHARS, Memory
from agentmem.projections.queries import Hit, MemoryRow

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


class ConversationMessage(Struct, forbid_unknown_fields=True, kw_only=True):
    """One message of a conversation to remember (mem0's shape)."""

    role: Literal["user", "assistant", "system", "tool"]
    content: Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
    name: Annotated[str, Meta(min_length=1, max_length=MAX_NAME_CHARS)] | None = None
    created_at: AwareDatetime | None = None


class MemoryAdd(Struct, forbid_unknown_fields=True, kw_only=True):
    """A memory to add (`text`), or a conversation to remember (`messages`): with `infer` (the default for
    messages) the model extracts the facts in a job (202); without, each message becomes an episodic memory (201)."""

    text: Text | None = None
    messages: Annotated[list[ConversationMessage], Meta(min_length=1, max_length=MAX_MESSAGES)] | None = None
    infer: bool | None = None
    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    run_id: ScopeId | None = None
    memory_type: MemoryType | None = None
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
    min_score: Annotated[float, Meta(ge=-1e6, le=1e6)] | None = None
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
    vector_index: Literal["exact", "hnsw"] | None = None


class MemoryPageOut(Struct):
    """One page of memories; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[MemoryOut]
    next_cursor: str | None


def memory_fields(memory: Memory | MemoryRow) -> dict[str, Any]:
    """The fields every memory answer shows, from the aggregate (by-id reads) or a read-model row (lists, search)."""
    if isinstance(memory, Memory):
        created, updated = memory.created_on, memory.modified_on
    else:
        created, updated = memory.created_at, memory.updated_at
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
        "created_at": created,
        "updated_at": updated,
        "created_by": memory.created_by,
        "updated_by": memory.updated_by,
    }


def hit_out(hit: Hit) -> MemoryHitOut:
    return MemoryHitOut(
        **memory_fields(hit.memory), score=round(hit.score, 6), vector_rank=hit.vector_rank, text_rank=hit.text_rank
    )


def memory_written(saved: Saved[Memory], status_code: int = 200) -> Response[MemoryWriteOut]:
    """The answer to a write on a memory: the memory, the position to read after, its version as ETag."""
    body = MemoryWriteOut(**memory_fields(saved.aggregate), position=saved.position)
    return written(body, saved.position, saved.aggregate.version, status_code)

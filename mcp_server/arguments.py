"""The arguments of each MCP tool: msgspec Structs that give the JSON Schema an LLM sees and decode strictly."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

MemoryType = Literal["core", "episodic", "semantic", "procedural", "resource", "knowledge"]
ScopeId = Annotated[str, Meta(min_length=1, max_length=255)]
Text = Annotated[str, Meta(min_length=1, max_length=20_000, description="The memory's text.")]
Instant = Annotated[datetime, Meta(tz=True, description="ISO-8601 with a time zone, e.g. 2026-01-01T00:00:00Z.")]
Limit = Annotated[int, Meta(ge=1, le=100, description="How many to return.")]
Cursor = Annotated[str, Meta(max_length=512, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[
    int,
    Meta(ge=0, description="Wait until the read model holds this log position (default: your own newest write)."),
]
Filters = Annotated[
    dict[str, Any],
    Meta(description='Metadata filter: {"topic": "tea"}, {"score": {"gte": 3}}, {"or": [...]}, {"not": {...}}.'),
]
Order = Literal["created_desc", "created_asc", "updated_desc", "updated_asc"]
ExpectedVersion = Annotated[
    int, Meta(ge=1, description="Refuse the change if the memory is no longer at this version.")
]


class Scoped(Struct, forbid_unknown_fields=True, kw_only=True):
    """Whose memories: a user, an agent and/or a run (all optional)."""

    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    run_id: ScopeId | None = None


class MessageIn(Struct, forbid_unknown_fields=True, kw_only=True):
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: Text


class AddMemory(Scoped, kw_only=True):
    """Stores a memory: `text`, or `messages` of a conversation (each message one episodic memory)."""

    text: Text | None = None
    messages: Annotated[list[MessageIn], Meta(min_length=1, max_length=100)] | None = None
    infer: Annotated[
        bool, Meta(description="Extract facts from `messages` with a language model (not available yet).")
    ] = False
    memory_type: MemoryType | None = None
    metadata: dict[str, Any] = {}
    valid_from: Instant | None = None
    valid_to: Instant | None = None


class SearchMemories(Scoped, kw_only=True):
    """Finds memories by meaning and words (hybrid), by meaning only (vector) or by words only (text)."""

    query: Annotated[str, Meta(min_length=1, max_length=4_000)]
    mode: Literal["hybrid", "vector", "text"] = "hybrid"
    limit: Limit = 10
    memory_type: list[MemoryType] | None = None
    filters: Filters | None = None
    min_score: float | None = None
    min_position: MinPosition | None = None


class MemoryId(Struct, forbid_unknown_fields=True, kw_only=True):
    memory_id: UUID


class GetMemory(MemoryId, kw_only=True):
    """Reads a memory now, at a version, or as it was at an instant."""

    version: Annotated[int, Meta(ge=1)] | None = None
    as_of: Instant | None = None
    include_deleted: bool = False


class UpdateMemory(MemoryId, kw_only=True):
    """Changes a memory's text, type, metadata or validity (absent fields stay)."""

    text: Text | UnsetType = UNSET
    memory_type: MemoryType | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    valid_from: Instant | UnsetType | None = UNSET
    valid_to: Instant | UnsetType | None = UNSET
    expected_version: ExpectedVersion | None = None


class DeleteMemory(MemoryId, kw_only=True):
    """Deletes a memory (a soft delete: its history stays)."""

    expected_version: ExpectedVersion | None = None


class ListMemories(Scoped, kw_only=True):
    """Lists memories, newest first by default, a page at a time."""

    memory_type: list[MemoryType] | None = None
    filters: Filters | None = None
    order: Order = "created_desc"
    limit: Limit = 20
    cursor: Cursor | None = None
    include_deleted: bool = False
    min_position: MinPosition | None = None


class ListBlocks(Struct, forbid_unknown_fields=True, kw_only=True):
    """Lists core-memory blocks: all of them, by label, or those attached to an agent."""

    agent_id: UUID | None = None
    label: Annotated[str, Meta(max_length=64)] | None = None
    limit: Limit = 20
    cursor: Cursor | None = None
    min_position: MinPosition | None = None


class GetBlock(Struct, forbid_unknown_fields=True, kw_only=True):
    """Reads a block by id, or an agent's block by label; now, at a version, or at an instant."""

    block_id: UUID | None = None
    agent_id: UUID | None = None
    label: Annotated[str, Meta(max_length=64)] | None = None
    version: Annotated[int, Meta(ge=1)] | None = None
    as_of: Instant | None = None


class CoreMemoryAppend(Struct, forbid_unknown_fields=True, kw_only=True):
    """Appends text to one of an agent's blocks, by label."""

    agent_id: UUID
    label: Annotated[str, Meta(min_length=1, max_length=64)]
    content: Annotated[str, Meta(min_length=1, max_length=100_000)]


class CoreMemoryReplace(Struct, forbid_unknown_fields=True, kw_only=True):
    """Replaces text in one of an agent's blocks, by label (an empty new_content deletes old_content)."""

    agent_id: UUID
    label: Annotated[str, Meta(min_length=1, max_length=64)]
    old_content: Annotated[str, Meta(min_length=1, max_length=100_000)]
    new_content: Annotated[str, Meta(max_length=100_000)]

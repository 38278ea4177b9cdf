"""Typed results: msgspec Structs like the server's answers; unknown fields are ignored (newer servers add them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from msgspec import Struct, field

T = TypeVar("T")
MemoryType = Literal["core", "episodic", "semantic", "procedural", "resource", "knowledge"]
SearchMode = Literal["hybrid", "vector", "text"]
Order = Literal["created_desc", "created_asc", "updated_desc", "updated_asc"]


class Page(Struct, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (None at the end)."""

    items: list[T]
    next_cursor: str | None = None


class Written(Struct):
    """Where a write landed: the aggregate, its version and the log position (pass as `min_position`)."""

    id: str
    version: int
    position: int


class Deleted(Struct):
    """A soft delete: the log position of its event."""

    id: str
    position: int


class Memory(Struct, kw_only=True):
    """A memory at one version."""

    id: str
    version: int
    text: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    memory_type: str = "semantic"
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    deleted: bool = False
    created_at: datetime
    updated_at: datetime
    created_by: str = ""
    updated_by: str = ""


class MemoryWrite(Memory, kw_only=True):
    """A memory after a write, with the log position."""

    position: int


class BatchWrite(Struct):
    """The memories a batch added, in request order, and the position of the last one."""

    memories: list[Written]
    position: int


class MemoryHit(Memory, kw_only=True):
    """A search result: the memory, its fused score, and its rank in each ranking (None if absent there)."""

    score: float
    vector_rank: int | None = None
    text_rank: int | None = None


class SearchResult(Struct, kw_only=True):
    """Hits, best first, and where the time went."""

    results: list[MemoryHit]
    mode: str
    embedding_ms: float = 0.0
    search_ms: float = 0.0
    vector_index: str | None = None


class Change(Struct):
    """A field's value before and after one event."""

    old: Any
    new: Any


class HistoryEntry(Struct, kw_only=True):
    """One version: the event that made it, when, by whom, in which request, changing what."""

    version: int
    event_type: str
    timestamp: datetime
    actor_id: str
    request_id: str
    changes: dict[str, Change] = field(default_factory=dict)


class History(Struct):
    """Every version of a memory, block or agent, oldest first."""

    id: str
    versions: list[HistoryEntry]


class Block(Struct, kw_only=True):
    """A core-memory block at one version; `size` is the value's length."""

    id: str
    version: int
    label: str
    value: str
    size: int
    limit: int
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    created_at: datetime
    updated_at: datetime
    created_by: str = ""
    updated_by: str = ""


class BlockWrite(Block, kw_only=True):
    position: int


class Agent(Struct, kw_only=True):
    """An agent at one version."""

    id: str
    version: int
    name: str
    description: str | None = None
    system: str = ""
    llm: dict[str, Any] | None = None
    embedding: dict[str, Any] | None = None
    block_ids: list[str] = field(default_factory=list)
    tool_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    context_template: str | None = None
    deleted: bool = False
    created_at: datetime
    updated_at: datetime
    created_by: str = ""
    updated_by: str = ""


class AgentWrite(Agent, kw_only=True):
    position: int


class ContextBlock(Struct):
    """A block as it went into a compiled context."""

    id: str
    label: str
    version: int
    size: int
    limit: int


class AgentContext(Struct, kw_only=True):
    """The system prompt an agent would be given, and what it was made of."""

    agent_id: str
    agent_version: int
    as_of: datetime | None = None
    context: str
    size: int
    blocks: list[ContextBlock] = field(default_factory=list)
    hash: str = ""


class Message(Struct, kw_only=True):
    """A message of an agent's conversation; `seq` counts from 0."""

    id: str
    agent_id: str
    seq: int
    role: str
    content: str
    name: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    created_at: datetime
    created_by: str = ""
    run_id: str | None = None
    incomplete: bool = False
    summary_of: list[int] | None = None


class MessagesWrite(Struct):
    """Appended messages in order, and the log position."""

    messages: list[Message]
    position: int


class MessageHit(Message, kw_only=True):
    score: float
    vector_rank: int | None = None
    text_rank: int | None = None


class MessageSearchResult(Struct, kw_only=True):
    results: list[MessageHit]
    mode: str
    embedding_ms: float = 0.0
    search_ms: float = 0.0


class ApiKey(Struct, kw_only=True):
    """An API key's record (never the key itself)."""

    id: str
    name: str
    role: str
    prefix: str
    user_id: str | None = None
    created_by: str = ""
    created_at: datetime
    expires_at: datetime | None = None
    revoked: bool = False


class ApiKeyCreated(ApiKey, kw_only=True):
    """A new key: `key` is shown only this once."""

    key: str
    position: int


class User(Struct, kw_only=True):
    id: str
    email: str
    name: str = ""
    role: str
    superadmin: bool = False
    disabled: bool = False
    version: int
    created_at: datetime
    updated_at: datetime


class UserWrite(User, kw_only=True):
    position: int


class Organization(Struct, kw_only=True):
    id: str
    name: str
    status: str
    quotas: dict[str, int | None] = field(default_factory=dict)
    version: int
    created_at: datetime
    updated_at: datetime


class OrganizationWrite(Organization, kw_only=True):
    position: int


class OrganizationCreated(OrganizationWrite, kw_only=True):
    """A new organization and its first owner API key (shown only this once)."""

    owner_api_key: str
    owner_api_key_id: str


class AuditEntry(Struct, kw_only=True):
    """One event of the organization: who did what to which aggregate, when, in which request."""

    position: int
    actor_id: str
    action: str
    aggregate_type: str
    aggregate_id: str
    version: int
    timestamp: datetime
    request_id: str


class Me(Struct, kw_only=True):
    """Who the credentials belong to and what they may do."""

    kind: str
    actor_id: str
    organization_id: str
    organization_name: str
    role: str
    superadmin: bool = False
    permissions: list[str] = field(default_factory=list)
    user_id: str | None = None
    key_id: str | None = None
    token_expires_at: datetime | None = None
    requests_per_minute: int = 0
    max_memories: int = 0


class Token(Struct):
    """A bearer token for a user."""

    access_token: str
    token_type: str
    expires_in: int
    expires_at: datetime


class ChatResult(Struct, kw_only=True):
    """A finished chat turn: the run, how it ended, the messages it added and the tokens it used."""

    run_id: str
    status: str
    stop_reason: str
    steps: int
    messages: list[Message] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    position: int = 0

    @property
    def text(self) -> str:
        """The last assistant message's text (the answer)."""
        said = [m.content for m in self.messages if m.role == "assistant" and m.content]
        return said[-1] if said else ""


class RunEvent(Struct):
    """One event of a streamed run: `id` (`<run_id>:<seq>`), `event` (run.started, message.delta, tool.call,
    tool.result, message.completed, error, run.completed) and its data."""

    id: str
    event: str
    data: dict[str, Any]


class Run(Struct, kw_only=True):
    """A run as the server recorded it: status, model, context hash, each step's usage and latency."""

    id: str
    agent_id: str
    status: str
    stop_reason: str | None = None
    error: str | None = None
    provider: str = ""
    model: str = ""
    context_hash: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None

"""Request and response bodies of /v1/agents/{agent_id}/messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from agentmem.application.conversations import MAX_APPEND, Message
from agentmem.domain.conversation import MAX_CONTENT_CHARS, MAX_NAME_CHARS, MAX_TOOL_CALLS

Role = Literal["user", "assistant", "system", "tool"]


class FunctionCall(Struct, forbid_unknown_fields=True):
    """The function a tool call invokes and its arguments (a JSON string, as models produce them)."""

    name: Annotated[str, Meta(min_length=1, max_length=255)]
    arguments: Annotated[str, Meta(max_length=32_768)] = "{}"


class ToolCall(Struct, forbid_unknown_fields=True, kw_only=True):
    """A tool call an assistant message makes (OpenAI's shape)."""

    id: Annotated[str, Meta(min_length=1, max_length=255)]
    type: Literal["function"] = "function"
    function: FunctionCall


class MessageIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """One message to append."""

    role: Role
    content: Annotated[str, Meta(max_length=MAX_CONTENT_CHARS)] = ""
    name: Annotated[str, Meta(min_length=1, max_length=MAX_NAME_CHARS)] | None = None
    tool_calls: Annotated[list[ToolCall], Meta(max_length=MAX_TOOL_CALLS)] = []
    tool_call_id: Annotated[str, Meta(min_length=1, max_length=255)] | None = None


class MessagesIn(Struct, forbid_unknown_fields=True):
    """Messages to append in order, atomically."""

    messages: Annotated[list[MessageIn], Meta(min_length=1, max_length=MAX_APPEND)]


class MessageOut(Struct):
    """A message of an agent's conversation; `seq` counts from 0 in conversation order."""

    id: str
    agent_id: str
    seq: int
    role: str
    content: str
    name: str | None
    tool_calls: list[dict[str, Any]]
    tool_call_id: str | None
    created_at: datetime
    created_by: str
    run_id: str | None = None
    incomplete: bool = False
    summary_of: list[int] | None = None


class MessagesOut(Struct):
    """The appended messages in order, and the log position to pass as `min_position` to searches."""

    messages: list[MessageOut]
    position: int


class MessagePageOut(Struct):
    """One page of messages in order; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[MessageOut]
    next_cursor: str | None


class MessageSearchIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A search over one agent's conversation."""

    query: Annotated[str, Meta(min_length=1, max_length=4_000, description="Natural language or websearch syntax.")]
    mode: Literal["hybrid", "vector", "text"] = "hybrid"
    limit: Annotated[int, Meta(ge=1, le=100)] = 10
    role: Role | list[Role] | None = None
    created_after: Annotated[datetime, Meta(tz=True)] | None = None
    created_before: Annotated[datetime, Meta(tz=True)] | None = None
    min_score: float | None = None
    min_position: Annotated[int, Meta(ge=0)] | None = None


class MessageHitOut(MessageOut, kw_only=True):
    """A search result: the message, its fused score and its rank in each ranking (null if absent there)."""

    score: float
    vector_rank: int | None
    text_rank: int | None


class MessageSearchOut(Struct):
    """Search results, best first, and where the time went."""

    results: list[MessageHitOut]
    mode: str
    embedding_ms: float
    search_ms: float


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=str(message.id),
        agent_id=str(message.agent_id),
        seq=message.seq,
        role=message.role,
        content=message.content,
        name=message.name,
        tool_calls=message.tool_calls,
        tool_call_id=message.tool_call_id,
        created_at=message.created_at,
        created_by=message.created_by,
        run_id=message.run_id,
        incomplete=message.incomplete,
        summary_of=message.summary_of,
    )

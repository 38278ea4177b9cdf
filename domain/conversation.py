"""An agent's conversation: messages as events, in segments of a fixed number of messages.

Why segments (the aggregate boundary): an append must load the aggregate it appends to, to know the next index
and to get optimistic concurrency on it. One aggregate per conversation would make every append replay the whole
conversation (O(n) at 100,000 messages) and one aggregate per message would give no ordering or concurrency
guard at all. A segment holds at most SEGMENT_SIZE messages, so loading the current one is O(SEGMENT_SIZE)
whatever the conversation's length (and O(1) with the application's aggregate cache); two writers racing for the
same slot collide on the segment's version, so messages get one total order with no gaps.

Segment ids are derived from the agent id and the segment number, and segment n + 1 is opened only when
segment n is full, so the head is found by probing ids, and a message id encodes its (segment, index): reads by
id and cursor pages go straight to the right events in the log, without a side table or a read model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

SEGMENT_SIZE = 1_000
ROLES = ("user", "assistant", "system", "tool")
MAX_CONTENT_CHARS = 100_000
MAX_NAME_CHARS = 64
MAX_TOOL_CALLS = 64
MAX_TOOL_CALLS_BYTES = 65_536
CONVERSATION_NAMESPACE = UUID("0b5d6c57-8a5e-4f0e-b5f6-3c1a9a7e2d41")
_SLOT_BITS = 48
_INDEX_BITS = 16


class ConversationRuleError(DomainError):
    """A conversation rule refused a change."""


class InvalidMessageError(ConversationRuleError, InvalidInput):
    """A message field breaks a rule; `field` names it."""


class SegmentFullError(ConversationRuleError, Conflict):
    """The segment holds SEGMENT_SIZE messages already; the next one goes to a new segment."""


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append."""

    role: str
    content: str
    name: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    run_id: str | None = None
    incomplete: bool = False
    summary_of: list[int] | None = None


def check_message(message: NewMessage, where: str = "") -> NewMessage:
    """Checks a message's fields; `where` prefixes the field name (e.g. `messages[2].`)."""
    if message.role not in ROLES:
        raise InvalidMessageError(f"{where}role", f"role must be one of {', '.join(ROLES)}")
    if not isinstance(message.content, str) or len(message.content) > MAX_CONTENT_CHARS:
        raise InvalidMessageError(f"{where}content", f"content must be at most {MAX_CONTENT_CHARS:,} characters")
    if not message.content and not message.tool_calls:
        raise InvalidMessageError(f"{where}content", "content must not be empty unless the message has tool_calls")
    if message.name is not None and not 1 <= len(message.name) <= MAX_NAME_CHARS:
        raise InvalidMessageError(f"{where}name", f"name must be 1 to {MAX_NAME_CHARS} characters")
    if message.tool_calls and message.role != "assistant":
        raise InvalidMessageError(f"{where}tool_calls", "only assistant messages carry tool_calls")
    if len(message.tool_calls) > MAX_TOOL_CALLS:
        raise InvalidMessageError(f"{where}tool_calls", f"a message carries at most {MAX_TOOL_CALLS} tool calls")
    if len(json.dumps(message.tool_calls, default=str).encode()) > MAX_TOOL_CALLS_BYTES:
        raise InvalidMessageError(f"{where}tool_calls", f"tool_calls must be at most {MAX_TOOL_CALLS_BYTES} bytes")
    if message.tool_call_id is not None and message.role != "tool":
        raise InvalidMessageError(f"{where}tool_call_id", "only tool messages answer a tool_call_id")
    summary = message.summary_of
    if summary is not None and (len(summary) != 2 or not 0 <= summary[0] <= summary[1] or message.role != "system"):
        raise InvalidMessageError(f"{where}summary_of", "summary_of is [first_seq, last_seq] of a system summary")
    return message


def segment_id(agent_id: UUID, number: int) -> UUID:
    """The id of an agent's conversation segment `number` (0, 1, 2, …)."""
    return uuid5(CONVERSATION_NAMESPACE, f"{agent_id}/segment/{number}")


def message_id(agent_id: UUID, segment: int, index: int) -> UUID:
    """A message's id: 80 bits bound to the agent by a hash, then its segment (32 bits) and index (16 bits).

    A UUID of version 8 (RFC 9562, custom layout): unique across agents, and it says where the message is.
    """
    digest = int.from_bytes(hashlib.sha256(f"{agent_id}/{segment}/{index}".encode()).digest()[:10], "big")
    high = digest >> 32  # 48 bits
    middle = (digest >> 20) & 0xFFF  # 12 bits
    low = digest & 0x3FFF  # 14 bits
    value = (high << 80) | (0x8 << 76) | (middle << 64) | (0b10 << 62) | (low << 48)
    return UUID(int=value | (segment << _INDEX_BITS) | index)


def message_slot(agent_id: UUID, candidate: UUID) -> tuple[int, int] | None:
    """The (segment, index) a message id points at, or None if it is not a message id of this agent."""
    slot = candidate.int & ((1 << _SLOT_BITS) - 1)
    segment, index = slot >> _INDEX_BITS, slot & ((1 << _INDEX_BITS) - 1)
    return (segment, index) if message_id(agent_id, segment, index) == candidate else None


class ConversationSegment(TenantAggregate):
    """Up to SEGMENT_SIZE consecutive messages of one agent's conversation (see the module docstring)."""

    class Created(TenantAggregate.Created):
        agent_id: UUID
        number: int
        first_seq: int
        capacity: int

    class MessageAppended(TenantAggregate.Event):
        """Version 2 added the run that said it, whether it was cut short, and what a summary covers."""

        class_version = 2
        agent_id: UUID
        message_id: UUID
        segment: int
        index: int
        seq: int
        role: str
        content: str
        name: str | None
        tool_calls: list[dict[str, Any]]
        tool_call_id: str | None
        run_id: str | None
        incomplete: bool
        summary_of: list[int] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Messages appended before runs existed belong to no run and are whole."""
            state.update(run_id=None, incomplete=False, summary_of=None)

        def apply(self, aggregate: Any) -> None:
            """Only the count lives in memory; the message itself stays in the event."""
            aggregate.count += 1

    @classmethod
    def open(cls, *, agent_id: UUID, number: int, context: Context, first_seq: int) -> ConversationSegment:
        """Opens segment `number` of the agent's conversation; its first message has sequence number first_seq."""
        return cls(
            id=segment_id(agent_id, number),
            agent_id=agent_id,
            number=number,
            first_seq=first_seq,
            capacity=SEGMENT_SIZE,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
        agent_id: UUID,
        number: int,
        first_seq: int,
        capacity: int,
    ) -> None:
        self.tenant_id = tenant_id
        self.agent_id = agent_id
        self.number = number
        self.first_seq = first_seq
        self.capacity = capacity
        self.count = 0

    @property
    def full(self) -> bool:
        return self.count >= self.capacity

    def next_segment(self, context: Context) -> ConversationSegment:
        """Opens the segment after this full one."""
        if not self.full:
            raise ConversationRuleError("only a full segment is followed by another")
        return ConversationSegment.open(
            agent_id=self.agent_id, number=self.number + 1, context=context, first_seq=self.first_seq + self.count
        )

    def append(self, context: Context, message: NewMessage) -> UUID:
        """Records the message at the next index; returns its id."""
        if self.full:
            raise SegmentFullError(f"segment {self.number} is full")
        check_message(message)
        new_id = message_id(self.agent_id, self.number, self.count)
        self.trigger_event(
            self.MessageAppended,
            agent_id=self.agent_id,
            message_id=new_id,
            segment=self.number,
            index=self.count,
            seq=self.first_seq + self.count,
            role=message.role,
            content=message.content,
            name=message.name,
            tool_calls=list(message.tool_calls),
            tool_call_id=message.tool_call_id,
            run_id=message.run_id,
            incomplete=message.incomplete,
            summary_of=list(message.summary_of) if message.summary_of is not None else None,
            **context.event_fields(),
        )
        return new_id

"""Conversations: append messages to an agent's conversation; read them by id and in pages, straight from the log.

Appends go to the head segment (see domain/conversation.py). The head is remembered per process and checked
on every append: a segment that is not full is the head, because segment n + 1 is only opened once n is full.
When the remembered segment is full (or none is remembered), the head is found by probing segment ids.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from agentmem.application.base import AgentMemApplication, ApplicationError, NotFoundError
from agentmem.domain.agent import Agent
from agentmem.domain.base import Context
from agentmem.domain.conversation import (
    ConversationSegment,
    NewMessage,
    check_message,
    message_slot,
    segment_id,
)
from agentmem.domain.errors import BadRequest, Conflict, InvalidInput

MAX_APPEND = 100
APPEND_RETRIES = 20
MAX_REMEMBERED_HEADS = 100_000
Order = Literal["asc", "desc"]


class ConversationNotFoundError(NotFoundError):
    """No such agent (or message) for this tenant."""


class ConversationBusyError(ApplicationError, Conflict):
    """Other writers kept winning the race for the conversation's next slot."""


class TooManyMessagesError(ApplicationError, InvalidInput):
    """One append holds more than MAX_APPEND messages."""


@dataclass(frozen=True, slots=True)
class Message:
    """A message as its event recorded it."""

    id: UUID
    agent_id: UUID
    segment: int
    index: int
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

    @classmethod
    def of(cls, event: ConversationSegment.MessageAppended) -> Message:
        return cls(
            id=event.message_id,
            agent_id=event.agent_id,
            segment=event.segment,
            index=event.index,
            seq=event.seq,
            role=event.role,
            content=event.content,
            name=event.name,
            tool_calls=event.tool_calls,
            tool_call_id=event.tool_call_id,
            created_at=event.timestamp,
            created_by=event.actor_id,
            run_id=event.run_id,
            incomplete=event.incomplete,
            summary_of=event.summary_of,
        )


@dataclass(frozen=True, slots=True)
class Appended:
    """The messages one append recorded, in order, and the log position of the last."""

    messages: list[Message]
    position: int


@dataclass(frozen=True, slots=True)
class MessagePage:
    """Messages in order and the (segment, index) to continue after, or None at the end."""

    messages: list[Message]
    next_slot: tuple[int, int] | None


def encode_slot(order: str, slot: tuple[int, int]) -> str:
    """An opaque cursor for the page after the message at `slot` (segment, index) in `order`."""
    return base64.urlsafe_b64encode(json.dumps([order, *slot]).encode()).decode().rstrip("=")


def decode_slot(cursor: str, order: str) -> tuple[int, int]:
    """The slot a cursor of `encode_slot` names (BadRequest for any other string or another order)."""
    try:
        cursor_order, segment, index = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = cursor_order == order and isinstance(segment, int) and isinstance(index, int)
    except Exception:  # noqa: BLE001 - any decoding failure is a bad cursor
        valid = False
    if not valid or segment < 0 or index < 0:
        raise BadRequest("invalid cursor for this list", field="cursor")
    return segment, index


class ConversationApplication(AgentMemApplication):
    """Appends and reads of agents' conversations."""

    aggregate_cache_size = 10_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._heads: dict[UUID, int] = {}

    def append(self, agent_id: UUID, messages: Sequence[NewMessage], context: Context) -> Appended:
        """Appends messages in order, atomically; retries when another writer took the next slot first."""
        if not 1 <= len(messages) <= MAX_APPEND:
            raise TooManyMessagesError("messages", f"append 1 to {MAX_APPEND} messages at a time, not {len(messages)}")
        for number, message in enumerate(messages):
            check_message(message, f"messages[{number}].")
        self._live_agent(agent_id, context.tenant_id)
        for _ in range(APPEND_RETRIES):
            segment = self._head(agent_id, context)
            touched = [segment]
            for message in messages:
                if segment.full:
                    segment = segment.next_segment(context)
                    touched.append(segment)
                segment.append(context, message)
            try:
                recordings = self.save(*touched)
            except IntegrityError:
                continue
            self._remember(agent_id, segment.number)
            events = [r.domain_event for r in recordings]
            appended = [Message.of(e) for e in events if isinstance(e, ConversationSegment.MessageAppended)]
            return Appended(appended, max(r.notification.id for r in recordings))
        raise ConversationBusyError(f"the conversation of agent {agent_id} is busy; try again")

    def page(
        self, agent_id: UUID, tenant_id: str, after: tuple[int, int] | None, limit: int, order: Order = "asc"
    ) -> MessagePage:
        """Up to `limit` messages after the slot `after` (exclusive), oldest first or newest first."""
        self._live_agent(agent_id, tenant_id)
        found: list[Message] = []
        if order == "asc":
            number, index = after if after is not None else (0, -1)
            while len(found) <= limit:
                found.extend(self._messages(agent_id, tenant_id, number, gt=index + 2, limit=limit + 1 - len(found)))
                if len(found) > limit or not self._exists(agent_id, number + 1):
                    break
                number, index = number + 1, -1
        else:
            number = after[0] if after is not None else self._head_number(agent_id, self._heads.get(agent_id, 0))
            before: int | None = after[1] if after is not None else None
            while len(found) <= limit and number >= 0:
                lte = before + 1 if before is not None else None
                found.extend(
                    self._messages(agent_id, tenant_id, number, lte=lte, desc=True, limit=limit + 1 - len(found))
                )
                number, before = number - 1, None
        more = len(found) > limit
        page = found[:limit]
        return MessagePage(page, (page[-1].segment, page[-1].index) if more and page else None)

    def get(self, agent_id: UUID, message_id: UUID, tenant_id: str) -> Message:
        """One message of the agent's conversation, by id."""
        self._live_agent(agent_id, tenant_id)
        slot = message_slot(agent_id, message_id)
        found = self._messages(agent_id, tenant_id, slot[0], gt=slot[1] + 1, limit=1) if slot else []
        if not found or found[0].id != message_id:
            raise ConversationNotFoundError(f"message {message_id} not found")
        return found[0]

    def _messages(
        self,
        agent_id: UUID,
        tenant_id: str,
        number: int,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[Message]:
        """Messages of one segment by event version (message `index` is version index + 2)."""
        events = self.events.get(segment_id(agent_id, number), gt=gt, lte=lte, desc=desc, limit=limit)
        return [
            Message.of(e)
            for e in events
            if isinstance(e, ConversationSegment.MessageAppended) and e.tenant_id == tenant_id
        ]

    def _live_agent(self, agent_id: UUID, tenant_id: str) -> Agent:
        agent = self.load(Agent, agent_id, tenant_id)
        if agent is None or agent.deleted:
            raise ConversationNotFoundError(f"agent {agent_id} not found")
        return agent

    def _head(self, agent_id: UUID, context: Context) -> ConversationSegment:
        """The segment to append to: the remembered one if it is not full, else the last one (maybe a new one)."""
        number = self._heads.get(agent_id)
        segment = self._segment(agent_id, number, context.tenant_id) if number is not None else None
        if segment is None or segment.full:
            number = self._head_number(agent_id, number or 0)
            segment = self._segment(agent_id, number, context.tenant_id)
        if segment is None:
            return ConversationSegment.open(agent_id=agent_id, number=0, context=context, first_seq=0)
        return segment

    def _head_number(self, agent_id: UUID, start: int = 0) -> int:
        """The last segment's number, probing ids from `start` (gallop, then bisect); 0 if there is none."""
        if start and not self._exists(agent_id, start):
            start = 0
        if not self._exists(agent_id, start):
            return start
        low, step = start, 1
        while self._exists(agent_id, low + step):
            low, step = low + step, step * 2
        high = low + step
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self._exists(agent_id, middle) else (low, middle)
        return low

    def _exists(self, agent_id: UUID, number: int) -> bool:
        return bool(self.recorder.select_events(segment_id(agent_id, number), limit=1))

    def _segment(self, agent_id: UUID, number: int, tenant_id: str) -> ConversationSegment | None:
        return self.load(ConversationSegment, segment_id(agent_id, number), tenant_id)

    def _remember(self, agent_id: UUID, number: int) -> None:
        if len(self._heads) >= MAX_REMEMBERED_HEADS:
            self._heads.clear()
        self._heads[agent_id] = number

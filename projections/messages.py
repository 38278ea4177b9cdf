"""The messages read model: conversation messages as memory-shaped rows, so hybrid search works on them too.

Each message becomes a row of a searchable (memory-shaped) table: `agent_id` and `run_id` are the agent's id
(so the previous messages of the conversation give each one its embedding context, and neighbours smooth the
scores), `memory_type` is `episodic`, the text is `role: content` (`role (name): content` for named messages),
and the metadata keeps the role, name, tool calls and where the message sits in the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentmem.domain.conversation import ConversationSegment
from agentmem.projections.base import Envelope, Tracking
from agentmem.projections.memories import MemoriesProjection, NewRow

MESSAGE_TOPIC = f"{ConversationSegment.__module__}:{ConversationSegment.MessageAppended.__qualname__}"
MESSAGE_MEMORY_TYPE = "episodic"


def message_prefix(role: str, name: str | None) -> str:
    """What the searchable text puts before a message's content."""
    return f"{role} ({name}): " if name else f"{role}: "


def message_content(text: str, metadata: dict[str, Any]) -> str:
    """A message's content, back from its searchable text."""
    return text.removeprefix(message_prefix(str(metadata.get("role")), metadata.get("name")))


def message_metadata(event: ConversationSegment.MessageAppended) -> dict[str, Any]:
    metadata: dict[str, Any] = {"role": event.role, "segment": event.segment, "index": event.index, "seq": event.seq}
    if event.name is not None:
        metadata["name"] = event.name
    if event.tool_calls:
        metadata["tool_calls"] = event.tool_calls
    if event.tool_call_id is not None:
        metadata["tool_call_id"] = event.tool_call_id
    if event.run_id is not None:
        metadata["run_id"] = event.run_id
    if event.incomplete:
        metadata["incomplete"] = True
    return metadata


class MessagesProjection(MemoriesProjection):
    """Turns appended messages into rows and contextual vectors of a searchable read model."""

    def wants(self, topic: str) -> bool:
        return topic == MESSAGE_TOPIC

    def new_rows(self, events: Sequence[Envelope]) -> list[NewRow]:
        return [
            self._message_row(envelope.position, envelope.event)
            for envelope in events
            if isinstance(envelope.event, ConversationSegment.MessageAppended)
        ]

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        self.view.apply(self.new_rows(events), [], tracking, self.embed_documents)

    @staticmethod
    def _message_row(position: int, event: ConversationSegment.MessageAppended) -> NewRow:
        return NewRow(
            id=event.message_id,
            tenant_id=event.tenant_id,
            user_id=None,
            agent_id=str(event.agent_id),
            run_id=str(event.agent_id),
            memory_type=MESSAGE_MEMORY_TYPE,
            text=message_prefix(event.role, event.name) + event.content,
            metadata=message_metadata(event),
            valid_from=None,
            valid_to=None,
            created_at=event.timestamp,
            created_by=event.actor_id,
            position=position,
        )

"""The memories read model: one row per memory with its vector and full-text document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.domain.memory import Memory
from agentmem.projections.base import Envelope, Tracking
from agentmem.projections.embedding import Embedder, Vectors

MEMORY_TOPIC_PREFIX = f"{Memory.__module__}:{Memory.__qualname__}."


@dataclass(slots=True)
class NewRow:
    """A memory as its Created event describes it."""

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
    created_at: datetime
    created_by: str
    position: int


@dataclass(slots=True)
class RowChange:
    """Later events of one memory: changed columns, the new version and who made it."""

    id: UUID
    version: int
    position: int
    updated_at: datetime
    updated_by: str
    columns: dict[str, Any] = field(default_factory=dict)


class MemoryView(Protocol):
    """Where the memories read model lives (PostgreSQL tables in production)."""

    def apply(
        self,
        rows: Sequence[NewRow],
        changes: Sequence[RowChange],
        tracking: Tracking,
        embed: Callable[[Sequence[tuple[str, Sequence[str]]]], Vectors],
    ) -> None:
        """Embeds the new rows with `embed((text, context_texts))`, then in one transaction inserts them, applies
        changes in order, re-embeds every memory whose document changed (its text or its run's context) and
        moves tracking."""
        ...

    def preview_documents(self, earlier: Sequence[NewRow], rows: Sequence[NewRow]) -> list[tuple[str, Sequence[str]]]:
        """What `apply` will most likely embed for `rows` (text, context), once `earlier` rows (the batch being
        applied now, committed or not) are in: read outside any transaction, for embedding ahead of time."""
        ...


CONTEXT_TURNS = 2
"""How many previous live memories of the same run a memory's embedded document carries (the read model's SQL
reads this many, too)."""


def document(text: str, context: Sequence[str]) -> str:
    """The text embedded for a memory: its own text, then the previous live memories of its run, newest first.

    Conversation turns are often meaningless alone ("Yes, last week!"); the preceding turns of the same run
    say what they are about. Measured on LoCoMo: +0.045 recall@10 in hybrid search. Newest first, so the
    model's 256-token truncation drops the oldest context first.
    """
    return "\n".join([text, *context[:CONTEXT_TURNS]])


class MemoriesProjection:
    """Turns memory events into read-model rows and contextual vectors."""

    def __init__(self, name: str, view: MemoryView, embedder: Embedder) -> None:
        self._name = name
        self.view = view
        self.embedder = embedder

    @property
    def name(self) -> str:
        return self._name

    def wants(self, topic: str) -> bool:
        return topic.startswith(MEMORY_TOPIC_PREFIX)

    def embed_documents(self, items: Sequence[tuple[str, Sequence[str]]]) -> Vectors:
        return self.embedder.embed([document(text, context) for text, context in items])

    def warm(self, current: Sequence[Envelope], ahead: Sequence[Envelope]) -> None:
        """Embeds the next batch's new memories while the current one is being written (the runner calls this
        in a background thread). Speculative: the vectors land in the embedding cache under their document's
        hash, so `apply` finds them if the documents came out the same, and embeds afresh if not (e.g. when
        the current batch deleted a memory that was context)."""
        rows = self.new_rows(ahead)
        if rows:
            self.embed_documents(self.view.preview_documents(self.new_rows(current), rows))

    def new_rows(self, events: Sequence[Envelope]) -> list[NewRow]:
        return [self._new_row(e.position, e.event) for e in events if isinstance(e.event, Memory.Created)]

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        rows: list[NewRow] = []
        changes: list[RowChange] = []
        for envelope in events:
            event = envelope.event
            if isinstance(event, Memory.Created):
                rows.append(self._new_row(envelope.position, event))
                continue
            change = RowChange(
                id=event.originator_id,
                version=event.originator_version,
                position=envelope.position,
                updated_at=event.timestamp,
                updated_by=event.actor_id,
            )
            if isinstance(event, Memory.Updated):
                change.columns = dict(event.changes)
            elif isinstance(event, Memory.Deleted):
                change.columns = {"deleted": True}
            elif isinstance(event, Memory.Restored):
                change.columns = {"deleted": False}
            changes.append(change)
        self.view.apply(rows, changes, tracking, self.embed_documents)

    @staticmethod
    def _new_row(position: int, event: Memory.Created) -> NewRow:
        return NewRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            user_id=event.user_id,
            agent_id=event.agent_id,
            run_id=event.run_id,
            memory_type=event.memory_type,
            text=event.text,
            metadata=event.metadata,
            valid_from=event.valid_from,
            valid_to=event.valid_to,
            created_at=event.timestamp,
            created_by=event.actor_id,
            position=position,
        )

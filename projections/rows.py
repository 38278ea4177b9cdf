"""Plain row read models: one row per aggregate, created by its Created event and changed by the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.projections.base import Envelope, Tracking


@dataclass(slots=True)
class Change:
    """A later event of one row: columns to set, text to append to a column, ids to add to or remove from one."""

    id: UUID
    version: int
    position: int
    updated_at: datetime
    updated_by: str
    columns: dict[str, Any] = field(default_factory=dict)
    appended: dict[str, str] = field(default_factory=dict)
    added: dict[str, list[UUID]] = field(default_factory=dict)
    removed: dict[str, list[UUID]] = field(default_factory=dict)

    @classmethod
    def of(cls, envelope: Envelope) -> Change:
        event = envelope.event
        return cls(event.originator_id, event.originator_version, envelope.position, event.timestamp, event.actor_id)


class RowView(Protocol):
    """Where a row read model lives (a PostgreSQL table in production)."""

    def apply(self, rows: Sequence[tuple[Any, int]], changes: Sequence[Change], tracking: Tracking) -> None:
        """In one transaction: inserts the (row, position) pairs, applies the changes in order, moves tracking."""
        ...


class RowProjection:
    """Turns one aggregate type's events into rows: subclasses say which events and how they map."""

    created: type
    topic_prefix: str

    def __init__(self, view: RowView, name: str) -> None:
        self._name = name
        self.view = view

    @property
    def name(self) -> str:
        return self._name

    def wants(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        rows: list[tuple[Any, int]] = []
        changes: list[Change] = []
        for envelope in events:
            if isinstance(envelope.event, self.created):
                rows.append((self.row(envelope.event), envelope.position))
            else:
                changes.append(self.process_event(envelope))
        self.view.apply(rows, changes, tracking)

    def row(self, event: Any) -> Any:
        """The row a Created event makes."""
        raise NotImplementedError

    def process_event(self, envelope: Envelope) -> Change:
        """The change one later event makes to its row."""
        raise NotImplementedError

"""The blocks read model: one row per block, so blocks can be listed by label and by the agents using them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.domain.block import Block
from agentmem.projections.base import Envelope, Tracking
from agentmem.projections.queries import ListOrder

BLOCK_TOPIC_PREFIX = f"{Block.__module__}:{Block.__qualname__}."
READ_MODEL = "blocks"


@dataclass(frozen=True, slots=True)
class BlockRow:
    """A block as the read model holds it."""

    id: UUID
    tenant_id: str
    label: str
    value: str
    limit: int
    description: str | None
    read_only: bool
    metadata: dict[str, Any]
    version: int
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


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


@dataclass(frozen=True, slots=True)
class BlockPage:
    """One page of blocks and the cursor for the next (None at the end)."""

    items: list[BlockRow]
    next_cursor: str | None


class BlockView(Protocol):
    """Where the blocks read model lives (a PostgreSQL table in production)."""

    def apply(self, rows: Sequence[tuple[BlockRow, int]], changes: Sequence[Change], tracking: Tracking) -> None:
        """In one transaction: inserts the (row, position) pairs, applies the changes in order, moves tracking."""
        ...


class BlockQueries(Protocol):
    """Lists over the blocks read model."""

    async def list(
        self,
        tenant_id: str,
        *,
        label: str | None,
        agent_id: UUID | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> BlockPage: ...


class BlocksProjection:
    """Turns block events into rows of the blocks read model."""

    def __init__(self, view: BlockView, name: str = READ_MODEL) -> None:
        self._name = name
        self.view = view

    @property
    def name(self) -> str:
        return self._name

    def wants(self, topic: str) -> bool:
        return topic.startswith(BLOCK_TOPIC_PREFIX)

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        rows: list[tuple[BlockRow, int]] = []
        changes: list[Change] = []
        for envelope in events:
            event = envelope.event
            if isinstance(event, Block.Created):
                rows.append((self._row(event), envelope.position))
            else:
                changes.append(self.process_event(envelope))
        self.view.apply(rows, changes, tracking)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its block's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, (Block.ValueReplaced, Block.Reverted)):
            change.columns = {"value": event.value}
        elif isinstance(event, Block.ValueAppended):
            change.appended = {"value": event.text}
        elif isinstance(event, Block.LimitChanged):
            change.columns = {"limit": event.limit}
        elif isinstance(event, Block.DetailsChanged):
            change.columns = dict(event.changes)
        elif isinstance(event, Block.Deleted):
            change.columns = {"deleted": True}
        elif isinstance(event, Block.Restored):
            change.columns = {"deleted": False}
        return change

    @staticmethod
    def _row(event: Block.Created) -> BlockRow:
        return BlockRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            label=event.label,
            value=event.value,
            limit=event.limit,
            description=event.description,
            read_only=event.read_only,
            metadata=event.metadata,
            version=1,
            deleted=False,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            created_by=event.actor_id,
            updated_by=event.actor_id,
        )

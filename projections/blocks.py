"""The blocks read model: one row per block, so blocks can be listed by label and by the agents using them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.domain.block import Block
from agentmem.projections.base import Envelope
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change, RowProjection, RowView

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


@dataclass(frozen=True, slots=True)
class BlockPage:
    """One page of blocks and the cursor for the next (None at the end)."""

    items: list[BlockRow]
    next_cursor: str | None


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


class BlocksProjection(RowProjection):
    """Turns block events into rows of the blocks read model."""

    created = Block.Created
    topic_prefix = BLOCK_TOPIC_PREFIX

    def __init__(self, view: RowView, name: str = READ_MODEL) -> None:
        super().__init__(view, name)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its block's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, (Block.ValueReplaced, Block.ValueRewritten, Block.Reverted)):
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
    def row(event: Block.Created) -> BlockRow:
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

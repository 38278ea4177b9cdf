"""The agents read model: one row per agent, so agents can be listed by tag and blocks by the agents using them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.domain.agent import Agent
from agentmem.projections.base import Envelope
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change, RowProjection, RowView

AGENT_TOPIC_PREFIX = f"{Agent.__module__}:{Agent.__qualname__}."
READ_MODEL = "agents"


@dataclass(frozen=True, slots=True)
class AgentRow:
    """An agent as the read model holds it."""

    id: UUID
    tenant_id: str
    name: str
    description: str | None
    system: str
    llm: dict[str, Any] | None
    embedding: dict[str, Any] | None
    block_ids: list[UUID]
    tool_ids: list[UUID]
    tags: list[str]
    metadata: dict[str, Any]
    context_template: str | None
    version: int
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class AgentPage:
    """One page of agents and the cursor for the next (None at the end)."""

    items: list[AgentRow]
    next_cursor: str | None


class AgentQueries(Protocol):
    """Lists over the agents read model."""

    async def list(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str],
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> AgentPage: ...


class AgentsProjection(RowProjection):
    """Turns agent events into rows of the agents read model."""

    created = Agent.Created
    topic_prefix = AGENT_TOPIC_PREFIX

    def __init__(self, view: RowView, name: str = READ_MODEL) -> None:
        super().__init__(view, name)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its agent's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, Agent.Updated):
            change.columns = dict(event.changes)
        elif isinstance(event, Agent.BlocksAttached):
            change.added = {"block_ids": list(event.block_ids)}
        elif isinstance(event, Agent.BlocksDetached):
            change.removed = {"block_ids": list(event.block_ids)}
        elif isinstance(event, Agent.Deleted):
            change.columns = {"deleted": True}
        elif isinstance(event, Agent.Restored):
            change.columns = {"deleted": False}
        return change

    @staticmethod
    def row(event: Agent.Created) -> AgentRow:
        return AgentRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            name=event.name,
            description=event.description,
            system=event.system,
            llm=event.llm,
            embedding=event.embedding,
            block_ids=list(event.block_ids),
            tool_ids=list(event.tool_ids),
            tags=list(event.tags),
            metadata=event.metadata,
            context_template=event.context_template,
            version=1,
            deleted=False,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            created_by=event.actor_id,
            updated_by=event.actor_id,
        )

"""The runs read model: one row per run, so an agent's runs can be listed newest first with their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agentmem.domain.run import CANCELLED, COMPLETED, FAILED, Run
from agentmem.projections.base import Envelope
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change, RowProjection, RowView

RUN_TOPIC_PREFIX = f"{Run.__module__}:{Run.__qualname__}."
READ_MODEL = "runs"


@dataclass(frozen=True, slots=True)
class RunRow:
    """A run as the read model holds it."""

    id: UUID
    tenant_id: str
    agent_id: UUID
    provider: str
    model: str
    status: str
    stop_reason: str | None
    steps: int
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs and the cursor for the next (None at the end)."""

    items: list[RunRow]
    next_cursor: str | None


class RunQueries(Protocol):
    """Lists over the runs read model."""

    async def list(
        self, tenant_id: str, *, agent_id: UUID, order: ListOrder, limit: int, cursor: str | None
    ) -> RunPage: ...


class RunsProjection(RowProjection):
    """Turns run events into rows of the runs read model."""

    created = Run.Started
    topic_prefix = RUN_TOPIC_PREFIX

    def __init__(self, view: RowView, name: str = READ_MODEL) -> None:
        super().__init__(view, name)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its run's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, Run.StepRecorded):
            change.columns = {"steps": event.number}
        elif isinstance(event, Run.Completed):
            change.columns = {"status": COMPLETED, "stop_reason": event.stop_reason}
        elif isinstance(event, Run.Failed):
            change.columns = {"status": FAILED, "stop_reason": event.stop_reason}
        elif isinstance(event, Run.Cancelled):
            change.columns = {"status": CANCELLED, "stop_reason": "cancelled"}
        return change

    @staticmethod
    def row(event: Run.Started) -> RunRow:
        return RunRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            agent_id=event.agent_id,
            provider=event.provider,
            model=event.model,
            status="running",
            stop_reason=None,
            steps=0,
            version=1,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            created_by=event.actor_id,
            updated_by=event.actor_id,
        )

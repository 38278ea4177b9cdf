"""The jobs read model: one row per job, to list a tenant's jobs and to find the ones the queue may have lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agentmem.domain.job import Job
from agentmem.projections.base import Envelope
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change, RowProjection, RowView

JOB_TOPIC_PREFIX = f"{Job.__module__}:{Job.__qualname__}."
READ_MODEL = "jobs"


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as the read model holds it."""

    id: UUID
    tenant_id: str
    kind: str
    status: str
    episode_id: UUID | None
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    attempts: int
    error: str | None
    next_attempt_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of jobs and the cursor for the next (None at the end)."""

    items: list[JobRow]
    next_cursor: str | None


class JobQueries(Protocol):
    """Lists over the jobs read model."""

    async def list(
        self,
        tenant_id: str,
        *,
        status: str | None,
        kind: str | None,
        episode_id: UUID | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
    ) -> JobPage: ...

    async def unfinished(self, queued_before: datetime, running_before: datetime, limit: int) -> Sequence[JobRow]:
        """Every tenant's jobs queued (and due) before `queued_before` or running since before `running_before`."""
        ...

    async def unfinished_counts(self) -> dict[tuple[str, str], int]:
        """Every tenant's queued and running jobs, counted by (kind, status)."""
        ...


class JobsProjection(RowProjection):
    """Turns job events into rows of the jobs read model."""

    created = Job.Created
    topic_prefix = JOB_TOPIC_PREFIX

    def __init__(self, view: RowView, name: str = READ_MODEL) -> None:
        super().__init__(view, name)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its job's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, Job.Started):
            change.columns = {"status": "running", "attempts": event.attempt, "next_attempt_at": None}
        elif isinstance(event, Job.AttemptFailed):
            status = "queued" if event.retry_at is not None else "failed"
            change.columns = {"status": status, "error": event.reason, "next_attempt_at": event.retry_at}
        elif isinstance(event, Job.Succeeded):
            change.columns = {"status": "succeeded", "error": None}
        elif isinstance(event, Job.RetryRequested):
            change.columns = {"status": "queued", "next_attempt_at": None}
        return change

    @staticmethod
    def row(event: Job.Created) -> JobRow:
        return JobRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            kind=event.kind,
            status="queued",
            episode_id=event.episode_id,
            user_id=event.scope.get("user_id"),
            agent_id=event.scope.get("agent_id"),
            run_id=event.scope.get("run_id"),
            attempts=0,
            error=None,
            next_attempt_at=None,
            version=1,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            created_by=event.actor_id,
            updated_by=event.actor_id,
        )

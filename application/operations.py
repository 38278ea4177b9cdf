"""What operators ask of a running AgentMem: where each projection is, which events are parked, and what to do.

A projection that cannot apply an event retries it with backoff, then parks it (see infrastructure/runner.py):
the projection goes on, and the event's tenant is held back in that read model until an operator decides:
- retry: the worker tries the event again (after a fix: a deploy, a trigger dropped, the embedder back), then the
  tenant's held events in log order; the tenant is released once it caught up;
- skip: the read model leaves that one event out for good. The skip is recorded in the log as a ProjectionSkip
  event of the tenant (its audit trail shows it), then the tenant's later events are applied as for a retry.
Parked events keep the service ready but degraded: it answers, and one tenant's read model is behind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from agentmem.application.base import AgentMemApplication, ApplicationError
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, InvalidInput, NotFound
from agentmem.domain.projection_skip import ProjectionSkip


@dataclass(frozen=True, slots=True)
class ProjectionState:
    """One projection: its position, its lag behind the head of the log (events and seconds), its recent rate, and
    the failure it is retrying now (if any)."""

    name: str
    read_model: str | None
    embedder: str | None
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    rate_per_second: float
    events_applied: int
    updated_at: datetime
    error: str | None = None
    error_position: int | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    """An event a projection could not apply, and the tenant it holds back there (its events up to `applied_to`
    are applied). `state`: parked (waits for an operator), retrying (the worker is on it) or skipping."""

    projection: str
    position: int
    tenant_id: str
    event_type: str
    aggregate_id: UUID | None
    version: int | None
    state: str
    error: str
    attempts: int
    applied_to: int
    parked_at: datetime
    updated_at: datetime

    @property
    def waiting(self) -> bool:
        """Whether it waits for an operator (the worker leaves it alone)."""
        return self.state != "retrying"


@runtime_checkable
class ProjectionMonitor(Protocol):
    """Reads every projection's tracking against the head of the log, and the parked events."""

    async def projections(self) -> tuple[int, list[ProjectionState]]:
        """The head of the log and every projection's state."""
        ...

    async def parked(self) -> list[ParkedEvent]:
        """Every held tenant of every projection, oldest first."""
        ...


class ProjectionHolds(Protocol):
    """The held tenants of every projection, and the state changes operators ask for."""

    def parked(self, projection: str | None = None) -> list[ParkedEvent]: ...

    def request_retry(self, projection: str | None, position: int | None) -> list[ParkedEvent]:
        """Marks parked events (all, one projection's, or one) for the worker to retry; returns them."""
        ...

    def begin_skip(self, projection: str, position: int) -> ParkedEvent | None:
        """Marks a parked event (or one whose skip was interrupted) as being skipped; None if it is not parked."""
        ...

    def finish_skip(self, projection: str, position: int) -> bool:
        """Moves the tenant's hold past the skipped event, for the worker to catch up the rest."""
        ...


class ParkedEventNotFoundError(ApplicationError, NotFound):
    """No event is parked at that position of that projection."""


class ParkedEventBusyError(ApplicationError, Conflict):
    """The event is being retried; it can be skipped once it is parked again."""


class OperationsApplication(AgentMemApplication):
    """Records operators' decisions about the read models in the log."""

    def record_skip(self, parked: ParkedEvent, reason: str, context: Context) -> int:
        """Records the skip (once: an interrupted skip finds its record); returns its log position."""
        skip = ProjectionSkip.record(
            context=context,
            projection=parked.projection,
            position=parked.position,
            event_type=parked.event_type,
            aggregate_id=parked.aggregate_id,
            aggregate_version=parked.version,
            error=parked.error,
            reason=reason,
        )
        try:
            return self.record(skip)
        except IntegrityError:
            return self.position_of(skip.id, 1)


class ProjectionOperations:
    """Lists parked events, retries them, or skips one with a record in the log."""

    def __init__(self, holds: ProjectionHolds, log: OperationsApplication, poll_seconds: float = 0.2) -> None:
        self.holds = holds
        self.log = log
        self.poll_seconds = poll_seconds

    def failures(self, projection: str | None = None) -> list[ParkedEvent]:
        return self.holds.parked(projection)

    def retry(self, projection: str | None = None, position: int | None = None) -> list[ParkedEvent]:
        """Asks the worker to retry parked events: every one, one projection's, or one; returns those asked."""
        if position is not None and projection is None:
            raise InvalidInput("projection", "name the projection of the position to retry")
        asked = self.holds.request_retry(projection, position)
        if not asked and position is not None and projection is not None:
            self._parked(projection, position)  # NotFound, or already being retried: nothing to do
        return asked

    def skip(self, projection: str, position: int, reason: str, actor_id: str) -> tuple[ParkedEvent, int]:
        """Leaves one parked event out of its read model for good, recorded in the log first; returns the event
        and the log position of the record."""
        if not reason.strip():
            raise InvalidInput("reason", "say why the event is skipped: the log records it")
        parked = self.holds.begin_skip(projection, position)
        if parked is None:
            found = self._parked(projection, position)
            raise ParkedEventBusyError(f"the event at {position} of {projection} is {found.state}; skip it once parked")
        context = Context(tenant_id=parked.tenant_id, actor_id=actor_id, request_id=f"skip-{uuid4().hex}")
        recorded = self.log.record_skip(parked, reason.strip(), context)
        self.holds.finish_skip(projection, position)
        return parked, recorded

    def settle(self, asked: Sequence[ParkedEvent], timeout: float) -> list[tuple[ParkedEvent, str]]:
        """Waits (bounded) for the worker to finish retries; each event with `applied` (its tenant caught up),
        `parked` (failed again: see `error`) or `retrying` (not done within the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            current = {(p.projection, p.tenant_id): p for p in self.holds.parked()}
            outcomes = [(current.get((a.projection, a.tenant_id)), a) for a in asked]
            settled = [(now or a, "applied" if now is None else now.state) for now, a in outcomes]
            if all(state != "retrying" for _, state in settled) or time.monotonic() > deadline:
                return settled
            time.sleep(self.poll_seconds)

    def _parked(self, projection: str, position: int) -> ParkedEvent:
        for parked in self.holds.parked(projection):
            if parked.position == position:
                return parked
        raise ParkedEventNotFoundError(f"no event is parked at position {position} of {projection}")


DEGRADING_CHECKS = frozenset({"projections"})
"""Checks that make the service degraded, not unavailable: it answers, but some read model is behind for a tenant."""


def readiness_status(checks: dict[str, str], ignored: frozenset[str] = frozenset()) -> str:
    """`ok`, `degraded` (only degrading checks fail) or `unavailable`; `ignored` checks are only reported."""
    failing = {name for name, value in checks.items() if value != "ok" and name not in ignored}
    if not failing:
        return "ok"
    return "degraded" if failing <= DEGRADING_CHECKS else "unavailable"

"""What every AgentMem application shares: one event log, the write result, history, and the errors they raise."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Recording
from eventsourcing.utils import Environment, EnvType

from agentmem.application import telemetry
from agentmem.domain.base import Context, TenantAggregate, changed_fields
from agentmem.domain.errors import AgentMemError, Conflict, InvalidInput, NotFound
from agentmem.domain.storable import unstorable

LOG_NAME = "agentmem"
"""Every bounded context appends to one event log, so one position orders all events."""

TAggregate = TypeVar("TAggregate", bound=TenantAggregate)
A = TypeVar("A")
RACE_DEADLINE = 5.0
"""Seconds a write without an expected version keeps retrying a lost race (last writer wins) before giving up.

Measured: 20 concurrent PATCHes of one memory with 5 fixed retries left 2-7 of them with a 409; every round of a
race has one winner, so the retries must outlast the number of racing writers, with jitter to spread them out.
"""
TRACE_FIELD = "traceparent"
"""Where an event keeps the W3C trace context of the work that recorded it (absent when tracing was off)."""
EVENT_ENVELOPE = frozenset(
    ("originator_id", "originator_version", "timestamp", "tenant_id", "actor_id", "request_id", TRACE_FIELD)
)


class ApplicationError(AgentMemError):
    """A command or query could not be carried out."""


class NotFoundError(ApplicationError, NotFound):
    """No such aggregate for this tenant (another tenant's id looks exactly the same)."""


class VersionConflictError(ApplicationError, Conflict):
    """The caller expected another version than the current one."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message, current_version=current_version)
        self.current_version = current_version


class IdempotencyKeyReusedError(ApplicationError, InvalidInput):
    """The idempotency key was used before with a different request."""

    def __init__(self, message: str) -> None:
        super().__init__("Idempotency-Key", message)


class UnstorableValueError(ApplicationError, InvalidInput):
    """An event would hold a value the read models cannot store (see domain/storable.py)."""


@dataclass(frozen=True, slots=True)
class Saved(Generic[A]):
    """An aggregate as a command left it, and the log position of its last event (the `min_position` to read after)."""

    aggregate: A
    position: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One version of an aggregate as its event recorded it."""

    version: int
    event_type: str
    timestamp: datetime
    actor_id: str
    request_id: str
    changes: dict[str, dict[str, Any]]
    provenance: dict[str, Any] | None = None
    """Where a change made by a job or a model came from (job, episode, messages, model, prompt version)."""


class EventPositions(Protocol):
    """Finds where an already recorded event sits in the log."""

    def position_of(self, originator_id: UUID, version: int) -> int: ...

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The current version of each aggregate (absent ones are left out)."""
        ...


def stamp_trace(events: Sequence[Any]) -> Sequence[Any]:
    """Puts the current trace context on events that carry none, so the projection batches that apply them (another
    process, later) join the trace. Stored with the event's state; older events and untraced writes have none."""
    carrier = telemetry.traceparent()
    if carrier is not None:
        for event in events:
            if TRACE_FIELD not in vars(event):
                object.__setattr__(event, TRACE_FIELD, carrier)  # events are frozen once built; this is their envelope
    return events


def check_storable(events: Iterable[Any]) -> None:
    """Refuses events holding a value no read model could store, naming the field."""
    for event in events:
        for name, value in vars(event).items():
            if name in EVENT_ENVELOPE:
                continue
            found = unstorable(value, name)
            if found is not None:
                raise UnstorableValueError(found[0], f"{found[0]} {found[1]}")


class AgentMemApplication(Application[UUID]):
    """Base of every bounded context: shares the log, the connection pool and the env given to it."""

    name = LOG_NAME
    aggregate_cache_size: int | None = None
    """When set, loads come from an LRU cache of this many aggregates, fast-forwarded from the log on each read."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = LOG_NAME

    def __init__(
        self, env: EnvType, *, factory: InfrastructureFactory | None = None, positions: EventPositions | None = None
    ) -> None:
        self._shared_factory = factory
        self.positions = positions
        super().__init__(env)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the explicit env: settings are read in one place, never from os.environ here."""
        values = dict(env or {})
        if self.aggregate_cache_size:
            values.setdefault(self.AGGREGATE_CACHE_MAXSIZE, str(self.aggregate_cache_size))
        return Environment(name, values)

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        return self._shared_factory or super().construct_factory(env)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Every write passes here: nothing a read model cannot store is ever recorded."""
        check_storable(processing_event.events)
        stamp_trace(processing_event.events)
        return super()._record(processing_event)

    def record(self, *aggregates: Aggregate) -> int:
        """Saves the aggregates' pending events atomically; returns the highest log position."""
        recordings: list[Recording[UUID]] = self.save(*aggregates)
        return max(r.notification.id for r in recordings)

    def record_each(self, groups: Sequence[Sequence[Aggregate.Event]]) -> list[int]:
        """Saves several callers' events in one transaction; returns the position of each group's last event."""
        recordings = self.save(*(event for group in groups for event in group))
        ends = list(itertools.accumulate(len(group) for group in groups))
        return [recordings[end - 1].notification.id for end in ends]

    def trace_of(self, aggregate_id: UUID) -> str | None:
        """The trace context the aggregate's first event was recorded in (None when that write was not traced)."""
        first = next(iter(self.events.get(aggregate_id, lte=1)), None)
        return getattr(first, TRACE_FIELD, None)

    def position_of(self, originator_id: UUID, version: int) -> int:
        if self.positions is None:  # pragma: no cover - wiring error
            raise RuntimeError("no EventPositions given to the application")
        return self.positions.position_of(originator_id, version)

    def load(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        tenant_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
    ) -> TAggregate | None:
        """The aggregate (at a version or an instant), or None if absent or another tenant's."""
        if as_of is not None:
            aggregate = None
            for domain_event in self._events_of(aggregate_id):
                if domain_event.timestamp > as_of:
                    break
                aggregate = domain_event.mutate(aggregate)
        else:
            try:
                aggregate = self.repository.get(aggregate_id, version=version)
            except AggregateNotFoundError:
                return None
        if not isinstance(aggregate, cls) or aggregate.tenant_id != tenant_id:
            return None
        if version is not None and aggregate.version != version:
            return None
        return aggregate

    def get_live(
        self, cls: type[TAggregate], aggregate_id: UUID, tenant_id: str, not_found: type[NotFoundError]
    ) -> TAggregate:
        """The aggregate now, or `not_found` naming it (absent, another tenant's)."""
        aggregate = self.load(cls, aggregate_id, tenant_id)
        if aggregate is None:
            raise not_found(f"{cls.__name__.lower()} {aggregate_id} not found") from None
        return aggregate

    def read(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        tenant_id: str,
        not_found: type[NotFoundError],
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> TAggregate:
        """The aggregate now, at a version or at an instant; a deleted one only when asked for (or by version)."""
        aggregate = self.load(cls, aggregate_id, tenant_id, version=version, as_of=as_of)
        deleted = bool(getattr(aggregate, "deleted", False))
        if aggregate is None or (deleted and not include_deleted and version is None):
            raise not_found(f"{cls.__name__.lower()} {aggregate_id} not found")
        return aggregate

    def change(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        context: Context,
        expected_version: int | None,
        change: Callable[[TAggregate], bool],
        not_found: type[NotFoundError],
        also: Callable[[TAggregate], Sequence[Aggregate]] | None = None,
    ) -> Saved[TAggregate]:
        """Loads, checks the expected version, changes and records; returns it and a position.

        With an expected version, a stale one is a VersionConflictError at once. Without one, a lost race is
        retried (with jitter) until the change applies: the last writer wins. `change` returns False when nothing
        changed: then nothing is recorded and the position is the current one. `also` gives aggregates changed
        with it (a name claim), recorded in the same transaction.
        """
        noun = cls.__name__.lower()
        deadline = time.monotonic() + RACE_DEADLINE
        for attempt in itertools.count():
            aggregate = self.get_live(cls, aggregate_id, context.tenant_id, not_found)
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflictError(
                    f"{noun} {aggregate_id} is at version {aggregate.version}, not {expected_version}",
                    current_version=aggregate.version,
                )
            if not change(aggregate):
                return Saved(aggregate, self.position_of(aggregate.id, aggregate.version))
            try:
                return Saved(aggregate, self.record(aggregate, *(also(aggregate) if also else ())))
            except IntegrityError:
                current = self.load(cls, aggregate_id, context.tenant_id)
                version = current.version if current is not None else aggregate.version
                if expected_version is not None:
                    message = f"{noun} {aggregate_id} changed concurrently; it is at version {version}"
                    raise VersionConflictError(message, current_version=version) from None
                if time.monotonic() > deadline:
                    message = f"{noun} {aggregate_id} kept changing for {RACE_DEADLINE:.0f} s; try again"
                    raise VersionConflictError(message, current_version=version) from None
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.05)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _events_of(self, aggregate_id: UUID) -> Iterable[TenantAggregate.Event]:
        return cast("Iterable[TenantAggregate.Event]", self.events.get(aggregate_id))

    def history_of(self, aggregate_id: UUID, state: Callable[[Any], dict[str, Any]]) -> list[HistoryEntry]:
        """Every version of an aggregate with the fields each event changed (old and new values)."""
        entries: list[HistoryEntry] = []
        aggregate: Any = None
        before: dict[str, Any] = {}
        for domain_event in self._events_of(aggregate_id):
            aggregate = domain_event.mutate(aggregate)
            after = state(aggregate)
            entries.append(
                HistoryEntry(
                    version=domain_event.originator_version,
                    event_type=type(domain_event).__name__,
                    timestamp=domain_event.timestamp,
                    actor_id=domain_event.actor_id,
                    request_id=domain_event.request_id,
                    changes=changed_fields(before, after),
                    provenance=getattr(domain_event, "provenance", None),
                )
            )
            before = after
        return entries

"""What every AgentMem application shares: one event log, write results and errors."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, Recording
from eventsourcing.utils import Environment, EnvType

from agentmem.domain.base import Context, TenantAggregate, changed_fields

LOG_NAME = "agentmem"
"""Every bounded context appends to one event log, so one position orders all events."""

TAggregate = TypeVar("TAggregate", bound=TenantAggregate)
WRITE_RETRIES = 5


class ApplicationError(Exception):
    """A command or query could not be carried out."""


class NotFoundError(ApplicationError):
    """No such aggregate for this tenant (another tenant's id looks exactly the same)."""


class VersionConflictError(ApplicationError):
    """The caller expected another version than the current one."""

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class IdempotencyKeyReusedError(ApplicationError):
    """The idempotency key was used before with a different request."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of a command: the aggregate, its new version and the log position to wait for."""

    id: UUID
    version: int
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


class EventPositions(Protocol):
    """Finds where an already recorded event sits in the log."""

    def position_of(self, originator_id: UUID, version: int) -> int: ...

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        """The current version of each aggregate (absent ones are left out)."""
        ...


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

    def record(self, *aggregates: Aggregate) -> int:
        """Saves the aggregates' pending events atomically; returns the highest log position."""
        recordings: list[Recording[UUID]] = self.save(*aggregates)
        return max(r.notification.id for r in recordings)

    def record_each(self, groups: Sequence[Sequence[Aggregate.Event]]) -> list[int]:
        """Saves several callers' events in one transaction; returns the position of each group's last event."""
        recordings = self.save(*(event for group in groups for event in group))
        ends = list(itertools.accumulate(len(group) for group in groups))
        return [recordings[end - 1].notification.id for end in ends]

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

    def change(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        context: Context,
        expected_version: int | None,
        change: Callable[[TAggregate], bool],
        not_found: Callable[[], NotFoundError],
    ) -> tuple[TAggregate, int]:
        """Loads, checks the expected version, changes and records (retrying a lost race); returns it and a position.

        `change` returns False when nothing changed: then nothing is recorded and the position is the current one.
        """
        aggregate: TAggregate | None = None
        noun = cls.__name__.lower()
        for _ in range(WRITE_RETRIES):
            aggregate = self.load(cls, aggregate_id, context.tenant_id)
            if aggregate is None:
                raise not_found()
            if expected_version is not None and aggregate.version != expected_version:
                raise VersionConflictError(
                    f"{noun} {aggregate_id} is at version {aggregate.version}, not {expected_version}",
                    current_version=aggregate.version,
                )
            if not change(aggregate):
                return aggregate, self.position_of(aggregate.id, aggregate.version)
            try:
                return aggregate, self.record(aggregate)
            except IntegrityError:
                if expected_version is not None:
                    current = self.load(cls, aggregate_id, context.tenant_id)
                    version = current.version if current is not None else expected_version
                    message = f"{noun} {aggregate_id} changed concurrently; it is at version {version}"
                    raise VersionConflictError(message, current_version=version) from None
        version = aggregate.version if aggregate is not None else 0
        raise VersionConflictError(f"{noun} {aggregate_id} keeps changing; try again", current_version=version)

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
                )
            )
            before = after
        return entries

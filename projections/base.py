"""The contract between the event log and a read model: apply a batch and move the tracking, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agentmem.domain.base import TenantAggregate


@dataclass(frozen=True, slots=True)
class Envelope:
    """A domain event and its position in the log."""

    position: int
    event: TenantAggregate.Event

    @property
    def tenant_id(self) -> str:
        return getattr(self.event, "tenant_id", "") or ""


@dataclass(frozen=True, slots=True)
class HoldMove:
    """A held tenant's events applied from `previous` to `position`; `release` ends the hold (it caught up)."""

    tenant_id: str
    previous: int
    position: int
    release: bool


@dataclass(frozen=True, slots=True)
class Tracking:
    """A projection moves from `previous` to `position`; the move fails if another one got there first.

    `holds` is the version of the set of held tenants (tenants with a parked event, whose events wait) that the
    batch left out; the move fails if that set changed meanwhile. With `hold`, the batch is one held tenant's
    events up to the projection's position (`previous` = `position`), and that hold moves instead.
    """

    name: str
    previous: int
    position: int
    rate: float | None = None
    holds: int = 0
    hold: HoldMove | None = None


class TrackingConflictError(RuntimeError):
    """Another worker moved the projection first; this batch was rolled back."""


class Projection(Protocol):
    """Builds one read model from the log, exactly once: rows and tracking commit together."""

    @property
    def name(self) -> str:
        """The tracking name (one per read model generation)."""
        ...

    def wants(self, topic: str) -> bool:
        """Whether events of this topic change the read model."""
        ...

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        """Applies the events and records the tracking in one transaction (TrackingConflictError if stale)."""
        ...


@runtime_checkable
class Warming(Protocol):
    """A projection that can prepare the next batch (e.g. embed it) while the current one is being written."""

    def warm(self, current: Sequence[Envelope], ahead: Sequence[Envelope]) -> None:
        """Prepares `ahead`, the events after `current`; only a speed-up, so it may be skipped or fail."""
        ...

"""What operators ask of a running AgentMem: where each projection is, how far behind, and whether it is ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ProjectionState:
    """One projection: its position, its lag behind the head of the log (events and seconds) and its recent rate."""

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


@runtime_checkable
class ProjectionMonitor(Protocol):
    """Reads every projection's tracking against the head of the log."""

    async def projections(self) -> tuple[int, list[ProjectionState]]:
        """The head of the log and every projection's state."""
        ...

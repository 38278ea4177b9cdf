"""Ports the step loop needs from outside, shared by every API process: the run lock, cancel signals, event streams.

One active run per agent, a cancel asked in one process and honoured in another, and a run's events kept for a
while so a client that lost its connection gets the rest (`Last-Event-ID`): all live in Redis in production
(`infrastructure/redis_runs.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from agentmem.application.base import ApplicationError
from agentmem.domain.errors import BadRequest, NotFound

TERMINAL_EVENT = "run.completed"
"""Every run's stream ends with this event (status completed, failed or cancelled)."""


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One event of a run's stream: its sequence number (from 1), kind (the SSE `event:`) and data."""

    run_id: UUID
    seq: int
    kind: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        """The SSE `id:`, which a resume sends back as Last-Event-ID."""
        return f"{self.run_id}:{self.seq}"

    @property
    def terminal(self) -> bool:
        return self.kind == TERMINAL_EVENT


class RunStreamGoneError(ApplicationError, NotFound):
    """The run's events are not kept (unknown run, or its resume window has passed)."""


class InvalidEventIdError(ApplicationError, BadRequest):
    """A Last-Event-ID that no run stream handed out."""


def parse_event_id(raw: str) -> tuple[UUID, int]:
    """The run and sequence number of an event id `<run_id>:<seq>`."""
    run, _, seq = raw.strip().rpartition(":")
    try:
        parsed = UUID(run), int(seq)
    except ValueError:
        raise InvalidEventIdError("Last-Event-ID must be an event id of a run stream (<run_id>:<seq>)") from None
    if parsed[1] < 0:
        raise InvalidEventIdError("Last-Event-ID must be an event id of a run stream (<run_id>:<seq>)")
    return parsed


class RunSignals(Protocol):
    """The run lock of each agent and the signals a running loop reads at its step boundaries."""

    async def claim(self, agent_id: UUID, run_id: UUID, seconds: float) -> UUID | None:
        """Makes `run_id` the agent's active run for at most `seconds`; the other active run's id if there is one."""
        ...

    async def release(self, agent_id: UUID, run_id: UUID) -> None:
        """Ends the claim (only if `run_id` still holds it)."""
        ...

    async def request_cancel(self, run_id: UUID, reason: str, seconds: float) -> None: ...

    async def attach(self, run_id: UUID) -> None:
        """A client follows the run's stream."""
        ...

    async def detach(self, run_id: UUID) -> None:
        """A following client went away before the end; when none is left the run is detached (a resume attaches)."""
        ...

    async def stop_reason(self, run_id: UUID, detached_grace: float) -> str | None:
        """Why the run should stop now: the cancel's reason, `client_gone` when detached for `detached_grace`
        seconds, or None to go on."""
        ...


class RunEvents(Protocol):
    """Each run's events, appended by the loop and followed by any number of readers, kept for a window."""

    async def publish(self, event: RunEvent) -> None: ...

    async def follow(self, run_id: UUID, after: int, idle_timeout: float) -> AsyncIterator[RunEvent]:
        """The events after sequence number `after` (0: all), as they come, up to the terminal one;
        RunStreamGoneError when the stream is not kept. Ends after `idle_timeout` seconds without an event."""
        ...

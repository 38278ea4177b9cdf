"""Drives one projection through the log: batches applied exactly once, failures retried, poison events parked.

Every batch moves the tracking row by compare-and-set inside the transaction that writes its rows, so a batch is
applied once or not at all, whatever crashes or races happen. When a batch fails, the runner goes on one event at
a time until it is past that batch, which pins the failure on one event. That event is retried with exponential
backoff; after `max_attempts` failures it is parked: the projection moves past it and holds its tenant back (the
tenant's later events wait, so its read model stays a consistent prefix of the log, only older), and every other
tenant goes on. A held tenant whose hold an operator retries (or skips) is caught up here, page by page, in log
order, up to the projection's position; then its hold is released and the projection takes it along again.
The database or the embedder being unavailable never parks anything: that is retried, with backoff, until it is back.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from threading import Event

import psycopg
from eventsourcing.persistence import Notification
from psycopg_pool import PoolTimeout

from agentmem.infrastructure.embedders import EmbedderUnavailableError
from agentmem.infrastructure.eventstore import EventLog
from agentmem.infrastructure.postgres_tracking import (
    Failure,
    TrackingState,
    ensure_tracking,
    park,
    record_failure,
    record_hold_failure,
    tracking_position,
    tracking_state,
)
from agentmem.projections.base import Envelope, HoldMove, Projection, Tracking, TrackingConflictError, Warming

log = logging.getLogger("agentmem.worker")
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
DEFAULT_BATCH = 256
RATE_WINDOW = 60.0
UNAVAILABLE_SQLSTATES = ("08", "40", "53", "57P")
"""Connection lost, transaction rolled back (deadlock, serialization), out of resources, server shutting down."""


def unavailable(error: BaseException) -> bool:
    """Whether the failure is the database's or the embedder's, not the event's: then it is retried with backoff
    for as long as it lasts and never parks anything. (A statement that hits a limit of PostgreSQL, such as an index
    row or a tsvector too large, is the event's: it is parked like any other.)"""
    if isinstance(error, (PoolTimeout, EmbedderUnavailableError)):
        return True
    if not isinstance(error, psycopg.Error):
        return False
    if error.sqlstate is None:
        return isinstance(error, psycopg.OperationalError)  # the client lost the server
    return error.sqlstate.startswith(UNAVAILABLE_SQLSTATES)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often an event is tried before it is parked, and how long to wait between tries (doubling)."""

    max_attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempts: int) -> float:
        return min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)


@dataclass
class Attempts:
    """Where one stream of events (the projection's, or one held tenant's) stands on failures."""

    isolate_until: int = 0
    """A batch failed that ended here: apply one event at a time until past it."""
    position: int = 0
    count: int = 0
    transient: int = 0
    ready_at: float = 0.0
    """When the next try is due (0: none is scheduled)."""

    def waiting(self, now: float) -> bool:
        return self.ready_at > now

    def retry_after(self, seconds: float) -> None:
        self.ready_at = time.monotonic() + seconds

    def succeeded(self) -> None:
        self.position = self.count = self.transient = 0
        self.ready_at = 0.0


@dataclass
class Progress:
    """How far a catch-up got."""

    position: int
    head: int
    events: int


class ProjectionRunner:
    """Drives one projection: applies batches after its tracked position exactly once, and catches up held
    tenants an operator retried."""

    def __init__(
        self,
        projection: Projection,
        log: EventLog,
        connect: Connect,
        batch_size: int = DEFAULT_BATCH,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.projection = projection
        self.log = log
        self.connect = connect
        self.batch_size = batch_size
        self.policy = policy or RetryPolicy()
        self._main = Attempts()
        self._holds: dict[str, Attempts] = {}
        self._recent: deque[tuple[float, int]] = deque()
        self._ahead: Future[None] | None = None
        self._warming = projection if isinstance(projection, Warming) else None
        self._warmer = ThreadPoolExecutor(1, f"warm-{projection.name}") if self._warming else None
        with self.connect() as conn:
            ensure_tracking(conn, projection.name)

    @property
    def name(self) -> str:
        return self.projection.name

    def close(self) -> None:
        if self._warmer is not None:
            self._warmer.shutdown(wait=True, cancel_futures=True)

    def _rate(self, covered: int) -> float:
        """Events per second over the last minute."""
        now = time.monotonic()
        self._recent.append((now, covered))
        while self._recent and now - self._recent[0][0] > RATE_WINDOW:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / RATE_WINDOW

    def position(self) -> int:
        with self.connect() as conn:
            return tracking_position(conn, self.projection.name)

    def _state(self) -> TrackingState:
        with self.connect() as conn:
            return tracking_state(conn, self.projection.name)

    def retry_in(self) -> float | None:
        """Seconds until a failed batch is due again; None when nothing waits for a retry."""
        now = time.monotonic()
        waits = [a.ready_at - now for a in (self._main, *self._holds.values()) if a.ready_at]
        return max(min(waits), 0.0) if waits else None

    def step(self) -> int:
        """Applies the next batch of the log, and of each held tenant being retried; returns the entries covered."""
        covered = 0
        now = time.monotonic()
        if not self._main.waiting(now):
            covered += self._guarded(self._main, self._step_main)
        for tenant, attempts in self._holds.items():
            if not attempts.waiting(now):
                covered += self._guarded(attempts, partial(self._step_hold, tenant, attempts))
        return covered

    def _guarded(self, attempts: Attempts, step: Callable[[], int]) -> int:
        """Runs a step; a failure outside applying a batch (reading the log, the database gone) only waits."""
        try:
            return step()
        except Exception as error:  # noqa: BLE001 - whatever failed, this projection waits and tries again
            attempts.transient += 1
            attempts.retry_after(self.policy.delay(attempts.transient))
            log.warning("%s: %s; trying again in %.1f s", self.name, error, self.policy.delay(attempts.transient))
            return 0

    def _step_main(self) -> int:
        state = self._state()
        retrying = [tenant for tenant, held in state.held.items() if held.state == "retrying"]
        self._holds = {tenant: self._holds.get(tenant) or Attempts() for tenant in retrying}
        limit = 1 if self._main.isolate_until > state.position else self.batch_size
        notifications = self.log.after(state.position, limit)
        if not notifications:
            return 0
        envelopes = self._decode(notifications, lambda tenant: tenant not in state.held)
        self._warm_next(envelopes, notifications[-1].id, state)
        rate = self._rate(len(notifications))
        tracking = Tracking(self.name, state.position, notifications[-1].id, rate, holds=state.holds)
        return self._apply(envelopes, tracking, notifications, self._main, self._park_main)

    def _step_hold(self, tenant: str, attempts: Attempts) -> int:
        """Applies the held tenant's events of the next page of the log up to the projection's position; the page
        that reaches it releases the hold."""
        state = self._state()
        held = state.held.get(tenant)
        if held is None or held.state != "retrying":
            return 0
        limit = 1 if attempts.isolate_until > held.position else self.batch_size
        page = self.log.after(held.position, limit)
        notifications = [n for n in page if n.id <= state.position]
        release = len(page) < limit or page[-1].id >= state.position
        end = state.position if release else notifications[-1].id
        envelopes = self._decode(notifications, lambda t: t == tenant)
        move = HoldMove(tenant, held.position, end, release)
        tracking = Tracking(self.name, state.position, state.position, holds=state.holds, hold=move)

        def park_hold(failure: Failure, _: Tracking) -> None:
            with self.connect() as conn:
                record_hold_failure(conn, self.name, failure, parked=True)

        covered = self._apply(envelopes, tracking, notifications, attempts, park_hold)
        if covered and release:
            log.info("%s: tenant %s caught up; its hold is released", self.name, tenant)
        return covered

    def _apply(
        self,
        envelopes: list[Envelope],
        tracking: Tracking,
        notifications: Sequence[Notification],
        attempts: Attempts,
        park_event: Callable[[Failure, Tracking], None],
    ) -> int:
        """Applies one batch and returns the log entries it covered (at least 1 when it moved at all: a hold may
        be released without any); on failure decides what comes next (see the module's docstring)."""
        try:
            self.projection.apply(envelopes, tracking)
        except TrackingConflictError:
            log.info("%s: another worker applied this batch first", self.name)
            return 0
        except Exception as error:  # noqa: BLE001 - any failure of one batch is handled here
            if unavailable(error):
                attempts.transient += 1
                attempts.retry_after(self.policy.delay(attempts.transient))
                log.warning("%s: %s; trying again", self.name, error)
                return 0
            parked = self._failed(envelopes, tracking, notifications, attempts, error, park_event)
            return len(notifications) if parked and tracking.hold is None else 0
        attempts.succeeded()
        return max(len(notifications), 1)

    def _failed(
        self,
        envelopes: list[Envelope],
        tracking: Tracking,
        notifications: Sequence[Notification],
        attempts: Attempts,
        error: Exception,
        park_event: Callable[[Failure, Tracking], None],
    ) -> bool:
        """Isolates, schedules a retry, or parks the event; True if it parked it."""
        if len(notifications) > 1:
            attempts.isolate_until = notifications[-1].id
            attempts.retry_after(0.0)
            log.warning("%s: a batch failed (%s); applying it one event at a time", self.name, error)
            return False
        position = notifications[0].id if notifications else tracking.position
        if attempts.position != position:
            attempts.position, attempts.count = position, 0
        attempts.count += 1
        if not envelopes:  # nothing of the event itself failed: wait and try again
            attempts.retry_after(self.policy.delay(attempts.count))
            log.warning("%s: moving past position %s failed: %s", self.name, position, error)
            return False
        failure = Failure.of(envelopes[0], error, attempts.count)
        if attempts.count >= self.policy.max_attempts:
            park_event(failure, tracking)
            log.error(
                "%s: parked the event at position %s of tenant %s after %s attempts: %s",
                self.name,
                position,
                failure.envelope.tenant_id,
                attempts.count,
                failure.error,
            )
            attempts.succeeded()
            return True
        attempts.retry_after(self.policy.delay(attempts.count))
        log.warning("%s: applying position %s failed (attempt %s): %s", self.name, position, attempts.count, error)
        with self.connect() as conn:
            if tracking.hold is None:
                record_failure(conn, self.name, failure)
            else:
                record_hold_failure(conn, self.name, failure, parked=False)
        return False

    def _park_main(self, failure: Failure, tracking: Tracking) -> None:
        with self.connect() as conn:
            park(conn, tracking, failure)

    def _decode(self, notifications: Sequence[Notification], include: Callable[[str], bool]) -> list[Envelope]:
        wanted = (Envelope(n.id, self.log.decode(n)) for n in notifications if self.projection.wants(n.topic))
        return [envelope for envelope in wanted if include(envelope.tenant_id)]

    def _warm_next(self, current: list[Envelope], last: int, state: TrackingState) -> None:
        """Starts preparing the batch after `last` in the background, once the previous preparation (which
        covered the batch about to be applied) is done, so the model embeds while PostgreSQL writes."""
        if self._warmer is None:
            return
        if self._ahead is not None:
            self._ahead.result()
        self._ahead = self._warmer.submit(self._warm, current, last, state)

    def _warm(self, current: list[Envelope], last: int, state: TrackingState) -> None:
        try:
            ahead = self._decode(self.log.after(last, self.batch_size), lambda tenant: tenant not in state.held)
            if ahead and self._warming is not None:
                self._warming.warm(current, ahead)
        except Exception:  # a speed-up only: apply embeds whatever was not prepared
            log.warning("%s: preparing the next batch failed", self.name, exc_info=True)

    def catch_up(self, on_progress: Callable[[Progress], None] | None = None, stop: Event | None = None) -> int:
        """Steps until the projection reaches the head of the log (waiting out retries; parked events stay
        parked); returns the entries covered."""
        total = 0
        stop = stop or Event()
        while not stop.is_set():
            covered = self.step()
            total += covered
            if on_progress is not None:
                on_progress(Progress(self.position(), self.log.head(), total))
            if covered == 0:
                wait = self.retry_in()
                if wait is None:
                    break
                stop.wait(wait)
        return total

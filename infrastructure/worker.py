"""Runs projections: reads the log after each projection's position, applies batches, waits on NOTIFY.

Several workers may run against one database. Each projection is driven by whichever worker holds its
PostgreSQL advisory lock (the others stand by and take over when that worker's session ends), and every
batch moves the tracking row only from the exact position it started at, in the same transaction as the
rows. So a batch is applied once or not at all, whatever crashes or races happen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import Notification

from agentmem.application.base import AgentMemApplication
from agentmem.infrastructure.eventstore import EVENTS_TABLE, event_store_env, make_factory
from agentmem.infrastructure.postgres_tracking import ensure_tracking, tracking_position
from agentmem.projections.base import Envelope, Projection, Tracking, TrackingConflictError, Warming

log = logging.getLogger("agentmem.worker")
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]
DEFAULT_BATCH = 256
RATE_WINDOW = 60.0


class EventLog:
    """Reads the shared event log in position order and decodes events."""

    def __init__(self, database_url: str, pool_size: int = 2) -> None:
        factory = make_factory(database_url, pool_size)
        self._app = AgentMemApplication(event_store_env(database_url, pool_size), factory=factory)

    def after(self, position: int, limit: int) -> Sequence[Notification]:
        return self._app.recorder.select_notifications(start=position + 1, limit=limit)

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def decode(self, notification: Notification) -> Any:
        return self._app.mapper.to_domain_event(notification)

    def close(self) -> None:
        self._app.close()


@dataclass
class Progress:
    """How far a catch-up got."""

    position: int
    head: int
    events: int


class ProjectionRunner:
    """Drives one projection: reads batches after its tracked position and applies them exactly once."""

    def __init__(
        self, projection: Projection, log: EventLog, connect: Connect, batch_size: int = DEFAULT_BATCH
    ) -> None:
        self.projection = projection
        self.log = log
        self.connect = connect
        self.batch_size = batch_size
        self._recent: deque[tuple[float, int]] = deque()
        self._ahead: Future[None] | None = None
        self._warming = projection if isinstance(projection, Warming) else None
        self._warmer = ThreadPoolExecutor(1, f"warm-{projection.name}") if self._warming else None
        with self.connect() as conn:
            ensure_tracking(conn, projection.name)

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

    def step(self) -> int:
        """Applies the next batch, if any; returns how many log entries it covered."""
        previous = self.position()
        notifications = self.log.after(previous, self.batch_size)
        if not notifications:
            return 0
        envelopes = self._decode(notifications)
        self._warm_next(envelopes, notifications[-1].id)
        try:
            tracking = Tracking(self.projection.name, previous, notifications[-1].id, self._rate(len(notifications)))
            self.projection.apply(envelopes, tracking)
        except TrackingConflictError:
            log.info("%s: another worker applied this batch first", self.projection.name)
            return 0
        return len(notifications)

    def _decode(self, notifications: Sequence[Notification]) -> list[Envelope]:
        return [Envelope(n.id, self.log.decode(n)) for n in notifications if self.projection.wants(n.topic)]

    def _warm_next(self, current: list[Envelope], last: int) -> None:
        """Starts preparing the batch after `last` in the background, once the previous preparation (which
        covered the batch about to be applied) is done, so the model embeds while PostgreSQL writes."""
        if self._warmer is None:
            return
        if self._ahead is not None:
            self._ahead.result()
        self._ahead = self._warmer.submit(self._warm, current, last)

    def _warm(self, current: list[Envelope], last: int) -> None:
        try:
            ahead = self._decode(self.log.after(last, self.batch_size))
            if ahead and self._warming is not None:
                self._warming.warm(current, ahead)
        except Exception:  # a speed-up only: apply embeds whatever was not prepared
            log.warning("%s: preparing the next batch failed", self.projection.name, exc_info=True)

    def catch_up(
        self, on_progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None
    ) -> int:
        """Steps until the projection reaches the head of the log; returns the entries covered."""
        total = 0
        while not (stop and stop.is_set()):
            covered = self.step()
            total += covered
            if on_progress is not None:
                on_progress(Progress(self.position(), self.log.head(), total))
            if covered == 0:
                break
        return total


class Worker:
    """Runs every projection it can lock, waking on new events; stops cleanly when `stop` is set."""

    def __init__(
        self, database_url: str, runners: Callable[[], list[ProjectionRunner]], wait_seconds: float = 1.0
    ) -> None:
        self.database_url = database_url
        self.build_runners = runners
        self.wait_seconds = wait_seconds
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as listener:
            listener.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(EVENTS_TABLE)))
            listener.execute("LISTEN agentmem_read_models")
            runners = self.build_runners()
            try:
                self._loop(listener, runners)
            finally:
                for runner in runners:
                    runner.close()

    def _loop(self, listener: psycopg.Connection, runners: list[ProjectionRunner]) -> None:
        held: set[str] = set()
        while not self.stop.is_set():
            pending = False
            for runner in runners:
                name = runner.projection.name
                if name not in held and self._try_lock(listener, name):
                    held.add(name)
                    log.info("driving projection %s", name)
                if name in held:
                    try:
                        pending = self._drain(runner) or pending
                    except Exception:
                        log.exception("projection %s failed; retrying after a pause", name)
                        self.stop.wait(1.0)
                        pending, changed = False, True
                        break
            else:
                changed = False
            if not pending:
                changed = self._wait(listener) or changed
            if changed:
                for runner in runners:
                    runner.close()
                runners[:] = self.build_runners()  # in place: run() closes whatever is current at the end
                for name in held - {r.projection.name for r in runners}:
                    self._unlock(listener, name)
                    held.discard(name)

    def _drain(self, runner: ProjectionRunner) -> bool:
        """Applies batches until caught up; True if it stopped early to let other projections run."""
        started = time.monotonic()
        while not self.stop.is_set() and runner.step():
            if time.monotonic() - started > 5:
                return True
        return False

    def _wait(self, listener: psycopg.Connection) -> bool:
        """Waits for new events (or the timeout); True if a read model was switched."""
        changed = False
        for notify in listener.notifies(timeout=self.wait_seconds, stop_after=1):
            changed = changed or notify.channel == "agentmem_read_models"
        return changed

    @staticmethod
    def _lock_key(name: str) -> str:
        return f"agentmem:projection:{name}"

    def _try_lock(self, conn: psycopg.Connection, name: str) -> bool:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._lock_key(name),)).fetchone()
        return bool(row and row[0])

    def _unlock(self, conn: psycopg.Connection, name: str) -> None:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._lock_key(name),))

"""Runs projections: each one after its own position, independently; wakes on NOTIFY or when a retry is due.

Several workers may run against one database. Each projection is driven by whichever worker holds its
PostgreSQL advisory lock (the others stand by and take over when that worker's session ends). A projection that
fails waits out its own backoff (see runner.py) while the others go on: one failing projection never stops another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg

from agentmem.infrastructure.eventstore import EVENTS_TABLE
from agentmem.infrastructure.postgres_tracking import HOLDS_CHANNEL, READ_MODELS_CHANNEL
from agentmem.infrastructure.runner import ProjectionRunner

log = logging.getLogger("agentmem.worker")
DRAIN_SECONDS = 5.0
"""How long one projection may apply batches before the others get their turn."""


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
            for channel in (EVENTS_TABLE, READ_MODELS_CHANNEL, HOLDS_CHANNEL):
                listener.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
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
                if runner.name not in held and self._try_lock(listener, runner.name):
                    held.add(runner.name)
                    log.info("driving projection %s", runner.name)
                if runner.name in held:
                    pending = self._drain(runner) or pending
            if pending or not self._wait(listener, [r for r in runners if r.name in held]):
                continue
            for runner in runners:
                runner.close()
            runners[:] = self.build_runners()  # in place: run() closes whatever is current at the end
            for name in held - {r.name for r in runners}:
                self._unlock(listener, name)
                held.discard(name)

    def _drain(self, runner: ProjectionRunner) -> bool:
        """Applies batches until caught up (or waiting out a retry); True if it stopped early to let other
        projections run."""
        started = time.monotonic()
        while not self.stop.is_set() and runner.step():
            if time.monotonic() - started > DRAIN_SECONDS:
                return True
        return False

    def _wait(self, listener: psycopg.Connection, runners: list[ProjectionRunner]) -> bool:
        """Waits for new events, an operator's retry or skip, or the next due retry; True if a read model was
        switched."""
        timeout = min([self.wait_seconds, *(w for r in runners if (w := r.retry_in()) is not None)])
        changed = False
        for notify in listener.notifies(timeout=max(timeout, 0.01), stop_after=1):
            changed = changed or notify.channel == READ_MODELS_CHANNEL
        return changed

    @staticmethod
    def _lock_key(name: str) -> str:
        return f"agentmem:projection:{name}"

    def _try_lock(self, conn: psycopg.Connection, name: str) -> bool:
        row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._lock_key(name),)).fetchone()
        return bool(row and row[0])

    def _unlock(self, conn: psycopg.Connection, name: str) -> None:
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._lock_key(name),))

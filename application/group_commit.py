"""Group commit: concurrent single writes share one transaction, so throughput grows with concurrency.

Each caller hands in the new events of its aggregate and waits. Whichever caller finds no save in
progress becomes the leader: it takes every caller's events queued so far (its own included) and saves
them in one transaction (one table lock, one commit), then wakes the others. Callers arriving meanwhile
queue for the next round. If the shared save fails (for instance one aggregate's id already exists),
each caller's events are saved on their own, so every caller gets exactly its own result or error.
Durability is unchanged: no caller returns before its events are committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_GROUP = 500


@dataclass(eq=False)
class _Ticket:
    events: Sequence[Any]
    done: bool = False
    position: int = 0
    error: BaseException | None = None


class GroupCommit:
    """Saves events from many threads, grouping the callers that arrive while a save is running."""

    def __init__(self, save_many: Callable[[Sequence[Sequence[Any]]], list[int]]) -> None:
        self._save_many = save_many
        self._condition = threading.Condition()
        self._queue: list[_Ticket] = []
        self._saving = False

    def save(self, events: Sequence[Any]) -> int:
        """Saves one caller's events (possibly with others'); returns the log position of its last event."""
        ticket = _Ticket(events)
        with self._condition:
            self._queue.append(ticket)
            while not ticket.done:
                if self._saving:
                    self._condition.wait()
                    continue
                self._saving = True
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                self._condition.release()
                try:
                    self._run(group)
                finally:
                    self._condition.acquire()
                    self._saving = False
                    self._condition.notify_all()
        if ticket.error is not None:
            raise ticket.error
        return ticket.position

    def _run(self, group: list[_Ticket]) -> None:
        try:
            positions = self._save_many([t.events for t in group])
        except Exception:  # noqa: BLE001 - fall back to one transaction each, so errors reach their owner
            for ticket in group:
                try:
                    ticket.position = self._save_many([ticket.events])[0]
                except Exception as error:  # noqa: BLE001
                    ticket.error = error
                ticket.done = True
            return
        for ticket, position in zip(group, positions, strict=True):
            ticket.position = position
            ticket.done = True

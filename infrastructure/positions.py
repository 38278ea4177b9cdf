"""Read-your-writes: wait (bounded) until a projection has applied the log up to a given position."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg_pool import AsyncConnectionPool

from agentmem.application.reads import PositionBeyondHeadError, ProjectionBehindError
from agentmem.infrastructure.eventstore import EVENTS_TABLE
from agentmem.infrastructure.postgres_tracking import PROJECTIONS_CHANNEL

log = logging.getLogger("agentmem.positions")
_HEAD = SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(Identifier(EVENTS_TABLE))


class PostgresPositionWaiter:
    """Knows each projection's position from NOTIFY messages and waits for one to reach a target."""

    def __init__(self, pool: AsyncConnectionPool, database_url: str) -> None:
        self.pool = pool
        self.database_url = database_url
        self.known: dict[str, int] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.database_url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {PROJECTIONS_CHANNEL}")
                    async for notify in conn.notifies():
                        name, _, position = notify.payload.rpartition(":")
                        if position.isdigit() and int(position) > self.known.get(name, 0):
                            self.known[name] = int(position)
                            self._changed.set()
                            self._changed = asyncio.Event()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect after any connection failure
                log.warning("projection listener lost its connection (%s); reconnecting", error)
                await asyncio.sleep(1)

    async def _read(self, name: str) -> tuple[int, int]:
        """The projection's position and the head of the log, in one round trip."""
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                SQL("SELECT (SELECT position FROM projection_tracking WHERE name = %s), ({})").format(_HEAD),
                (name,),
                prepare=True,
            )
            row = await cursor.fetchone()
        position = int(row[0] or 0) if row else 0
        self.known[name] = max(self.known.get(name, 0), position)
        return self.known[name], int(row[1] or 0) if row else 0

    async def wait_for(self, name: str, position: int, timeout: float) -> None:  # noqa: ASYNC109
        """Returns once `name` has applied `position`; ProjectionBehindError after `timeout` seconds."""
        if self.known.get(name, 0) >= position:
            return
        started = time.monotonic()
        reached, head = await self._read(name)
        if position > head:
            raise PositionBeyondHeadError(position, head)
        while reached < position:
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise ProjectionBehindError(name, position, reached, time.monotonic() - started)
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, 0.25))
            reached = self.known.get(name, 0)
            if reached < position and not changed.is_set():
                reached, _ = await self._read(name)

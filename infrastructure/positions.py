"""Read-your-writes: wait (bounded) until a projection has applied the log up to a given position for a tenant.

A projection holds back a tenant with a parked event (see runner.py): its position moves on, the tenant's data
does not. The waiter keeps the set of held (projection, tenant) pairs in memory, reloaded when a NOTIFY says it
changed, so a read of a tenant that is not held costs nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg_pool import AsyncConnectionPool

from agentmem.application.reads import PositionBeyondHeadError, ProjectionBehindError, TenantHeldError
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
        self._held: set[tuple[str, str]] | None = None  # None: to be read
        self._held_changes = 0
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
                    self._forget_held()  # what changed while no one listened
                    async for notify in conn.notifies():
                        name, _, position = notify.payload.rpartition(":")
                        if name == "holds":
                            self._forget_held()
                        elif position.isdigit() and int(position) > self.known.get(name, 0):
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

    def _forget_held(self) -> None:
        self._held = None
        self._held_changes += 1

    async def _check_held(self, name: str, position: int, tenant_id: str) -> None:
        """TenantHeldError if the projection holds the tenant back before `position`."""
        held = self._held
        if held is None:
            changes = self._held_changes
            async with self.pool.connection() as conn:
                cursor = await conn.execute("SELECT projection, tenant_id FROM projection_holds")
                held = {(str(p), str(t)) for p, t in await cursor.fetchall()}
            if changes == self._held_changes:  # else a change arrived meanwhile: read again next time
                self._held = held
        if (name, tenant_id) not in held:
            return
        async with self.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT position FROM projection_holds WHERE projection = %s AND tenant_id = %s", (name, tenant_id)
            )
            row = await cursor.fetchone()
        if row is not None and int(row[0]) < position:
            raise TenantHeldError(name, position, int(row[0]))

    async def wait_for(self, name: str, position: int, timeout: float, tenant_id: str) -> None:  # noqa: ASYNC109
        """Returns once `name` has applied `position` for the tenant; ProjectionBehindError after `timeout` seconds,
        TenantHeldError if the tenant is held back before it."""
        await self._reach(name, position, timeout)
        await self._check_held(name, position, tenant_id)

    async def _reach(self, name: str, position: int, timeout: float) -> None:  # noqa: ASYNC109
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

"""Parked events in PostgreSQL (`projection_holds`, see postgres_tracking.py): listed, and the state changes
operators ask for. The worker holding a projection's lock does the work; these only mark what it should do."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable, Composed
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.application.operations import ParkedEvent
from agentmem.infrastructure.postgres_tracking import HOLDS_CHANNEL

_COLUMNS = SQL(
    "projection, failed_position AS position, tenant_id, event_type, aggregate_id, version, state, error, attempts,"
    " position AS applied_to, parked_at, updated_at"
)
_PARKED = SQL("SELECT {c} FROM projection_holds").format(c=_COLUMNS)
_ORDER = SQL(" ORDER BY parked_at, projection, failed_position")


def _parked(rows: list[dict[str, Any]]) -> list[ParkedEvent]:
    return [ParkedEvent(**row) for row in rows]


class PostgresProjectionHolds:
    """Lists parked events and marks them for retry or skip, then wakes the workers."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def parked(self, projection: str | None = None) -> list[ParkedEvent]:
        where = SQL(" WHERE projection = %(projection)s") if projection is not None else SQL("")
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(_PARKED + where + _ORDER, {"projection": projection})
            return _parked(cursor.fetchall())

    def request_retry(self, projection: str | None, position: int | None) -> list[ParkedEvent]:
        conditions: list[Composable] = [SQL("state = 'parked'")]
        if projection is not None:
            conditions.append(SQL("projection = %(projection)s"))
        if position is not None:
            conditions.append(SQL("failed_position = %(position)s"))
        statement = SQL(
            "UPDATE projection_holds SET state = 'retrying', attempts = 0, updated_at = now() WHERE {w} RETURNING {c}"
        ).format(w=SQL(" AND ").join(conditions), c=_COLUMNS)
        return self._change(statement, {"projection": projection, "position": position})

    def begin_skip(self, projection: str, position: int) -> ParkedEvent | None:
        statement = SQL(
            "UPDATE projection_holds SET state = 'skipping', updated_at = now() WHERE projection = %(projection)s"
            " AND failed_position = %(position)s AND state IN ('parked', 'skipping') RETURNING {c}"
        ).format(c=_COLUMNS)
        changed = self._change(statement, {"projection": projection, "position": position}, wake=False)
        return changed[0] if changed else None

    def finish_skip(self, projection: str, position: int) -> bool:
        statement = SQL(
            "UPDATE projection_holds SET state = 'retrying', position = failed_position, attempts = 0,"
            " updated_at = now() WHERE projection = %(projection)s AND failed_position = %(position)s"
            " AND state = 'skipping' RETURNING {c}"
        ).format(c=_COLUMNS)
        return bool(self._change(statement, {"projection": projection, "position": position}))

    def _change(self, statement: Composed, params: dict[str, Any], *, wake: bool = True) -> list[ParkedEvent]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(statement, params)
            changed = _parked(cursor.fetchall())
            if changed and wake:
                cursor.execute("SELECT pg_notify(%s, '')", (HOLDS_CHANNEL,))
        return changed


async def parked_events(pool: AsyncConnectionPool) -> list[ParkedEvent]:
    """Every held tenant of every projection, oldest first (for the API's operational views)."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_PARKED + _ORDER)
        return _parked(await cursor.fetchall())

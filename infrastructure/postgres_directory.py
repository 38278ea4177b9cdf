"""The directory in PostgreSQL: `organizations`, `users` and `api_keys`, guarded by row-level security."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable, Composed, Identifier
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_paging import Keyset
from agentmem.infrastructure.postgres_tracking import move_tracking
from agentmem.infrastructure.rls import rls_ddl, tenant_transaction
from agentmem.projections.base import Tracking
from agentmem.projections.directory import DirectoryChange, DirectoryPage

_COMMON = "id uuid PRIMARY KEY, tenant_id text NOT NULL, version integer NOT NULL, created_at timestamptz NOT NULL,"
_COMMON += " updated_at timestamptz NOT NULL, "
TABLES = {
    "organizations": "name text NOT NULL, status text NOT NULL, quotas jsonb NOT NULL, deleted boolean NOT NULL",
    "users": "email text NOT NULL, name text NOT NULL, role text NOT NULL, superadmin boolean NOT NULL,"
    " disabled boolean NOT NULL, deleted boolean NOT NULL",
    "api_keys": "name text NOT NULL, role text NOT NULL, prefix text NOT NULL, user_id text, created_by text NOT NULL,"
    " expires_at timestamptz, revoked boolean NOT NULL",
}
LIVE = {"organizations": "NOT deleted", "users": "NOT deleted", "api_keys": "true"}


def prepare_directory(conn: psycopg.Connection) -> None:
    for table, columns in TABLES.items():
        t = Identifier(table)
        conn.execute(SQL("CREATE TABLE IF NOT EXISTS {t} (" + _COMMON + columns + ")").format(t=t))
        index = Identifier(f"{table}_tenant_created")
        conn.execute(SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (tenant_id, created_at, id)").format(i=index, t=t))
        for statement in rls_ddl(table, platform_rows=table == "organizations"):
            conn.execute(statement)


def _value(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


class PostgresDirectoryView:
    """Applies directory changes and the tracking in one transaction."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def apply(self, changes: Sequence[DirectoryChange], tracking: Tracking) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            move_tracking(cursor, tracking, events=len(changes))
            for change in changes:
                statement, params = self._statement(change)
                cursor.execute(statement, params)

    @staticmethod
    def _statement(change: DirectoryChange) -> tuple[Composed, dict[str, Any]]:
        params = {f"c_{k}": _value(v) for k, v in change.columns.items()}
        params.update(id=change.id, tenant_id=change.tenant_id, version=change.version, at=change.timestamp)
        t = Identifier(change.table)
        if change.created:
            names = [Identifier(k) for k in change.columns]
            values = [SQL("%({})s").format(SQL("c_" + k)) for k in change.columns]
            return SQL(
                "INSERT INTO {t} (id, tenant_id, version, created_at, updated_at, {names})"
                " VALUES (%(id)s, %(tenant_id)s, %(version)s, %(at)s, %(at)s, {values}) ON CONFLICT (id) DO NOTHING"
            ).format(t=t, names=SQL(", ").join(names), values=SQL(", ").join(values)), params
        sets: list[Composable] = [SQL("{} = %({})s").format(Identifier(k), SQL("c_" + k)) for k in change.columns]
        sets += [SQL("version = %(version)s"), SQL("updated_at = %(at)s")]
        statement = SQL("UPDATE {t} SET {sets} WHERE id = %(id)s AND version < %(version)s")
        return statement.format(t=t, sets=SQL(", ").join(sets)), params


class PostgresDirectory:
    """Lists users, keys and organizations, oldest first, as the row-level-security reader role."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def page(
        self, table: str, tenant_id: str, limit: int, cursor: str | None, *, platform: bool = False
    ) -> DirectoryPage:
        """One page; `platform` lists every organization (platform admins only)."""
        p = Params()
        keyset = Keyset("created_asc")
        conditions: list[Composable] = [SQL(LIVE[table])]
        if not platform:
            conditions.append(SQL("tenant_id = {}").format(p.add(tenant_id)))
        after = keyset.after(cursor, p)
        if after is not None:
            conditions.append(after)
        statement = SQL("SELECT * FROM {t} WHERE {c} ORDER BY {order} LIMIT {limit}").format(
            t=Identifier(table), c=SQL(" AND ").join(conditions), order=keyset.order_by, limit=p.add(limit + 1)
        )
        async with self.pool.connection() as conn, tenant_transaction(conn, tenant_id, platform=platform):
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(statement, p)
            records = await cur.fetchall()
        return DirectoryPage(records[:limit], keyset.next_cursor(records, limit))

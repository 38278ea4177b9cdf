"""The audit trail in PostgreSQL: `audit_log`, one row per event, tenant rows guarded by row-level security."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_tracking import move_tracking
from agentmem.infrastructure.rls import rls_ddl, tenant_transaction
from agentmem.projections.audit import AuditEntry, AuditPage, AuditQuery
from agentmem.projections.base import Tracking

TABLE = "audit_log"
DDL = [
    SQL(
        "CREATE TABLE IF NOT EXISTS audit_log (position bigint PRIMARY KEY, tenant_id text NOT NULL,"
        " actor_id text NOT NULL, action text NOT NULL, aggregate_type text NOT NULL, aggregate_id uuid NOT NULL,"
        " version integer NOT NULL, timestamp timestamptz NOT NULL, request_id text NOT NULL)"
    ),
    SQL("CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log (tenant_id, position)"),
    SQL("CREATE INDEX IF NOT EXISTS audit_log_aggregate ON audit_log (tenant_id, aggregate_id, position)"),
    SQL("CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (tenant_id, actor_id, position)"),
    *rls_ddl(TABLE),
]
COLUMNS = tuple(AuditEntry.__dataclass_fields__)
_INSERT = SQL(
    "INSERT INTO audit_log (" + ", ".join(COLUMNS) + ") VALUES (" + ", ".join(f"%({c})s" for c in COLUMNS) + ")"
    " ON CONFLICT (position) DO NOTHING"
)


def prepare_audit(conn: psycopg.Connection) -> None:
    for statement in DDL:
        conn.execute(statement)


class PostgresAuditView:
    """Writes audit entries and the projection's tracking in one transaction."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def apply(self, entries: Sequence[AuditEntry], tracking: Tracking) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            move_tracking(cursor, tracking, events=len(entries))
            if entries:
                cursor.executemany(_INSERT, [{c: getattr(e, c) for c in COLUMNS} for e in entries])


class PostgresAuditTrail:
    """Pages through one tenant's audit entries as the row-level-security reader role."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def page(self, query: AuditQuery) -> AuditPage:
        p = Params()
        conditions: list[Composable] = [SQL("tenant_id = {}").format(p.add(query.tenant_id))]
        for column in ("actor_id", "aggregate_type", "aggregate_id", "action"):
            value = getattr(query, column)
            if value is not None:
                conditions.append(SQL(column + " = {}").format(p.add(value)))
        if query.since is not None:
            conditions.append(SQL("timestamp >= {}").format(p.add(query.since)))
        if query.until is not None:
            conditions.append(SQL("timestamp < {}").format(p.add(query.until)))
        if query.after is not None:
            comparison = ">" if query.order == "asc" else "<"
            conditions.append(SQL("position " + comparison + " {}").format(p.add(query.after)))
        statement = SQL(
            "SELECT " + ", ".join(COLUMNS) + " FROM audit_log WHERE {conditions}"
            " ORDER BY position " + query.order.upper() + " LIMIT {limit}"
        ).format(conditions=SQL(" AND ").join(conditions), limit=p.add(query.limit + 1))
        async with self.pool.connection() as conn, tenant_transaction(conn, query.tenant_id):
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(statement, p)
            records = await cursor.fetchall()
        items = [AuditEntry(**r) for r in records[: query.limit]]
        next_after = items[-1].position if len(records) > query.limit else None
        return AuditPage(items, next_after)

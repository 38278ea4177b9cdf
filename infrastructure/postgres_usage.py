"""The usage read model in PostgreSQL: table `llm_usage`, one row per model call; platform admins see every row."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable
from agentmem.infrastructure.rls import rls_ddl, tenant_transaction
from agentmem.infrastructure.settings import Settings
from agentmem.projections.base import Projection
from agentmem.projections.usage import USAGE, UsageGroup, UsageProjection, UsageQuery, UsageRow

DDL = (
    "CREATE TABLE IF NOT EXISTS llm_usage ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, actor_id text NOT NULL, purpose text NOT NULL,"
    " provider text NOT NULL, model text NOT NULL, agent_id text, input_tokens integer NOT NULL,"
    " output_tokens integer NOT NULL, cached_tokens integer NOT NULL, latency_ms double precision NOT NULL,"
    " retries integer NOT NULL, outcome text NOT NULL, cost_usd double precision, created_at timestamptz NOT NULL,"
    " position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS llm_usage_tenant_time ON llm_usage (tenant_id, created_at)",
    "CREATE INDEX IF NOT EXISTS llm_usage_time ON llm_usage (created_at)",
)
TABLE = RowTable(USAGE, UsageRow.__dataclass_fields__)
KEYS = {
    "day": SQL("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
    "model": SQL("provider || ':' || model"),
    "purpose": SQL("purpose"),
    "agent": SQL("agent_id"),
}
SUMMARY = {
    group_by: SQL(
        "SELECT tenant_id AS organization_id, {key} AS key, count(*) AS calls,"
        " count(*) FILTER (WHERE outcome <> 'ok') AS errors, coalesce(sum(retries), 0) AS retries,"
        " coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,"
        " coalesce(sum(cached_tokens), 0) AS cached_tokens, sum(cost_usd) AS cost_usd,"
        " avg(latency_ms) AS mean_latency_ms"
        " FROM llm_usage WHERE created_at >= %(since)s AND created_at < %(until)s"
        " AND (%(all)s OR tenant_id = %(tenant)s)"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    ).format(key=key)
    for group_by, key in KEYS.items()
}


def prepare_usage(conn: psycopg.Connection) -> None:
    """Creates the usage table, its indexes and its row-level security policy (platform admins see all rows)."""
    for statement in DDL:
        conn.execute(statement)
    for statement in rls_ddl(USAGE, platform_rows=True):
        conn.execute(statement)


def usage_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the usage read model."""
    return UsageProjection(PostgresRowView(pool, TABLE))


class PostgresUsageQueries:
    """Usage sums per group, for one organization or (platform admins) all of them."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def summary(self, query: UsageQuery) -> list[UsageGroup]:
        params = {"since": query.since, "until": query.until, "all": query.all_tenants, "tenant": query.tenant_id}
        async with (
            self.pool.connection() as conn,
            tenant_transaction(conn, query.tenant_id, platform=query.all_tenants),
        ):
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(SUMMARY[query.group_by], params)
            rows = await cur.fetchall()
        return [
            UsageGroup(
                **{
                    **r,
                    "cost_usd": None if r["cost_usd"] is None else round(r["cost_usd"], 6),
                    "mean_latency_ms": round(float(r["mean_latency_ms"] or 0), 3),
                }
            )
            for r in rows
        ]

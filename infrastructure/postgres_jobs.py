"""The jobs read model in PostgreSQL: table `jobs`, one row per job, tenant rows behind row-level security."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable, prepare_table
from agentmem.infrastructure.settings import Settings
from agentmem.projections.base import Projection
from agentmem.projections.jobs import READ_MODEL, JobPage, JobRow, JobsProjection
from agentmem.projections.queries import ListOrder

DDL = (
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, kind text NOT NULL, status text NOT NULL, episode_id uuid,"
    " user_id text, agent_id text, run_id text, attempts integer NOT NULL, error text, next_attempt_at timestamptz,"
    " version integer NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " created_by text NOT NULL, updated_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jobs_created ON jobs (tenant_id, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (tenant_id, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS jobs_episode ON jobs (tenant_id, episode_id) WHERE episode_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (updated_at) WHERE status IN ('queued', 'running')",
)
TABLE = RowTable(READ_MODEL, JobRow.__dataclass_fields__)
UNFINISHED_COUNTS = "SELECT kind, status, count(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY 1, 2"
UNFINISHED = SQL(
    "SELECT {select} FROM jobs WHERE status IN ('queued', 'running') AND ("
    " (status = 'queued' AND coalesce(next_attempt_at, updated_at) < %(queued_before)s)"
    " OR (status = 'running' AND updated_at < %(running_before)s))"
    " ORDER BY updated_at LIMIT %(limit)s"
).format(select=TABLE.select)


def prepare_jobs(conn: psycopg.Connection) -> None:
    """Creates the jobs table, its indexes and its row-level security policy."""
    prepare_table(conn, DDL, READ_MODEL)


def jobs_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the jobs read model."""
    return JobsProjection(PostgresRowView(pool, TABLE))


class PostgresJobQueries:
    """A tenant's jobs by status, kind and episode; every tenant's unfinished jobs for the job worker's sweep."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def list(
        self,
        tenant_id: str,
        *,
        status: str | None,
        kind: str | None,
        episode_id: UUID | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
    ) -> JobPage:
        params = Params()
        conditions: list[Composable] = []
        for column, value in (("status", status), ("kind", kind), ("episode_id", episode_id)):
            if value is not None:
                conditions.append(SQL(column + " = {}").format(params.add(value)))
        records, next_cursor = await TABLE.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return JobPage([JobRow(**r) for r in records], next_cursor)

    async def unfinished_counts(self) -> dict[tuple[str, str], int]:
        """Read as the table owner, from the index of unfinished jobs."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(UNFINISHED_COUNTS)
            return {(kind, status): int(count) for kind, status, count in await cur.fetchall()}

    async def unfinished(self, queued_before: datetime, running_before: datetime, limit: int) -> Sequence[JobRow]:
        """Read as the table owner (the worker serves every tenant), outside row-level security."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                UNFINISHED, {"queued_before": queued_before, "running_before": running_before, "limit": limit}
            )
            return [JobRow(**r) for r in await cur.fetchall()]

"""The runs read model in PostgreSQL: table `runs`, one row per run, tenant rows behind row-level security."""

from __future__ import annotations

from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable, prepare_table
from agentmem.infrastructure.settings import Settings
from agentmem.projections.base import Projection
from agentmem.projections.queries import ListOrder
from agentmem.projections.runs import READ_MODEL, RunPage, RunRow, RunsProjection

DDL = (
    "CREATE TABLE IF NOT EXISTS runs ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, agent_id uuid NOT NULL, provider text NOT NULL,"
    " model text NOT NULL, status text NOT NULL, stop_reason text, steps integer NOT NULL, version integer NOT NULL,"
    " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, created_by text NOT NULL,"
    " updated_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS runs_agent_created ON runs (tenant_id, agent_id, created_at DESC, id DESC)",
)
TABLE = RowTable(READ_MODEL, RunRow.__dataclass_fields__)


def prepare_runs(conn: psycopg.Connection) -> None:
    """Creates the runs table, its index and its row-level security policy."""
    prepare_table(conn, DDL, READ_MODEL)


def runs_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the runs read model."""
    return RunsProjection(PostgresRowView(pool, TABLE))


class PostgresRunQueries:
    """An agent's runs, by creation time."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def list(
        self, tenant_id: str, *, agent_id: UUID, order: ListOrder, limit: int, cursor: str | None
    ) -> RunPage:
        params = Params()
        conditions: list[Composable] = [SQL("agent_id = {}").format(params.add(agent_id))]
        records, next_cursor = await TABLE.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return RunPage([RunRow(**r) for r in records], next_cursor)

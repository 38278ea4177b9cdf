"""The agents read model in PostgreSQL: table `agents`, one row per agent, tenant rows behind row-level security."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable, prepare_table
from agentmem.infrastructure.settings import Settings
from agentmem.projections.agents import AgentPage, AgentRow, AgentsProjection
from agentmem.projections.base import Projection
from agentmem.projections.queries import ListOrder

DDL = (
    "CREATE TABLE IF NOT EXISTS agents ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, description text, system text NOT NULL,"
    " llm jsonb, embedding jsonb, block_ids uuid[] NOT NULL, tool_ids uuid[] NOT NULL, tags text[] NOT NULL,"
    " metadata jsonb NOT NULL, context_template text, version integer NOT NULL, deleted boolean NOT NULL DEFAULT false,"
    " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, created_by text NOT NULL,"
    " updated_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS agents_created ON agents (tenant_id, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS agents_updated ON agents (tenant_id, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS agents_tags ON agents USING gin (tags)",
    "CREATE INDEX IF NOT EXISTS agents_blocks ON agents USING gin (block_ids)",
)
TABLE = RowTable(
    "agents",
    AgentRow.__dataclass_fields__,
    json_fields=("llm", "embedding", "metadata"),
    array_types={"block_ids": "uuid[]", "tool_ids": "uuid[]", "tags": "text[]"},
)


def prepare_agents(conn: psycopg.Connection) -> None:
    """Creates the agents table, its indexes and its row-level security policy."""
    prepare_table(conn, DDL, "agents")


def agents_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the agents read model."""
    return AgentsProjection(PostgresRowView(pool, TABLE))


class PostgresAgentQueries:
    """Lists of agents, by tags."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def list(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str],
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> AgentPage:
        params = Params()
        conditions: list[Composable] = []
        if not include_deleted:
            conditions.append(SQL("NOT deleted"))
        if tags:
            conditions.append(SQL("tags @> {}::text[]").format(params.add(list(tags))))
        records, next_cursor = await TABLE.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return AgentPage([AgentRow(**r) for r in records], next_cursor)

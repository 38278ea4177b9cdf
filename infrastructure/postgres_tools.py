"""The tools and tool runs read models in PostgreSQL: tables `tools` and `tool_runs`, behind row-level security."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable, prepare_table
from agentmem.infrastructure.settings import Settings
from agentmem.projections.base import Projection
from agentmem.projections.queries import ListOrder
from agentmem.projections.tools import (
    RunOrder,
    ToolPage,
    ToolRow,
    ToolRunPage,
    ToolRunRow,
    ToolRunsProjection,
    ToolsProjection,
)

TOOLS_DDL = (
    "CREATE TABLE IF NOT EXISTS tools ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, name text NOT NULL, description text NOT NULL,"
    " parameters jsonb NOT NULL, language text NOT NULL, source text NOT NULL, timeout_s double precision NOT NULL,"
    " memory_mb integer NOT NULL, secrets text[] NOT NULL, tags text[] NOT NULL, version integer NOT NULL,"
    " deleted boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
    " created_by text NOT NULL, updated_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tools_created ON tools (tenant_id, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS tools_updated ON tools (tenant_id, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS tools_name ON tools (tenant_id, name)",
    "CREATE INDEX IF NOT EXISTS tools_tags ON tools USING gin (tags)",
)
RUNS_DDL = (
    "CREATE TABLE IF NOT EXISTS tool_runs ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, tool_id uuid NOT NULL, tool_version integer NOT NULL,"
    " args jsonb NOT NULL, status text NOT NULL, exit_code integer, duration_ms double precision NOT NULL,"
    " stdout text NOT NULL, stderr text NOT NULL, return_value jsonb, truncated boolean NOT NULL, error text,"
    " agent_run_id text, created_at timestamptz NOT NULL, created_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tool_runs_tool ON tool_runs (tenant_id, tool_id, created_at DESC, id DESC)",
)
TOOLS = RowTable(
    "tools",
    ToolRow.__dataclass_fields__,
    json_fields=("parameters",),
    array_types={"secrets": "text[]", "tags": "text[]"},
)
RUNS = RowTable("tool_runs", ToolRunRow.__dataclass_fields__, json_fields=("args", "return_value"))


def prepare_tools(conn: psycopg.Connection) -> None:
    """Creates the tools table, its indexes and its row-level security policy."""
    prepare_table(conn, TOOLS_DDL, "tools")


def prepare_tool_runs(conn: psycopg.Connection) -> None:
    """Creates the tool runs table, its index and its row-level security policy."""
    prepare_table(conn, RUNS_DDL, "tool_runs")


def tools_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the tools read model."""
    return ToolsProjection(PostgresRowView(pool, TOOLS))


def tool_runs_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the tool runs read model."""
    return ToolRunsProjection(PostgresRowView(pool, RUNS))


class PostgresToolQueries:
    """Lists of tools (by tags, name, language) and of one tool's runs."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def list(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str],
        name: str | None,
        language: str | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> ToolPage:
        params = Params()
        conditions: list[Composable] = []
        if not include_deleted:
            conditions.append(SQL("NOT deleted"))
        if tags:
            conditions.append(SQL("tags @> {}::text[]").format(params.add(list(tags))))
        if name is not None:
            conditions.append(SQL("name = {}").format(params.add(name)))
        if language is not None:
            conditions.append(SQL("language = {}").format(params.add(language)))
        records, next_cursor = await TOOLS.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return ToolPage([ToolRow(**r) for r in records], next_cursor)

    async def runs(
        self, tenant_id: str, tool_id: UUID, *, order: RunOrder, limit: int, cursor: str | None
    ) -> ToolRunPage:
        params = Params()
        conditions: list[Composable] = [SQL("tool_id = {}").format(params.add(tool_id))]
        records, next_cursor = await RUNS.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return ToolRunPage([ToolRunRow(**r) for r in records], next_cursor)

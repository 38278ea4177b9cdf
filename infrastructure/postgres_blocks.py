"""The blocks read model in PostgreSQL: table `blocks`, one row per block, tenant rows behind row-level security."""

from __future__ import annotations

from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composable
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.infrastructure.postgres_filters import Params
from agentmem.infrastructure.postgres_rows import PostgresRowView, RowTable, prepare_table
from agentmem.infrastructure.settings import Settings
from agentmem.projections.base import Projection
from agentmem.projections.blocks import BlockPage, BlockRow, BlocksProjection
from agentmem.projections.queries import ListOrder

DDL = (
    "CREATE TABLE IF NOT EXISTS blocks ("
    " id uuid PRIMARY KEY, tenant_id text NOT NULL, label text NOT NULL, value text NOT NULL,"
    " char_limit integer NOT NULL, description text, read_only boolean NOT NULL, metadata jsonb NOT NULL,"
    " version integer NOT NULL, deleted boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL,"
    " updated_at timestamptz NOT NULL, created_by text NOT NULL, updated_by text NOT NULL, position bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blocks_created ON blocks (tenant_id, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS blocks_updated ON blocks (tenant_id, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS blocks_label ON blocks (tenant_id, label, created_at DESC, id DESC)",
)
TABLE = RowTable("blocks", BlockRow.__dataclass_fields__, renamed={"limit": "char_limit"}, json_fields=("metadata",))


def prepare_blocks(conn: psycopg.Connection) -> None:
    """Creates the blocks table, its indexes and its row-level security policy."""
    prepare_table(conn, DDL, "blocks")


def blocks_projection(pool: ConnectionPool, settings: Settings) -> Projection:  # noqa: ARG001
    """The projector a worker runs for the blocks read model."""
    return BlocksProjection(PostgresRowView(pool, TABLE))


class PostgresBlockQueries:
    """Lists of blocks by label and by agent (through the agents read model)."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def list(
        self,
        tenant_id: str,
        *,
        label: str | None,
        agent_id: UUID | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> BlockPage:
        params = Params()
        conditions: list[Composable] = []
        if not include_deleted:
            conditions.append(SQL("NOT deleted"))
        if label is not None:
            conditions.append(SQL("label = {}").format(params.add(label)))
        if agent_id is not None:
            conditions.append(
                SQL("id = ANY(SELECT unnest(a.block_ids) FROM agents a WHERE a.tenant_id = {t} AND a.id = {a})").format(
                    t=params.add(tenant_id), a=params.add(agent_id)
                )
            )
        records, next_cursor = await TABLE.page(self.pool, tenant_id, conditions, params, order, limit, cursor)
        return BlockPage([BlockRow(**r) for r in records], next_cursor)

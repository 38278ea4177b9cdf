"""Shared SQL for plain read models (one row per aggregate): inserts, versioned changes and cursor pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change


class RowTable:
    """One plain read-model table: how fields map to columns, and the statements that change its rows."""

    def __init__(
        self,
        table: str,
        fields: Sequence[str],
        *,
        renamed: Mapping[str, str] | None = None,
        json_fields: Iterable[str] = (),
        array_types: Mapping[str, str] | None = None,
    ) -> None:
        self.table = Identifier(table)
        self.fields = tuple(fields)
        self.renamed = dict(renamed or {})
        self.json_fields = frozenset(json_fields)
        self.array_types = dict(array_types or {})
        columns = [Identifier(self.column(f)) for f in (*self.fields, "position")]
        self.insert = SQL("INSERT INTO {t} ({columns}) VALUES ({values}) ON CONFLICT (id) DO NOTHING").format(
            t=self.table,
            columns=SQL(", ").join(columns),
            values=SQL(", ").join(SQL("%s") for _ in columns),
        )
        self.select = SQL(", ").join(SQL("{} AS {}").format(Identifier(self.column(f)), Identifier(f)) for f in fields)
        self._updates: dict[tuple[tuple[str, ...], ...], Composed] = {}

    def column(self, field: str) -> str:
        return self.renamed.get(field, field)

    def value(self, field: str, value: Any) -> Any:
        return Jsonb(value) if field in self.json_fields and value is not None else value

    def insert_params(self, row: Any, position: int) -> list[Any]:
        return [self.value(f, getattr(row, f)) for f in self.fields] + [position]

    def apply(self, cursor: psycopg.Cursor, change: Change) -> None:
        """Applies one change if the row is older than it (so replays and retries change nothing twice)."""
        shape = (tuple(change.columns), tuple(change.appended), tuple(change.added), tuple(change.removed))
        statement = self._updates.get(shape)
        if statement is None:
            statement = self._updates[shape] = self._update_statement(*shape)
        params: dict[str, Any] = {
            "id": change.id,
            "version": change.version,
            "position": change.position,
            "updated_at": change.updated_at,
            "updated_by": change.updated_by,
        }
        params.update({f"set_{f}": self.value(f, v) for f, v in change.columns.items()})
        params.update({f"append_{f}": v for f, v in change.appended.items()})
        params.update({f"add_{f}": v for f, v in change.added.items()})
        params.update({f"remove_{f}": v for f, v in change.removed.items()})
        cursor.execute(statement, params, prepare=True)

    def _update_statement(
        self, columns: tuple[str, ...], appended: tuple[str, ...], added: tuple[str, ...], removed: tuple[str, ...]
    ) -> Composed:
        sets: list[Composable] = []
        for f in columns:
            sets.append(SQL("{c} = %({p})s").format(c=Identifier(self.column(f)), p=SQL(f"set_{f}")))
        for f in appended:
            sets.append(SQL("{c} = {c} || %({p})s").format(c=Identifier(self.column(f)), p=SQL(f"append_{f}")))
        for f in added:
            sets.append(
                SQL("{c} = {c} || %({p})s::" + self.array_types[f]).format(
                    c=Identifier(self.column(f)), p=SQL(f"add_{f}")
                )
            )
        for f in removed:
            sets.append(
                SQL(
                    "{c} = ARRAY(SELECT x FROM unnest({c}) WITH ORDINALITY AS u(x, o)"
                    " WHERE x <> ALL(%({p})s::" + self.array_types[f] + ") ORDER BY o)"
                ).format(c=Identifier(self.column(f)), p=SQL(f"remove_{f}"))
            )
        sets += [
            SQL("version = %(version)s"),
            SQL("position = %(position)s"),
            SQL("updated_at = %(updated_at)s"),
            SQL("updated_by = %(updated_by)s"),
        ]
        return SQL("UPDATE {t} SET {sets} WHERE id = %(id)s AND version < %(version)s").format(
            t=self.table, sets=SQL(", ").join(sets)
        )

    async def page(
        self,
        pool: AsyncConnectionPool,
        tenant_id: str,
        conditions: list[Composable],
        params: Params,
        order: ListOrder,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of rows of one tenant, in `order`, after `cursor`; and the cursor for the next page."""
        keyset = Keyset(order)
        where = [SQL("tenant_id = {}").format(params.add(tenant_id)), *conditions]
        after = keyset.after(cursor, params)
        if after is not None:
            where.append(after)
        statement = SQL("SELECT {select} FROM {t} WHERE {where} ORDER BY {order} LIMIT {limit}").format(
            select=self.select,
            t=self.table,
            where=SQL(" AND ").join(where),
            order=keyset.order_by,
            limit=params.add(limit + 1),
        )
        async with pool.connection() as conn, tenant_transaction(conn, tenant_id):
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(statement, params)
            records = await cur.fetchall()
        return records[:limit], keyset.next_cursor(records, limit)


class PostgresRowView:
    """Applies projection batches to one row table; rows and tracking in one transaction."""

    def __init__(self, pool: ConnectionPool, table: RowTable) -> None:
        self.pool = pool
        self.table = table

    def apply(self, rows: Sequence[tuple[Any, int]], changes: Sequence[Change], tracking: Tracking) -> None:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            move_tracking(cursor, tracking, events=len(rows) + len(changes))
            if rows:
                cursor.executemany(self.table.insert, [self.table.insert_params(r, position) for r, position in rows])
            for change in changes:
                self.table.apply(cursor, change)


def prepare_table(conn: psycopg.Connection, ddl: Iterable[str], table: str) -> None:
    """Creates a row table with its indexes, and its row-level security policy."""
    for statement in ddl:
        conn.execute(statement)
    for statement in rls_ddl(table):
        conn.execute(statement)

"""Row-level security on read-model tables: the second wall between tenants.

Every tenant table gets a policy that shows only rows whose `tenant_id` equals the per-transaction setting
`agentmem.tenant_id`. Table owners and superusers bypass RLS, so the projection worker (the owner) writes
freely, while API reads run `SET LOCAL ROLE agentmem_reader` (a NOLOGIN role without BYPASSRLS) first:
a read that forgets the tenant setting sees no rows at all.

A DATABASE_URL user that is not a superuser needs CREATEROLE (or an admin runs, once,
`CREATE ROLE agentmem_reader NOLOGIN; GRANT agentmem_reader TO <user>;`), and must own the tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.sql import SQL, Composed, Identifier, Literal

READER_ROLE = "agentmem_reader"
TENANT_SETTING = "agentmem.tenant_id"
PLATFORM_SETTING = "agentmem.platform"

_CREATE_ROLE = SQL(
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) THEN"
    "  BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;"
    " END IF;"
    " IF NOT pg_has_role(current_user, {name}, 'MEMBER') THEN EXECUTE format('GRANT %I TO %I', {name}, current_user);"
    " END IF;"
    " END $$"
)
_ENTER = "SELECT set_config('role', %s, true), set_config(%s, %s, true), set_config(%s, %s, true)"


def ensure_reader_role(conn: psycopg.Connection) -> None:
    """Creates the reader role once and lets the connecting user switch to it."""
    conn.execute(_CREATE_ROLE.format(role=Identifier(READER_ROLE), name=Literal(READER_ROLE)))


def rls_ddl(table: str, *, platform_rows: bool = False) -> list[Composed]:
    """Turns RLS on for a table with a `tenant_id` column; `platform_rows` lets platform admins see every row.

    Idempotent, and takes no table lock when the table is already protected (safe on every start).
    """
    visible = "tenant_id = current_setting('" + TENANT_SETTING + "', true)"
    if platform_rows:
        visible += " OR current_setting('" + PLATFORM_SETTING + "', true) = 'on'"
    names = {"t": Identifier(table), "name": Literal(table), "role": Identifier(READER_ROLE)}
    return [
        SQL(
            "DO $$ BEGIN"
            " IF NOT (SELECT relrowsecurity FROM pg_class WHERE oid = {name}::regclass) THEN"
            "  ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; END IF;"
            " IF NOT EXISTS (SELECT FROM pg_policies WHERE schemaname = current_schema() AND tablename = {name}"
            "  AND policyname = 'tenant_rows') THEN"
            "  CREATE POLICY tenant_rows ON {t} FOR SELECT USING (" + visible + "); END IF;"
            " IF NOT has_table_privilege({role_name}, {name}::regclass, 'SELECT') THEN"
            "  GRANT SELECT ON {t} TO {role}; END IF;"
            " END $$"
        ).format(role_name=Literal(READER_ROLE), **names)
    ]


async def enter_tenant(conn: psycopg.AsyncConnection, tenant_id: str, *, platform: bool = False) -> None:
    """Inside an open transaction: read as the reader role, seeing only `tenant_id`'s rows from now on."""
    await conn.execute(
        _ENTER,
        (READER_ROLE, TENANT_SETTING, tenant_id, PLATFORM_SETTING, "on" if platform else "off"),
        prepare=True,
    )


@asynccontextmanager
async def tenant_transaction(
    conn: psycopg.AsyncConnection, tenant_id: str, *, platform: bool = False
) -> AsyncIterator[psycopg.AsyncConnection]:
    """A read transaction that sees only one tenant's rows (and every row of platform tables if `platform`)."""
    async with conn.transaction():
        await enter_tenant(conn, tenant_id, platform=platform)
        yield conn

"""Row-level security: the second wall between tenants, proven on the real read-model tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.sql import SQL, Identifier

from agentmem.infrastructure.database import async_pool
from agentmem.infrastructure.postgres_search import PostgresMemorySearch
from agentmem.infrastructure.postgres_tracking import active_read_model
from agentmem.infrastructure.rls import READER_ROLE, TENANT_SETTING
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.settings import Settings
from agentmem.projections.queries import Scope
from tests.clients import ApiClient, Org, create_org

pytestmark = pytest.mark.usefixtures("worker")


def tenant_tables(conn: psycopg.Connection) -> list[str]:
    """Every table with a tenant_id column: each must be protected."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns JOIN information_schema.tables USING (table_schema,"
        " table_name) WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_type = 'BASE TABLE'"
    ).fetchall()
    return sorted(r[0] for r in rows)


def count_as_reader(conn: psycopg.Connection, table: str, tenant: str | None, where: str = "true") -> int:
    with conn.transaction():
        conn.execute(SQL("SET LOCAL ROLE {}").format(Identifier(READER_ROLE)))
        if tenant is not None:
            conn.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, tenant))
        row = conn.execute(SQL("SELECT count(*) FROM {} WHERE " + where).format(Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def two_orgs(admin: ApiClient) -> tuple[Org, Org, int]:
    a, b = create_org(admin), create_org(admin)
    a.owner.post("/v1/memories", json={"text": "alpha apples", "user_id": "u"})
    last = b.owner.post("/v1/memories", json={"text": "beta bananas", "user_id": "u"}).json()
    a.owner.get("/v1/memories", params={"min_position": last["position"]})  # memories projected
    a.owner.get("/v1/audit", params={"min_position": last["position"]})  # audit projected
    a.owner.get("/v1/users", params={"min_position": last["position"]})  # directory projected
    return a, b, last["position"]


def test_every_read_model_table_with_tenant_rows_has_row_level_security(settings: Settings, two_orgs: tuple) -> None:
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        tables = tenant_tables(conn)
        assert {"audit_log", "users", "api_keys", "organizations"} <= set(tables)
        memories = active_read_model(conn, "memories")
        assert memories is not None and memories.table in tables
        unprotected = conn.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND NOT relrowsecurity", (tables,)
        ).fetchall()
        assert unprotected == []
        definer_views = conn.execute(  # a view read with its owner's rights would skip the policies beneath
            "SELECT relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
            " WHERE c.relkind = 'v' AND NOT coalesce(c.reloptions @> '{security_invoker=true}', false)"
        ).fetchall()
        assert definer_views == []


def test_a_read_model_query_without_the_tenant_setting_returns_no_rows(settings: Settings, two_orgs: tuple) -> None:
    a, b, _ = two_orgs
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        memories = active_read_model(conn, "memories")
        assert memories is not None
        tables = [memories.table, f"{memories.table}_lex", f"{memories.table}_scopes", "audit_log", "api_keys"]
        for table in tables:
            assert conn.execute(SQL("SELECT count(*) FROM {}").format(Identifier(table))).fetchone()[0] > 0
            assert count_as_reader(conn, table, None) == 0, table  # no setting: nothing at all
            mine = count_as_reader(conn, table, a.id)
            assert mine > 0, table
            assert count_as_reader(conn, table, a.id, f"tenant_id <> '{a.id}'") == 0, table
            assert count_as_reader(conn, table, a.id, f"tenant_id = '{b.id}'") == 0, table  # asking does not help


def test_the_reader_role_cannot_write_or_bypass(settings: Settings, two_orgs: tuple) -> None:
    a, _, _ = two_orgs
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", (READER_ROLE,)
        ).fetchone()
        assert role == (False, False, False)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(SQL("SET LOCAL ROLE {}").format(Identifier(READER_ROLE)))
            conn.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, a.id))
            conn.execute("DELETE FROM audit_log")


@pytest.fixture
def app_user_database(settings: Settings) -> Iterator[str]:
    """A database owned by a login role that is not a superuser (with the one grant it needs)."""
    assert settings.database_url
    server = settings.database_url
    suffix = uuid.uuid4().hex[:8]
    user, dbname = f"agentmem_app_{suffix}", f"agentmem_app_{suffix}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(SQL("CREATE ROLE {} LOGIN").format(Identifier(user)))
        conn.execute(SQL("GRANT {} TO {}").format(Identifier(READER_ROLE), Identifier(user)))
        conn.execute(SQL("CREATE DATABASE {} OWNER {}").format(Identifier(dbname), Identifier(user)))
    with psycopg.connect(make_conninfo(server, dbname=dbname), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")  # pgvector is not a trusted extension
    try:
        yield make_conninfo(server, dbname=dbname, user=user)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(Identifier(dbname)))
            conn.execute(SQL("DROP ROLE IF EXISTS {}").format(Identifier(user)))


async def test_it_works_for_a_database_user_that_is_not_a_superuser(settings: Settings, app_user_database: str) -> None:
    assert conninfo_to_dict(app_user_database)["user"].startswith("agentmem_app_")
    app_settings = settings.with_overrides(database_url=app_user_database)
    prepare_database(app_settings)
    with psycopg.connect(app_user_database, autocommit=True) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        model = active_read_model(conn, "memories")
        assert model is not None
        now = datetime.now(UTC)
        for tenant, text in (("tenant-a", "a's row"), ("tenant-b", "b's row")):
            conn.execute(
                SQL(
                    "INSERT INTO {} (id, tenant_id, memory_type, text, version, created_at, updated_at, created_by,"
                    " updated_by, seq, position) VALUES (%s, %s, 'semantic', %s, 1, %s, %s, 'x', 'x', 1, 1)"
                ).format(Identifier(model.table)),
                (uuid.uuid4(), tenant, text, now, now),
            )
        assert count_as_reader(conn, model.table, None) == 0
    pool = await async_pool(app_user_database, 2, "rls-test")
    try:
        page = await PostgresMemorySearch(pool, model.table).list(Scope("tenant-a"), "created_desc", 10, None, False)
    finally:
        await pool.close()
    assert [m.text for m in page.items] == ["a's row"]

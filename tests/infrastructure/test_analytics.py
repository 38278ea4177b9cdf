"""The analytics views, read as the agentmem_analytics role: one organization's rows, or all for the platform."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from agentmem.infrastructure.settings import Settings
from tests.clients import ApiClient, Org, create_org
from tests.reading import after

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def orgs(admin: ApiClient) -> tuple[Org, Org]:
    """Two organizations with memories of two types and scopes, an agent with messages; projections caught up."""
    first, second = create_org(admin), create_org(admin)
    for org, count in ((first, 3), (second, 2)):
        for n in range(count):
            org.owner.post("/v1/memories", json={"text": f"fact {n}", "user_id": "ana"})
        org.owner.post("/v1/memories", json={"text": "a procedure", "memory_type": "procedural"})
        agent = org.owner.post("/v1/agents", json={"name": "helper", "tags": ["support"]}).json()
        messages = org.owner.post(
            f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "hi"}]}
        )
        position = messages.json()["position"]
        for path in ("/v1/memories", "/v1/audit", "/v1/agents", f"/v1/agents/{agent['id']}/messages"):
            assert after(org.owner, "GET", path, position).status_code == 200
    return first, second


@pytest.fixture
def login(settings: Settings) -> Iterator[Any]:
    """Creates login roles in an analytics group; connects as one; drops them at the end."""
    assert settings.database_url
    created: list[str] = []
    owner = psycopg.connect(settings.database_url, autocommit=True)

    def connect(group: str, *tenants: str) -> psycopg.Connection:
        role = f"bi_{uuid.uuid4().hex[:10]}"
        owner.execute(f"CREATE ROLE {role} LOGIN IN ROLE {group}")
        created.append(role)
        for tenant in tenants:
            owner.execute("INSERT INTO analytics_tenants (role_name, tenant_id) VALUES (%s, %s)", (role, tenant))
        return psycopg.connect(make_conninfo(settings.database_url, user=role), autocommit=True)

    yield connect
    for role in created:
        owner.execute("DELETE FROM analytics_tenants WHERE role_name = %s", (role,))
        owner.execute(f"DROP ROLE {role}")
    owner.close()


def rows(conn: psycopg.Connection, query: str) -> list[tuple[Any, ...]]:
    return conn.execute(query).fetchall()


def test_an_organizations_analytics_role_sees_only_its_rows(orgs: tuple[Org, Org], login: Any) -> None:
    first, second = orgs
    with login("agentmem_analytics", first.id) as conn:
        daily = rows(conn, "SELECT memory_type, scope, created, live FROM analytics_memories_daily ORDER BY 1")
        assert daily == [("procedural", "organization", 1, 1), ("semantic", "user", 3, 3)]
        tenants = [
            rows(conn, f"SELECT DISTINCT tenant_id FROM {view}")
            for view in ("analytics_memories", "analytics_events_daily", "analytics_agents", "analytics_messages_daily")
        ]
        assert tenants == [[(first.id,)]] * 4
        events = dict(rows(conn, "SELECT action, sum(events) FROM analytics_events_daily GROUP BY action"))
        assert events["Memory.Created"] == 4 and events["Agent.Created"] == 1
        assert rows(conn, "SELECT name, tags, blocks FROM analytics_agents") == [("helper", ["support"], 0)]
        conn.execute("SELECT set_config('agentmem.tenant_id', %s, false)", (second.id,))
        assert rows(conn, "SELECT DISTINCT tenant_id FROM analytics_memories") == [(first.id,)]


def test_language_model_usage_per_day_shows_only_the_listed_organization(
    orgs: tuple[Org, Org], login: Any, settings: Settings
) -> None:
    first, second = orgs
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as owner:
        for tenant, tokens in ((first.id, 100), (first.id, 50), (second.id, 7)):
            owner.execute(
                "INSERT INTO llm_usage (id, tenant_id, actor_id, purpose, provider, model, input_tokens, output_tokens,"
                " cached_tokens, latency_ms, retries, outcome, created_at, position)"
                " VALUES (%s, %s, 'key:x', 'chat', 'openai', 'gpt-test', %s, 1, 0, 10, 0, 'ok', now(), 0)",
                (uuid.uuid4(), tenant, tokens),
            )
    with login("agentmem_analytics", first.id) as conn:
        usage = rows(conn, "SELECT tenant_id, model, calls, input_tokens FROM analytics_llm_usage_daily")
    assert usage == [(first.id, "gpt-test", 2, 150)]


def test_the_analytics_role_reads_no_text_and_writes_nothing(
    orgs: tuple[Org, Org], login: Any, settings: Settings
) -> None:
    first, second = orgs
    assert settings.database_url
    with psycopg.connect(settings.database_url) as owner:
        memories = rows(owner, "SELECT active_table FROM read_models WHERE name = 'memories'")[0][0]
    with login("agentmem_analytics", first.id) as conn:
        for statement in (
            f"SELECT text FROM {memories}",
            "SELECT system FROM agents",
            "SELECT state FROM agentmem_events",
            f"INSERT INTO analytics_tenants VALUES (current_user, '{second.id}')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_platform_analytics_role_sees_every_organization(orgs: tuple[Org, Org], login: Any) -> None:
    with login("agentmem_analytics_platform") as conn:
        seen = {tenant for (tenant,) in rows(conn, "SELECT DISTINCT tenant_id FROM analytics_memories")}
    assert {org.id for org in orgs} <= seen


def test_a_role_listed_for_no_organization_sees_nothing(orgs: tuple[Org, Org], login: Any) -> None:
    with login("agentmem_analytics") as conn:
        assert rows(conn, "SELECT count(*) FROM analytics_memories") == [(0,)]


def test_tool_runs_per_day_show_statuses_and_durations_of_the_listed_organization_only(
    orgs: tuple[Org, Org], login: Any, settings: Settings
) -> None:
    first, second = orgs
    tool = uuid.uuid4()
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as owner:
        for tenant, status, duration in ((first.id, "ok", 10.0), (first.id, "ok", 30.0), (second.id, "timeout", 5e3)):
            owner.execute(
                "INSERT INTO tool_runs (id, tenant_id, tool_id, tool_version, args, status, duration_ms, stdout,"
                " stderr, truncated, created_at, created_by, position)"
                " VALUES (%s, %s, %s, 1, '{}', %s, %s, 'secret out', '', false, now(), 'key:x', 0)",
                (uuid.uuid4(), tenant, tool, status, duration),
            )
    with login("agentmem_analytics", first.id) as conn:
        daily = rows(conn, "SELECT tenant_id, status, runs, mean_duration_ms FROM analytics_tool_runs_daily")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT stdout FROM tool_runs")
    assert daily == [(first.id, "ok", 2, 20.0)]

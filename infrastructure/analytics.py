"""Analytics read models: the views of sql/analytics.sql and the read-only roles that see them by organization.

- `agentmem_analytics` (NOLOGIN): SELECT on the views, and on the few columns of the tables beneath that the
  views read. A login role in it sees the organizations `analytics_tenants` lists for it (row-level security:
  a permissive policy shows them, a restrictive one keeps the API's `agentmem.tenant_id` setting, which any
  session may set, from showing more).
- `agentmem_analytics_platform` (NOLOGIN, a member of the first): sees every organization.

The listing is not settable by the reader: `analytics_tenants` is written by the table owner only.
Creating the roles needs CREATEROLE, as for the API's reader role (see rls.py); without it, and without the
roles created by an administrator, the views are left out with a warning (everything else works).
"""

from __future__ import annotations

import logging
from importlib import resources

import psycopg
from psycopg.sql import SQL, Composed, Identifier, Literal

from agentmem.infrastructure.postgres_tracking import active_read_model

log = logging.getLogger("agentmem.analytics")
ANALYTICS_ROLE = "agentmem_analytics"
PLATFORM_ROLE = "agentmem_analytics_platform"
VIEWS = (
    "analytics_memories",
    "analytics_memories_daily",
    "analytics_events_daily",
    "analytics_agents",
    "analytics_messages_daily",
    "analytics_llm_usage_daily",
    "analytics_tool_runs_daily",
)
SEARCHABLE_COLUMNS = ("id", "tenant_id", "user_id", "agent_id", "run_id", "memory_type", "version", "deleted")
COLUMNS: dict[str, tuple[str, ...]] = {
    "memories": (*SEARCHABLE_COLUMNS, "created_at", "updated_at"),
    "messages": (*SEARCHABLE_COLUMNS, "created_at"),
    "audit_log": ("position", "tenant_id", "actor_id", "action", "aggregate_type", "aggregate_id", "version",
                  "timestamp", "request_id"),
    "agents": ("id", "tenant_id", "name", "tags", "block_ids", "tool_ids", "version", "deleted", "created_at",
               "updated_at"),
    "llm_usage": ("id", "tenant_id", "purpose", "provider", "model", "agent_id", "input_tokens", "output_tokens",
                  "cached_tokens", "latency_ms", "retries", "outcome", "cost_usd", "created_at"),
    "tool_runs": ("id", "tenant_id", "tool_id", "status", "duration_ms", "truncated", "created_at"),
}  # fmt: skip
"""The columns analytics readers may select, by read model (searchable ones by name, plain ones by table)."""

_ROLES = SQL(
    "DO $$ BEGIN"
    " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {a_name}) THEN"
    "  BEGIN CREATE ROLE {a} NOLOGIN;"
    "  EXCEPTION WHEN duplicate_object OR unique_violation OR insufficient_privilege THEN NULL; END;"
    " END IF;"
    " IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {p_name}) THEN"
    "  BEGIN CREATE ROLE {p} NOLOGIN IN ROLE {a};"
    "  EXCEPTION WHEN duplicate_object OR unique_violation OR insufficient_privilege OR undefined_object THEN NULL;"
    "  END;"
    " END IF;"
    " END $$"
).format(
    a_name=Literal(ANALYTICS_ROLE),
    a=Identifier(ANALYTICS_ROLE),
    p_name=Literal(PLATFORM_ROLE),
    p=Identifier(PLATFORM_ROLE),
)
_READY = SQL(
    "SELECT count(*) = 2 AND pg_has_role({p}, {a}, 'MEMBER') FROM pg_roles WHERE rolname IN ({a}, {p})"
).format(a=Literal(ANALYTICS_ROLE), p=Literal(PLATFORM_ROLE))
_TENANTS: list[SQL | Composed] = [
    SQL("CREATE TABLE IF NOT EXISTS analytics_tenants (role_name text NOT NULL, tenant_id text NOT NULL,"
        " PRIMARY KEY (role_name, tenant_id))"),
    SQL("ALTER TABLE analytics_tenants ENABLE ROW LEVEL SECURITY"),
    SQL("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_policies WHERE schemaname = current_schema()"
        " AND tablename = 'analytics_tenants' AND policyname = 'own_rows') THEN"
        " CREATE POLICY own_rows ON analytics_tenants FOR SELECT TO {a} USING (role_name = current_user);"
        " END IF; END $$").format(a=Identifier(ANALYTICS_ROLE)),
    SQL("GRANT SELECT ON analytics_tenants TO {}").format(Identifier(ANALYTICS_ROLE)),
]  # fmt: skip
VISIBLE = (
    "(SELECT pg_has_role(current_user, '" + PLATFORM_ROLE + "', 'MEMBER'))"
    " OR tenant_id = ANY (ARRAY(SELECT a.tenant_id FROM analytics_tenants a WHERE a.role_name = current_user))"
)
"""Which rows an analytics reader sees; both parts are evaluated once per query (InitPlans), not per row."""


def _policy(table: str, name: str, kind: str) -> Composed:
    return SQL(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_policies WHERE schemaname = current_schema()"
        " AND tablename = {name} AND policyname = {policy}) THEN"
        " CREATE POLICY {p} ON {t} AS " + kind + " FOR SELECT TO {a} USING (" + VISIBLE + "); END IF; END $$"
    ).format(
        name=Literal(table), policy=Literal(name), p=Identifier(name), t=Identifier(table), a=Identifier(ANALYTICS_ROLE)
    )


def table_ddl(table: str, columns: tuple[str, ...]) -> list[Composed]:
    """The analytics grant and policies on one read-model table (idempotent)."""
    return [
        SQL("GRANT SELECT ({columns}) ON {t} TO {a}").format(
            columns=SQL(", ").join(map(Identifier, columns)), t=Identifier(table), a=Identifier(ANALYTICS_ROLE)
        ),
        _policy(table, "analytics_rows", "PERMISSIVE"),
        _policy(table, "analytics_only", "RESTRICTIVE"),
    ]


def views_sql(memories: str, messages: str) -> Composed:
    text = (resources.files("agentmem.infrastructure") / "sql" / "analytics.sql").read_text()
    return SQL(text).format(memories=Identifier(memories), messages=Identifier(messages))


def prepare_analytics(conn: psycopg.Connection) -> None:
    """Creates the roles, the tenant listing, the grants and policies on the serving tables, and the views.

    Run on every start and in the transaction that switches a searchable read model to a new generation.
    """
    serving = {}
    for name in ("memories", "messages"):
        model = active_read_model(conn, name)
        assert model is not None, "prepare the searchable read models first"
        serving[name] = model.table
    conn.execute(_ROLES)
    ready = conn.execute(_READY).fetchone()
    if not (ready and ready[0]):
        log.warning(
            "analytics views not created: the database user cannot create the roles; an administrator runs once "
            "CREATE ROLE %s NOLOGIN; CREATE ROLE %s NOLOGIN IN ROLE %s;",
            ANALYTICS_ROLE,
            PLATFORM_ROLE,
            ANALYTICS_ROLE,
        )
        return
    for statement in _TENANTS:
        conn.execute(statement)
    for name, columns in COLUMNS.items():
        for statement in table_ddl(serving.get(name, name), columns):
            conn.execute(statement)
    conn.execute(views_sql(serving["memories"], serving["messages"]))
    for view in VIEWS:
        conn.execute(SQL("GRANT SELECT ON {} TO {}").format(Identifier(view), Identifier(ANALYTICS_ROLE)))

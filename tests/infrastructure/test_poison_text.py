"""Events an older server recorded with NUL in every text field still project: the read models store a safe form.

Today the application refuses such values before recording (domain/storable.py); older servers did not, and their
logs must keep projecting. These events are recorded as an older server did, bypassing that check.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import psycopg
import pytest

from agentmem.application import base
from agentmem.application.agents import AgentApplication, NewAgent
from agentmem.application.blocks import BlockApplication, NewBlock
from agentmem.application.conversations import ConversationApplication
from agentmem.application.identity import IdentityApplication
from agentmem.application.memories import MemoryApplication, NewMemory
from agentmem.domain.base import Context
from agentmem.domain.conversation import NewMessage
from agentmem.domain.storable import storable_form
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.secrets import server_secret
from agentmem.infrastructure.settings import Settings
from tests.infrastructure.test_projection_exactly_once import SERVING, replay, snapshot, wait_until
from tests.infrastructure.test_projection_failures import all_at_head, holds, sql
from tests.stubs.openai_stub import OpenAIStub
from tests.workers import running_worker

NUL = "\x00"
BAD = f"a{NUL}b"
SAFE = "a\ufffdb"
JSON = {f"k{NUL}": [BAD, {"deep": BAD}], "n": 1.5}
"""Metadata as an older server took it: NUL anywhere (NaN too is refused today, but no JSON body could carry it)."""


def test_storable_form_replaces_nul_everywhere_and_non_finite_numbers() -> None:
    assert storable_form({**JSON, "n": float("nan")}) == {"k\ufffd": [SAFE, {"deep": SAFE}], "n": None}
    text = "nothing to replace"
    assert storable_form(text) is text


def record_like_an_older_server(settings: Settings, tenant: Context) -> dict[str, UUID]:
    """Every kind of aggregate, with NUL in each text field it has; returns their ids."""
    url = settings.database_url or ""
    factory = make_factory(url, 1)
    env = event_store_env(url, 1)
    kwargs = {"factory": factory, "positions": PostgresEventPositions(factory)}
    memories, blocks, agents = (
        MemoryApplication(env, **kwargs),
        BlockApplication(env, **kwargs),
        AgentApplication(env, **kwargs),
    )
    conversations = ConversationApplication(env, **kwargs)
    identity = IdentityApplication(env, secret=server_secret(settings), **kwargs)
    try:
        organization = identity.create_organization(f"org {BAD}", tenant).organization
        ctx = Context(organization.tenant_id, BAD, BAD)
        memory = memories.add(
            NewMemory(text=f"remember {BAD}", user_id=BAD, agent_id=BAD, run_id=BAD, metadata=JSON), ctx
        ).aggregate
        memories.add(NewMemory(text=f"then {BAD} again", user_id=BAD, run_id=BAD), ctx)
        memories.update(memory.id, {"text": f"edited {BAD}", "metadata": {BAD: BAD}}, ctx)
        block = blocks.create(NewBlock(label="human", value=BAD, description=BAD, metadata=JSON), ctx).aggregate
        blocks.append(block.id, BAD, ctx)
        agent = agents.create(
            NewAgent(
                name=BAD,
                description=BAD,
                system=BAD,
                tags=[BAD],
                metadata=JSON,
                llm={"provider": "openai", "model": BAD},
            ),
            ctx,
        ).aggregate
        agents.attach(agent.id, [block.id], ctx)
        conversations.append(agent.id, [NewMessage(role="user", content=BAD, name=BAD)], ctx)
        user = identity.create_user(ctx, email="nul@example.com", name=BAD, role="member").aggregate
        identity.update_user(user.id, ctx.tenant_id, {"name": f"renamed {BAD}"}, ctx)
        key = identity.create_key(BAD, "member", ctx).key
        return {
            "organization": organization.id,
            "memory": memory.id,
            "block": block.id,
            "agent": agent.id,
            "user": user.id,
            "key": key.id,
        }
    finally:
        for app in (memories, blocks, agents, conversations, identity):
            app.close()


def test_nul_in_every_text_field_never_stalls_a_projection(
    fresh_database: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "check_storable", lambda _: None)  # what older servers recorded
    with OpenAIStub() as stub:
        settings = fresh_database(
            embedder="openai:stub-embed:64", embedding_base_url=stub.base_url, embedding_api_key="k"
        )
        ids = record_like_an_older_server(settings, Context("platform", "tester", "req"))
        sql(settings, "DROP INDEX agentmem_events_tenant")
        prepare_database(settings)  # upgrading from an older server builds the event feed's index on its log
        with running_worker(settings):
            wait_until(lambda: all_at_head(settings))
        assert holds(settings) == []

        def row(query: str, id_: UUID) -> tuple[object, ...]:
            found = sql(settings, query, (id_,))
            assert found, query
            return found[0]

        assert row(f"SELECT text, user_id, run_id, metadata FROM {SERVING} WHERE id = %s", ids["memory"]) == (
            f"edited {SAFE}",
            SAFE,
            SAFE,
            {SAFE: SAFE},
        )
        assert row("SELECT name, tags, metadata, llm FROM agents WHERE id = %s", ids["agent"]) == (
            SAFE,
            [SAFE],
            storable_form(JSON),
            {"provider": "openai", "model": SAFE},
        )
        assert row("SELECT value, description FROM blocks WHERE id = %s", ids["block"]) == (f"{SAFE}\n{SAFE}", SAFE)
        assert row("SELECT name FROM users WHERE id = %s", ids["user"]) == (f"renamed {SAFE}",)
        assert row("SELECT name FROM api_keys WHERE id = %s", ids["key"]) == (SAFE,)
        assert row("SELECT name FROM organizations WHERE id = %s", ids["organization"]) == (f"org {SAFE}",)
        assert sql(settings, "SELECT text FROM messages_g1") == [(f"user ({SAFE}): {SAFE}",)]
        assert sql(settings, "SELECT count(*) FROM audit_log WHERE actor_id = %s", (SAFE,))[0][0] >= 10
        assert sql(settings, f"SELECT count(*) FROM {SERVING}_lex WHERE tsv @@ to_tsquery('english', 'remember')") == [
            (0,)
        ] and sql(settings, f"SELECT count(*) FROM {SERVING}_lex WHERE tsv @@ to_tsquery('edited')") == [(1,)]
        tenant = str(ids["organization"])
        by_tenant = "SELECT count(*) FROM agentmem_events WHERE agentmem_event_tenant(state) = %s"
        assert sql(settings, by_tenant, (tenant,))[0][0] >= 10  # the event feed's tenant index reads them too
        assert snapshot(settings, SERVING) == replay(settings)
        with psycopg.connect(settings.database_url or "") as conn:
            assert conn.execute("SELECT count(*) FROM projection_tracking WHERE error IS NOT NULL").fetchone() == (0,)

"""The agent aggregate's rules: settings, tags, blocks, and a context template checked when it is saved."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agentmem.domain.agent import Agent, AgentDeletedError, BlockNotAttachedError, InvalidAgentError
from agentmem.domain.base import Context

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")


def new_agent(**fields: object) -> Agent:
    return Agent.create(id=uuid4(), context=CTX, **{"name": "Ada", "block_ids": [], **fields})  # type: ignore[arg-type]


def test_a_new_agent_keeps_its_settings_and_deduplicates_tags_and_blocks() -> None:
    block = uuid4()
    agent = new_agent(
        llm={"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.2},
        tags=["support", "support", "eu"],
        block_ids=[block, block],
    )
    assert agent.tags == ["support", "eu"] and agent.block_ids == [block]
    assert agent.llm == {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.2}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": " "}, "name"),
        ({"llm": {"provider": "skynet", "model": "x"}}, "llm"),
        ({"llm": {"provider": "openai", "model": "x", "temperature": 3}}, "llm.temperature"),
        ({"embedding": {"provider": "openai", "model": ""}}, "embedding.model"),
        ({"tags": [""]}, "tags"),
        ({"context_template": "{% for %}"}, "context_template"),
        ({"context_template": "{{ ''.__class__.__mro__ }}"}, "context_template"),
        ({"context_template": "{{ undefined_name }}"}, "context_template"),
    ],
)
def test_bad_fields_are_refused_when_saved(fields: dict, field: str) -> None:
    with pytest.raises(InvalidAgentError) as refused:
        new_agent(**fields)
    assert refused.value.field == field


def test_an_update_that_would_break_the_template_is_refused() -> None:
    agent = new_agent(metadata={"team": "red"}, context_template="Team {{ agent.metadata.team.upper() }}")
    with pytest.raises(InvalidAgentError) as refused:
        agent.update(CTX, {"metadata": {}})
    assert refused.value.field == "context_template"
    assert agent.update(CTX, {"metadata": {"team": "blue"}})


def test_attach_keeps_order_and_skips_attached_blocks_and_detach_refuses_strangers() -> None:
    first, second = uuid4(), uuid4()
    agent = new_agent(block_ids=[first])
    assert agent.attach(CTX, [first, second]) and agent.block_ids == [first, second]
    assert not agent.attach(CTX, [second])
    agent.detach(CTX, [first])
    assert agent.block_ids == [second]
    with pytest.raises(BlockNotAttachedError):
        agent.detach(CTX, [first])


def test_a_deleted_agent_cannot_be_changed() -> None:
    agent = new_agent()
    agent.delete(CTX)
    with pytest.raises(AgentDeletedError):
        agent.update(CTX, {"name": "Bob"})
    agent.restore(CTX)
    assert agent.update(CTX, {"name": "Bob"})

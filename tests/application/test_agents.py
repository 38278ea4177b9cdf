"""AgentApplication against the real event store: shared blocks and the compiled context, now and as of then."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentmem.application.agents import ContextTemplateError, NewAgent
from agentmem.application.blocks import NewBlock
from agentmem.domain.agent import InvalidAgentError
from agentmem.domain.base import Context
from agentmem.runtime.container import Container


def test_a_shared_block_edit_is_seen_by_every_agent_using_it(container: Container, context: Context) -> None:
    shared = container.blocks.create(NewBlock(label="company", value="Acme sells anvils"), context).aggregate
    first = container.agents.create(NewAgent(name="sales", block_ids=[shared.id]), context).aggregate
    second = container.agents.create(NewAgent(name="support", block_ids=[shared.id]), context).aggregate
    container.blocks.update(shared.id, {"value": "Acme sells rockets"}, context)
    for agent in (first, second):
        text = container.agents.context(agent.id, context.tenant_id).text
        assert "Acme sells rockets" in text and "anvils" not in text


def test_the_context_changes_after_an_edit_and_as_of_shows_the_old_one(container: Container, context: Context) -> None:
    persona = container.blocks.create(NewBlock(label="persona", value="I am Ada, a tutor."), context).aggregate
    human = container.blocks.create(
        NewBlock(label="human", value="Sam is learning French.", limit=200), context
    ).aggregate
    agent = container.agents.create(
        NewAgent(name="tutor", system="Teach kindly.", block_ids=[persona.id, human.id]), context
    ).aggregate
    before = container.agents.context(agent.id, context.tenant_id)
    assert "Teach kindly." in before.text and "I am Ada, a tutor." in before.text
    assert "Sam is learning French." in before.text and "chars_current=23" in before.text
    assert "chars_limit=200" in before.text
    instant = datetime.now(UTC)
    container.blocks.update(human.id, {"value": "Sam is learning Spanish."}, context)
    after = container.agents.context(agent.id, context.tenant_id)
    assert "Sam is learning Spanish." in after.text and "French" not in after.text
    then = container.agents.context(agent.id, context.tenant_id, as_of=instant)
    assert then.text == before.text
    assert [b.version for b in then.blocks] == [1, 1] and [b.version for b in after.blocks] == [1, 2]


def test_as_of_also_rewinds_the_agent_itself(container: Container, context: Context) -> None:
    block = container.blocks.create(NewBlock(label="human", value="likes tea"), context).aggregate
    agent = container.agents.create(NewAgent(name="a", system="Old instructions."), context).aggregate
    instant = datetime.now(UTC)
    container.agents.update(agent.id, {"system": "New instructions.", "block_ids": [block.id]}, context)
    assert "likes tea" in container.agents.context(agent.id, context.tenant_id).text
    then = container.agents.context(agent.id, context.tenant_id, as_of=instant)
    assert "Old instructions." in then.text and "likes tea" not in then.text and then.blocks == []


def test_deleted_blocks_leave_the_context_and_come_back_when_restored(container: Container, context: Context) -> None:
    block = container.blocks.create(NewBlock(label="scratch", value="temporary note"), context).aggregate
    agent = container.agents.create(NewAgent(name="a", block_ids=[block.id]), context).aggregate
    container.blocks.delete(block.id, context)
    assert "temporary note" not in container.agents.context(agent.id, context.tenant_id).text
    container.blocks.restore(block.id, context)
    assert "temporary note" in container.agents.context(agent.id, context.tenant_id).text


def test_an_agent_template_renders_its_blocks(container: Container, context: Context) -> None:
    block = container.blocks.create(NewBlock(label="human", value="Sam", limit=10), context).aggregate
    template = "{{ system }}|{% for b in blocks %}{{ b.label }}={{ b.value }} ({{ b.size }}/{{ b.limit }}){% endfor %}"
    agent = container.agents.create(
        NewAgent(name="a", system="S", block_ids=[block.id], context_template=template), context
    ).aggregate
    assert container.agents.context(agent.id, context.tenant_id).text == "S|human=Sam (3/10)"


def test_a_template_that_fails_only_on_real_data_is_a_clear_error(container: Container, context: Context) -> None:
    block = container.blocks.create(NewBlock(label="human", value="x", limit=100_000), context).aggregate
    template = "{% for b in blocks %}{{ (b.value * 100)|length }}{% endfor %}"  # fine with the check's sample blocks
    agent = container.agents.create(NewAgent(name="a", block_ids=[block.id], context_template=template), context)
    assert container.agents.context(agent.aggregate.id, context.tenant_id).text == "100"
    container.blocks.update(block.id, {"value": "x" * 100_000}, context)
    with pytest.raises(ContextTemplateError, match=r"context template failed: .* past 10,000,000 characters built"):
        container.agents.context(agent.aggregate.id, context.tenant_id)


def test_a_template_that_passed_the_check_still_renders_without_blocks(container: Container, context: Context) -> None:
    block = container.blocks.create(NewBlock(label="human", value="Sam"), context).aggregate
    with pytest.raises(InvalidAgentError, match="no element 0"):
        container.agents.create(
            NewAgent(name="a", block_ids=[block.id], context_template="{{ blocks[0].value }}"), context
        )
    template = "{% if blocks %}{{ blocks[0].value }}{% else %}(no blocks){% endif %}"
    agent = container.agents.create(NewAgent(name="a", block_ids=[block.id], context_template=template), context)
    assert container.agents.context(agent.aggregate.id, context.tenant_id).text == "Sam"
    container.agents.detach(agent.aggregate.id, [block.id], context)
    assert container.agents.context(agent.aggregate.id, context.tenant_id).text == "(no blocks)"


def test_blocks_must_exist_in_the_tenant(container: Container, context: Context) -> None:
    other = Context(tenant_id=context.tenant_id + "-other", actor_id="x", request_id="y")
    foreign = container.blocks.create(NewBlock(label="human"), other).aggregate
    with pytest.raises(InvalidAgentError) as refused:
        container.agents.create(NewAgent(name="a", block_ids=[foreign.id]), context)
    assert refused.value.field == "block_ids[0]"

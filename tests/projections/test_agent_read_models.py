"""Projection logic for blocks, agents and messages: which row change each event makes (pure, no database)."""

from __future__ import annotations

from uuid import uuid4

from agentmem.domain.agent import Agent
from agentmem.domain.base import Context
from agentmem.domain.block import Block
from agentmem.domain.conversation import ConversationSegment, NewMessage
from agentmem.projections.agents import AgentsProjection
from agentmem.projections.base import Envelope
from agentmem.projections.blocks import BlocksProjection
from agentmem.projections.messages import MessagesProjection, message_content

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")


def envelopes(events: list) -> list[Envelope]:
    return [Envelope(position, event) for position, event in enumerate(events, start=100)]


def test_block_events_become_column_changes_appends_and_flags() -> None:
    block = Block.create(id=uuid4(), context=CTX, label="human", value="a", limit=50)
    block.append(CTX, "b")
    block.update(CTX, {"limit": 40, "description": "who"})
    block.revert(CTX, 1, "a")
    block.delete(CTX)
    _, *later = envelopes(block.collect_events())
    changes = [BlocksProjection.process_event(e) for e in later]
    assert changes[0].appended == {"value": "\nb"} and changes[0].version == 2 and changes[0].position == 101
    assert changes[1].columns == {"limit": 40}
    assert changes[2].columns == {"description": "who"}
    assert changes[3].columns == {"value": "a"}
    assert changes[4].columns == {"deleted": True}


def test_agent_block_attachments_become_array_additions_and_removals() -> None:
    first, second = uuid4(), uuid4()
    agent = Agent.create(id=uuid4(), context=CTX, name="a", block_ids=[first])
    agent.attach(CTX, [second])
    agent.detach(CTX, [first])
    _, attached, detached = envelopes(agent.collect_events())
    assert AgentsProjection.process_event(attached).added == {"block_ids": [second]}
    assert AgentsProjection.process_event(detached).removed == {"block_ids": [first]}


def test_only_appended_messages_concern_the_messages_read_model() -> None:
    projection = MessagesProjection("messages_g1", view=None, embedder=None)  # type: ignore[arg-type]
    assert projection.wants("agentmem.domain.conversation:ConversationSegment.MessageAppended")
    assert not projection.wants("agentmem.domain.conversation:ConversationSegment.Created")
    assert not projection.wants("agentmem.domain.memory:Memory.Created")


def test_a_message_row_is_an_episodic_memory_of_the_agents_run_with_its_content_recoverable() -> None:
    agent_id = uuid4()
    segment = ConversationSegment.open(agent_id=agent_id, number=0, context=CTX, first_seq=0)
    segment.append(CTX, NewMessage("tool", "12 degrees", name="weather", tool_call_id="call-1"))
    _, appended = envelopes(segment.collect_events())
    row = MessagesProjection._message_row(appended.position, appended.event)
    assert (row.agent_id, row.run_id, row.user_id, row.memory_type) == (str(agent_id), str(agent_id), None, "episodic")
    assert row.text == "tool (weather): 12 degrees"
    assert row.metadata == {
        "role": "tool",
        "name": "weather",
        "tool_call_id": "call-1",
        "segment": 0,
        "index": 0,
        "seq": 0,
    }
    assert message_content(row.text, row.metadata) == "12 degrees"

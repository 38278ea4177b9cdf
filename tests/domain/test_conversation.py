"""Conversation segments: message ids that say where a message is, full segments, message rules."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agentmem.domain.base import Context
from agentmem.domain.conversation import (
    SEGMENT_SIZE,
    ConversationSegment,
    InvalidMessageError,
    NewMessage,
    SegmentFullError,
    check_message,
    message_id,
    message_slot,
)

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")


def test_a_message_id_says_its_segment_and_index_for_its_own_agent_only() -> None:
    agent, other = uuid4(), uuid4()
    mid = message_id(agent, 123_456, SEGMENT_SIZE - 1)
    assert mid.version == 8 and message_slot(agent, mid) == (123_456, SEGMENT_SIZE - 1)
    assert message_slot(other, mid) is None
    assert message_slot(agent, uuid4()) is None
    assert message_id(agent, 0, 0) != message_id(other, 0, 0)


def test_messages_take_consecutive_indexes_and_sequence_numbers_until_the_segment_is_full() -> None:
    agent = uuid4()
    first = ConversationSegment.open(agent_id=agent, number=0, context=CTX, first_seq=0)
    for i in range(SEGMENT_SIZE):
        first.append(CTX, NewMessage("user", f"message {i}"))
    assert first.full and first.version == SEGMENT_SIZE + 1
    with pytest.raises(SegmentFullError):
        first.append(CTX, NewMessage("user", "one too many"))
    second = first.next_segment(CTX)
    new_id = second.append(CTX, NewMessage("assistant", "hello"))
    [_, appended] = second.collect_events()
    assert (appended.segment, appended.index, appended.seq) == (1, 0, SEGMENT_SIZE)
    assert message_slot(agent, new_id) == (1, 0)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (NewMessage("robot", "hi"), "role"),
        (NewMessage("user", ""), "content"),
        (NewMessage("user", "x" * 100_001), "content"),
        (NewMessage("user", "hi", name=""), "name"),
        (NewMessage("user", "hi", tool_calls=[{"id": "1"}]), "tool_calls"),
        (NewMessage("assistant", "hi", tool_call_id="call-1"), "tool_call_id"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(message: NewMessage, field: str) -> None:
    with pytest.raises(InvalidMessageError) as refused:
        check_message(message, "messages[0].")
    assert refused.value.field == f"messages[0].{field}"


def test_an_assistant_message_may_carry_only_tool_calls() -> None:
    call = {"id": "call-1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    assert check_message(NewMessage("assistant", "", tool_calls=[call]))

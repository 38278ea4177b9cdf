"""ConversationApplication against the real event store: order, segments, pages, ids, and racing writers."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from agentmem.application.agents import NewAgent
from agentmem.application.conversations import ConversationApplication, ConversationNotFoundError
from agentmem.domain import conversation
from agentmem.domain.base import Context
from agentmem.domain.conversation import ConversationSegment, NewMessage
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container


@pytest.fixture
def small_segments(monkeypatch: pytest.MonkeyPatch) -> int:
    """Segments of 3 messages, so a few messages cross segment boundaries."""
    monkeypatch.setattr(conversation, "SEGMENT_SIZE", 3)
    return 3


def new_agent(container: Container, context: Context) -> UUID:
    return container.agents.create(NewAgent(name="talker"), context).aggregate.id


def say(container: Container, agent_id: UUID, context: Context, *texts: str) -> list[UUID]:
    appended = container.conversations.append(agent_id, [NewMessage("user", t) for t in texts], context)
    return [m.id for m in appended.messages]


def test_messages_keep_their_order_across_segments(container: Container, context: Context, small_segments: int) -> None:
    agent_id = new_agent(container, context)
    say(container, agent_id, context, "m0", "m1")
    say(container, agent_id, context, "m2", "m3", "m4", "m5", "m6")  # fills segment 0, 1 and starts 2
    page = container.conversations.page(agent_id, context.tenant_id, None, 100)
    assert [m.content for m in page.messages] == [f"m{i}" for i in range(7)]
    assert [m.seq for m in page.messages] == list(range(7)) and page.next_slot is None
    assert [(m.segment, m.index) for m in page.messages][2:5] == [(0, 2), (1, 0), (1, 1)]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_cover_every_message_once(
    container: Container, context: Context, small_segments: int, order: str
) -> None:
    agent_id = new_agent(container, context)
    say(container, agent_id, context, *[f"m{i}" for i in range(10)])
    seen: list[str] = []
    after = None
    while True:
        page = container.conversations.page(agent_id, context.tenant_id, after, 4, order)  # type: ignore[arg-type]
        seen.extend(m.content for m in page.messages)
        if page.next_slot is None:
            break
        after = page.next_slot
    expected = [f"m{i}" for i in range(10)]
    assert seen == (expected if order == "asc" else expected[::-1])


def test_a_message_is_read_by_id_and_only_through_its_own_agent(container: Container, context: Context) -> None:
    agent_id, other_id = new_agent(container, context), new_agent(container, context)
    [message_id] = say(container, agent_id, context, "hello")
    assert container.conversations.get(agent_id, message_id, context.tenant_id).content == "hello"
    with pytest.raises(ConversationNotFoundError):
        container.conversations.get(other_id, message_id, context.tenant_id)
    with pytest.raises(ConversationNotFoundError):
        container.conversations.get(agent_id, message_id, "another-tenant")


def test_a_deleted_or_foreign_agent_has_no_conversation(container: Container, context: Context) -> None:
    agent_id = new_agent(container, context)
    with pytest.raises(ConversationNotFoundError):
        say(container, agent_id, replace(context, tenant_id="stranger"), "hi")
    container.agents.delete(agent_id, context)
    with pytest.raises(ConversationNotFoundError):
        say(container, agent_id, context, "hi")


def test_racing_writers_get_one_order_without_gaps(container: Container, context: Context, small_segments: int) -> None:
    agent_id = new_agent(container, context)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for i in range(5):
                say(container, agent_id, context, f"w{writer}-{i}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    messages = container.conversations.page(agent_id, context.tenant_id, None, 100).messages
    assert [m.seq for m in messages] == list(range(20))
    assert sorted(m.content for m in messages) == sorted(f"w{w}-{i}" for w in range(4) for i in range(5))
    for writer in range(4):  # each writer's messages stay in its own order
        mine = [m.content for m in messages if m.content.startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-{i}" for i in range(5)]


def test_another_process_finds_the_head_and_continues_the_sequence(
    container: Container, settings: Settings, context: Context, small_segments: int
) -> None:
    agent_id = new_agent(container, context)
    say(container, agent_id, context, *[f"m{i}" for i in range(8)])
    assert settings.database_url
    factory = make_factory(settings.database_url, 2)
    fresh = ConversationApplication(
        event_store_env(settings.database_url, 2), factory=factory, positions=PostgresEventPositions(factory)
    )
    try:
        appended = fresh.append(agent_id, [NewMessage("assistant", "m8")], context)
        assert [(m.seq, m.segment, m.index) for m in appended.messages] == [(8, 2, 2)]
        say(container, agent_id, context, "m9")  # the first process's remembered head is stale now
        newest = container.conversations.page(agent_id, context.tenant_id, None, 2, "desc").messages
        assert [(m.content, m.seq) for m in newest] == [("m9", 9), ("m8", 8)]
    finally:
        fresh.close()


def test_a_message_stored_before_version_2_reads_back_as_belonging_to_no_run(container: Container) -> None:
    mapper = container.conversations.mapper
    agent_id = uuid.uuid4()
    context = Context("t-old", "key:old", "r-old")
    segment = ConversationSegment.open(agent_id=agent_id, number=0, context=context, first_seq=0)
    segment.append(context, NewMessage("user", "hello from the past"))
    stored = mapper.to_stored_event(segment.collect_events()[-1])
    state = mapper.transcoder.decode(stored.state)
    for name in ("run_id", "incomplete", "summary_of", "class_version"):
        del state[name]
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, mapper.transcoder.encode(state))
    event = mapper.to_domain_event(old)
    assert isinstance(event, ConversationSegment.MessageAppended)
    assert (event.content, event.run_id, event.incomplete, event.summary_of) == (
        "hello from the past",
        None,
        False,
        None,
    )

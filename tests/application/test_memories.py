"""MemoryApplication against the real PostgreSQL event store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from agentmem.application.base import IdempotencyKeyReusedError, VersionConflictError
from agentmem.application.memories import BatchTooLargeError, MemoryNotFoundError, NewMemory
from agentmem.domain.base import Context
from agentmem.domain.memory import InvalidMemoryError, MemoryDeletedError
from agentmem.runtime.container import Container


def test_add_then_get_returns_the_memory_and_a_log_position(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="Bob lives in Lisbon", user_id="bob"), context)
    memory = container.memories.get(saved.aggregate.id, context.tenant_id)
    assert memory.text == "Bob lives in Lisbon" and memory.user_id == "bob"
    assert saved.position >= 1


def test_positions_grow_with_every_write(container: Container, context: Context) -> None:
    first = container.memories.add(NewMemory(text="one"), context)
    second = container.memories.update(first.aggregate.id, {"text": "two"}, context)
    assert second.position > first.position and second.aggregate.version == 2


def test_version_and_as_of_replay_the_log(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="v1"), context)
    between = datetime.now(UTC)
    container.memories.update(saved.aggregate.id, {"text": "v2"}, context)
    container.memories.update(saved.aggregate.id, {"text": "v3"}, context)
    get = container.memories.get
    assert get(saved.aggregate.id, context.tenant_id, version=1).text == "v1"
    assert get(saved.aggregate.id, context.tenant_id, version=2).text == "v2"
    assert get(saved.aggregate.id, context.tenant_id, as_of=between).text == "v1"
    assert get(saved.aggregate.id, context.tenant_id).text == "v3"
    with pytest.raises(MemoryNotFoundError):
        get(saved.aggregate.id, context.tenant_id, version=4)
    with pytest.raises(MemoryNotFoundError):
        get(saved.aggregate.id, context.tenant_id, as_of=datetime(2000, 1, 1, tzinfo=UTC))


def test_a_stale_expected_version_is_a_conflict(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="v1"), context)
    container.memories.update(saved.aggregate.id, {"text": "v2"}, context, expected_version=1)
    with pytest.raises(VersionConflictError) as conflict:
        container.memories.update(saved.aggregate.id, {"text": "v3"}, context, expected_version=1)
    assert conflict.value.current_version == 2


def test_the_same_idempotency_key_and_body_returns_the_first_result(container: Container, context: Context) -> None:
    new = NewMemory(text="remember once", metadata={"n": 1})
    first = container.memories.add(new, context, idempotency_key="key-1")
    again = container.memories.add(new, context, idempotency_key="key-1")
    assert (again.aggregate.id, again.aggregate.version, again.position) == (first.aggregate.id, 1, first.position)
    with pytest.raises(IdempotencyKeyReusedError):
        container.memories.add(replace(new, text="something else"), context, idempotency_key="key-1")


def test_an_idempotency_key_belongs_to_its_tenant(container: Container, context: Context) -> None:
    other = replace(context, tenant_id=context.tenant_id + "-other")
    mine = container.memories.add(NewMemory(text="shared key"), context, idempotency_key="k")
    theirs = container.memories.add(NewMemory(text="shared key"), other, idempotency_key="k")
    assert mine.aggregate.id != theirs.aggregate.id


def test_a_batch_is_all_or_nothing(container: Container, context: Context) -> None:
    good = [NewMemory(text=f"fact {i}") for i in range(5)]
    with pytest.raises(InvalidMemoryError):
        container.memories.add_batch([*good, NewMemory(text="")], context)
    results = container.memories.add_batch(good, context)
    assert [container.memories.get(r.aggregate.id, context.tenant_id).text for r in results] == [m.text for m in good]


def test_a_batch_of_the_maximum_size_is_saved_in_one_transaction(container: Container, context: Context) -> None:
    results = container.memories.add_batch([NewMemory(text=f"m{i}") for i in range(1000)], context)
    positions = [r.position for r in results]
    assert len(results) == 1000 and positions == sorted(positions)
    assert positions[-1] - positions[0] == 999
    with pytest.raises(BatchTooLargeError):
        container.memories.add_batch([NewMemory(text="x")] * 1001, context)


def test_a_full_batch_of_large_memories_is_saved(container: Container, context: Context) -> None:
    # 1,000 events of 4 kB: psycopg pipeline mode deadlocked on inserts this size (see EventRecorder)
    results = container.memories.add_batch([NewMemory(text=f"{i} " + "x" * 4000) for i in range(1000)], context)
    assert len({r.position for r in results}) == 1000
    assert container.memories.get(results[-1].aggregate.id, context.tenant_id).text.startswith("999 ")


def test_a_batch_retried_with_its_idempotency_key_adds_nothing(container: Container, context: Context) -> None:
    items = [NewMemory(text=f"item {i}") for i in range(3)]
    first = container.memories.add_batch(items, context, idempotency_key="batch-1")
    again = container.memories.add_batch(items, context, idempotency_key="batch-1")
    assert first == again


def test_delete_hides_and_restore_brings_back(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="temporary"), context)
    container.memories.delete(saved.aggregate.id, context)
    with pytest.raises(MemoryNotFoundError):
        container.memories.get(saved.aggregate.id, context.tenant_id)
    assert container.memories.get(saved.aggregate.id, context.tenant_id, include_deleted=True).deleted
    with pytest.raises(MemoryDeletedError):  # the domain's rule: deleting twice is a conflict, not a missing memory
        container.memories.delete(saved.aggregate.id, context)
    container.memories.restore(saved.aggregate.id, context)
    assert container.memories.get(saved.aggregate.id, context.tenant_id).text == "temporary"


def test_history_lists_every_version_with_actor_and_changes(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="first"), context)
    editor = replace(context, actor_id="editor", request_id="req-edit")
    container.memories.update(saved.aggregate.id, {"text": "second"}, editor)
    container.memories.delete(saved.aggregate.id, editor)
    history = container.memories.history(saved.aggregate.id, context.tenant_id)
    assert [(h.version, h.event_type, h.actor_id) for h in history] == [
        (1, "Created", "tester"),
        (2, "Updated", "editor"),
        (3, "Deleted", "editor"),
    ]
    assert history[1].changes == {"text": {"old": "first", "new": "second"}}
    assert history[1].request_id == "req-edit"
    assert history[2].changes == {"deleted": {"old": False, "new": True}}


def test_another_tenants_memory_is_not_found(container: Container, context: Context) -> None:
    saved = container.memories.add(NewMemory(text="private"), context)
    stranger = replace(context, tenant_id="someone-else")
    for read in (
        lambda: container.memories.get(saved.aggregate.id, stranger.tenant_id),
        lambda: container.memories.get(saved.aggregate.id, stranger.tenant_id, version=1),
        lambda: container.memories.get(saved.aggregate.id, stranger.tenant_id, as_of=datetime.now(UTC)),
        lambda: container.memories.history(saved.aggregate.id, stranger.tenant_id),
        lambda: container.memories.update(saved.aggregate.id, {"text": "hacked"}, stranger),
        lambda: container.memories.delete(saved.aggregate.id, stranger),
    ):
        with pytest.raises(MemoryNotFoundError):
            read()
    with pytest.raises(MemoryNotFoundError):
        container.memories.get(uuid4(), context.tenant_id)

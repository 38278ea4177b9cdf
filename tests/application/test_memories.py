"""MemoryApplication against the real PostgreSQL event store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from agentmem.api.services import Services
from agentmem.application.base import IdempotencyKeyReusedError, VersionConflictError
from agentmem.application.memories import BatchTooLargeError, MemoryNotFoundError, NewMemory
from agentmem.domain.base import Context
from agentmem.domain.memory import InvalidMemoryError


def test_add_then_get_returns_the_memory_and_a_log_position(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="Bob lives in Lisbon", user_id="bob"), context)
    memory = services.memories.get(saved.memory.id, context.tenant_id)
    assert memory.text == "Bob lives in Lisbon" and memory.user_id == "bob"
    assert saved.position >= 1


def test_positions_grow_with_every_write(services: Services, context: Context) -> None:
    first = services.memories.add(NewMemory(text="one"), context)
    second = services.memories.update(first.memory.id, {"text": "two"}, context)
    assert second.position > first.position and second.memory.version == 2


def test_version_and_as_of_replay_the_log(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="v1"), context)
    between = datetime.now(UTC)
    services.memories.update(saved.memory.id, {"text": "v2"}, context)
    services.memories.update(saved.memory.id, {"text": "v3"}, context)
    get = services.memories.get
    assert get(saved.memory.id, context.tenant_id, version=1).text == "v1"
    assert get(saved.memory.id, context.tenant_id, version=2).text == "v2"
    assert get(saved.memory.id, context.tenant_id, as_of=between).text == "v1"
    assert get(saved.memory.id, context.tenant_id).text == "v3"
    with pytest.raises(MemoryNotFoundError):
        get(saved.memory.id, context.tenant_id, version=4)
    with pytest.raises(MemoryNotFoundError):
        get(saved.memory.id, context.tenant_id, as_of=datetime(2000, 1, 1, tzinfo=UTC))


def test_a_stale_expected_version_is_a_conflict(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="v1"), context)
    services.memories.update(saved.memory.id, {"text": "v2"}, context, expected_version=1)
    with pytest.raises(VersionConflictError) as conflict:
        services.memories.update(saved.memory.id, {"text": "v3"}, context, expected_version=1)
    assert conflict.value.current_version == 2


def test_the_same_idempotency_key_and_body_returns_the_first_result(services: Services, context: Context) -> None:
    new = NewMemory(text="remember once", metadata={"n": 1})
    first = services.memories.add(new, context, idempotency_key="key-1")
    again = services.memories.add(new, context, idempotency_key="key-1")
    assert (again.memory.id, again.memory.version, again.position) == (first.memory.id, 1, first.position)
    with pytest.raises(IdempotencyKeyReusedError):
        services.memories.add(replace(new, text="something else"), context, idempotency_key="key-1")


def test_an_idempotency_key_belongs_to_its_tenant(services: Services, context: Context) -> None:
    other = replace(context, tenant_id=context.tenant_id + "-other")
    mine = services.memories.add(NewMemory(text="shared key"), context, idempotency_key="k")
    theirs = services.memories.add(NewMemory(text="shared key"), other, idempotency_key="k")
    assert mine.memory.id != theirs.memory.id


def test_a_batch_is_all_or_nothing(services: Services, context: Context) -> None:
    good = [NewMemory(text=f"fact {i}") for i in range(5)]
    with pytest.raises(InvalidMemoryError):
        services.memories.add_batch([*good, NewMemory(text="")], context)
    results = services.memories.add_batch(good, context)
    assert [services.memories.get(r.id, context.tenant_id).text for r in results] == [m.text for m in good]


def test_a_batch_of_the_maximum_size_is_saved_in_one_transaction(services: Services, context: Context) -> None:
    results = services.memories.add_batch([NewMemory(text=f"m{i}") for i in range(1000)], context)
    positions = [r.position for r in results]
    assert len(results) == 1000 and positions == sorted(positions)
    assert positions[-1] - positions[0] == 999
    with pytest.raises(BatchTooLargeError):
        services.memories.add_batch([NewMemory(text="x")] * 1001, context)


def test_a_full_batch_of_large_memories_is_saved(services: Services, context: Context) -> None:
    # 1,000 events of 4 kB: psycopg pipeline mode deadlocked on inserts this size (see EventRecorder)
    results = services.memories.add_batch([NewMemory(text=f"{i} " + "x" * 4000) for i in range(1000)], context)
    assert len({r.position for r in results}) == 1000
    assert services.memories.get(results[-1].id, context.tenant_id).text.startswith("999 ")


def test_a_batch_retried_with_its_idempotency_key_adds_nothing(services: Services, context: Context) -> None:
    items = [NewMemory(text=f"item {i}") for i in range(3)]
    first = services.memories.add_batch(items, context, idempotency_key="batch-1")
    again = services.memories.add_batch(items, context, idempotency_key="batch-1")
    assert first == again


def test_delete_hides_and_restore_brings_back(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="temporary"), context)
    services.memories.delete(saved.memory.id, context)
    with pytest.raises(MemoryNotFoundError):
        services.memories.get(saved.memory.id, context.tenant_id)
    assert services.memories.get(saved.memory.id, context.tenant_id, include_deleted=True).deleted
    with pytest.raises(MemoryNotFoundError):
        services.memories.delete(saved.memory.id, context)
    services.memories.restore(saved.memory.id, context)
    assert services.memories.get(saved.memory.id, context.tenant_id).text == "temporary"


def test_history_lists_every_version_with_actor_and_changes(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="first"), context)
    editor = replace(context, actor_id="editor", request_id="req-edit")
    services.memories.update(saved.memory.id, {"text": "second"}, editor)
    services.memories.delete(saved.memory.id, editor)
    history = services.memories.history(saved.memory.id, context.tenant_id)
    assert [(h.version, h.event_type, h.actor_id) for h in history] == [
        (1, "Created", "tester"),
        (2, "Updated", "editor"),
        (3, "Deleted", "editor"),
    ]
    assert history[1].changes == {"text": {"old": "first", "new": "second"}}
    assert history[1].request_id == "req-edit"
    assert history[2].changes == {"deleted": {"old": False, "new": True}}


def test_another_tenants_memory_is_not_found(services: Services, context: Context) -> None:
    saved = services.memories.add(NewMemory(text="private"), context)
    stranger = replace(context, tenant_id="someone-else")
    for read in (
        lambda: services.memories.get(saved.memory.id, stranger.tenant_id),
        lambda: services.memories.get(saved.memory.id, stranger.tenant_id, version=1),
        lambda: services.memories.get(saved.memory.id, stranger.tenant_id, as_of=datetime.now(UTC)),
        lambda: services.memories.history(saved.memory.id, stranger.tenant_id),
        lambda: services.memories.update(saved.memory.id, {"text": "hacked"}, stranger),
        lambda: services.memories.delete(saved.memory.id, stranger),
    ):
        with pytest.raises(MemoryNotFoundError):
            read()
    with pytest.raises(MemoryNotFoundError):
        services.memories.get(uuid4(), context.tenant_id)

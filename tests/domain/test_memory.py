"""The memory aggregate's rules, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agentmem.domain.base import Context
from agentmem.domain.memory import (
    MAX_TEXT_CHARS,
    InvalidMemoryError,
    Memory,
    MemoryDeletedError,
    MemoryNotDeletedError,
)

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")


def new_memory(**fields: object) -> Memory:
    return Memory.create(id=uuid4(), context=CTX, **{"text": "Alice likes tea", **fields})  # type: ignore[arg-type]


def test_a_new_memory_records_created_with_tenant_actor_and_request() -> None:
    memory = new_memory(user_id="u1", metadata={"source": "chat"})
    [created] = memory.collect_events()
    assert type(created).__name__ == "Created"
    assert (created.tenant_id, created.actor_id, created.request_id) == ("acme", "alice", "req-1")
    assert memory.version == 1 and memory.memory_type == "semantic" and not memory.deleted


@pytest.mark.parametrize("text", ["", "   ", "x" * (MAX_TEXT_CHARS + 1)])
def test_empty_or_over_long_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidMemoryError) as refused:
        new_memory(text=text)
    assert refused.value.field == "text"


def test_an_unknown_memory_type_is_refused() -> None:
    with pytest.raises(InvalidMemoryError, match="memory_type"):
        new_memory(memory_type="dream")


def test_validity_must_not_end_before_it_starts() -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidMemoryError, match="valid_to"):
        new_memory(valid_from=now, valid_to=now - timedelta(days=1))


def test_an_update_records_only_the_fields_that_changed() -> None:
    memory = new_memory()
    memory.collect_events()
    changed = memory.update(Context("acme", "bob", "req-2"), {"text": "Alice likes coffee", "metadata": {}})
    [updated] = memory.collect_events()
    assert changed and updated.changes == {"text": "Alice likes coffee"}
    assert memory.updated_by == "bob" and memory.created_by == "alice" and memory.version == 2


def test_an_update_that_changes_nothing_records_nothing() -> None:
    memory = new_memory()
    memory.collect_events()
    assert memory.update(CTX, {"text": "Alice likes tea"}) is False
    assert memory.collect_events() == []


def test_scope_ids_cannot_be_changed() -> None:
    with pytest.raises(InvalidMemoryError, match="user_id"):
        new_memory().update(CTX, {"user_id": "someone-else"})


def test_a_deleted_memory_cannot_be_edited_until_restored() -> None:
    memory = new_memory()
    memory.delete(CTX)
    with pytest.raises(MemoryDeletedError):
        memory.update(CTX, {"text": "changed"})
    memory.restore(CTX)
    assert memory.update(CTX, {"text": "changed"})
    assert [type(e).__name__ for e in memory.collect_events()] == ["Created", "Deleted", "Restored", "Updated"]


def test_delete_twice_and_restore_of_a_live_memory_are_refused() -> None:
    memory = new_memory()
    with pytest.raises(MemoryNotDeletedError):
        memory.restore(CTX)
    memory.delete(CTX)
    with pytest.raises(MemoryDeletedError):
        memory.delete(CTX)

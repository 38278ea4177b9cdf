"""The block aggregate's rules: the limit, read-only, revert, delete; without any I/O."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agentmem.domain.base import Context
from agentmem.domain.block import (
    DEFAULT_LIMIT,
    Block,
    BlockDeletedError,
    BlockLimitExceededError,
    BlockNotDeletedError,
    BlockReadOnlyError,
    InvalidBlockError,
)

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")


def new_block(**fields: object) -> Block:
    return Block.create(id=uuid4(), context=CTX, **{"label": "human", "value": "Sam likes tea", **fields})  # type: ignore[arg-type]


def event_names(block: Block) -> list[str]:
    return [type(e).__name__ for e in block.collect_events()]


def test_a_new_block_has_the_documented_default_limit_and_records_created() -> None:
    block = new_block()
    assert block.limit == DEFAULT_LIMIT == 5_000 and block.size == len("Sam likes tea")
    assert event_names(block) == ["Created"]


def test_a_value_longer_than_the_limit_is_refused_naming_limit_and_size() -> None:
    with pytest.raises(BlockLimitExceededError) as refused:
        new_block(value="x" * 11, limit=10)
    assert (refused.value.limit, refused.value.size, refused.value.field) == (10, 11, "value")
    assert "10" in str(refused.value) and "11" in str(refused.value)


def test_an_append_past_the_limit_is_refused_and_changes_nothing() -> None:
    block = new_block(value="abc", limit=10)
    block.collect_events()
    block.append(CTX, "def")  # "abc\ndef" is 7
    with pytest.raises(BlockLimitExceededError) as refused:
        block.append(CTX, "ghi")  # would be 11
    assert (refused.value.limit, refused.value.size) == (10, 11)
    assert block.value == "abc\ndef" and event_names(block) == ["ValueAppended"]


def test_lowering_the_limit_below_the_value_is_refused_but_shrinking_both_at_once_works() -> None:
    block = new_block(value="x" * 8, limit=10)
    with pytest.raises(BlockLimitExceededError) as refused:
        block.update(CTX, {"limit": 5})
    assert refused.value.field == "limit" and refused.value.size == 8
    block.collect_events()
    assert block.update(CTX, {"limit": 5, "value": "short"})
    assert (block.value, block.limit) == ("short", 5)
    assert event_names(block) == ["ValueReplaced", "LimitChanged"]


def test_a_read_only_block_refuses_every_edit_until_it_is_unlocked() -> None:
    block = new_block(read_only=True)
    for edit in (
        lambda: block.update(CTX, {"value": "changed"}),
        lambda: block.update(CTX, {"label": "persona"}),
        lambda: block.update(CTX, {"limit": 100}),
        lambda: block.append(CTX, "more"),
        lambda: block.revert(CTX, 1, "old"),
    ):
        with pytest.raises(BlockReadOnlyError):
            edit()
    block.collect_events()
    assert block.update(CTX, {"read_only": False, "value": "changed"})
    assert event_names(block) == ["DetailsChanged", "ValueReplaced"]  # unlocked first, then edited
    assert block.value == "changed" and not block.read_only


def test_locking_comes_after_the_edit_made_in_the_same_patch() -> None:
    block = new_block()
    block.collect_events()
    block.update(CTX, {"value": "final", "read_only": True})
    assert event_names(block) == ["ValueReplaced", "DetailsChanged"]
    with pytest.raises(BlockReadOnlyError):
        block.update(CTX, {"value": "again"})


def test_revert_records_a_new_event_with_the_old_value() -> None:
    block = new_block(value="first")
    block.update(CTX, {"value": "second"})
    assert block.revert(CTX, 1, "first")
    assert block.value == "first" and block.version == 3
    assert not block.revert(CTX, 1, "first")  # already that value: nothing recorded


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"label": ""}, "label"),
        ({"label": "has space"}, "label"),
        ({"label": "9lives"}, "label"),
        ({"limit": 0}, "limit"),
        ({"limit": 100_001}, "limit"),
        ({"description": "d" * 2_001}, "description"),
        ({"metadata": {"x": "y" * 17_000}}, "metadata"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(fields: dict, field: str) -> None:
    with pytest.raises(InvalidBlockError) as refused:
        new_block(**fields)
    assert refused.value.field == field


def test_a_deleted_block_cannot_be_edited_until_restored() -> None:
    block = new_block()
    block.delete(CTX)
    with pytest.raises(BlockDeletedError):
        block.append(CTX, "x")
    with pytest.raises(BlockDeletedError):
        block.delete(CTX)
    block.restore(CTX)
    with pytest.raises(BlockNotDeletedError):
        block.restore(CTX)
    block.append(CTX, "x")
    assert block.value == "Sam likes tea\nx"

"""BlockApplication against the real PostgreSQL event store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from agentmem.application.base import VersionConflictError
from agentmem.application.blocks import BlockNotFoundError, NewBlock
from agentmem.domain.base import Context
from agentmem.domain.block import BlockLimitExceededError, BlockReadOnlyError, InvalidBlockError
from agentmem.runtime.container import Container


def test_edits_are_versions_readable_by_number_and_by_instant(container: Container, context: Context) -> None:
    saved = container.blocks.create(NewBlock(label="human", value="Sam likes tea"), context)
    block_id = saved.aggregate.id
    between = datetime.now(UTC)
    container.blocks.update(block_id, {"value": "Sam likes coffee"}, context)
    container.blocks.append(block_id, "Sam lives in Oslo", context)
    get = container.blocks.get
    assert get(block_id, context.tenant_id, version=1).value == "Sam likes tea"
    assert get(block_id, context.tenant_id, as_of=between).value == "Sam likes tea"
    assert get(block_id, context.tenant_id).value == "Sam likes coffee\nSam lives in Oslo"


def test_revert_appends_a_new_version_with_the_old_value(container: Container, context: Context) -> None:
    block_id = container.blocks.create(NewBlock(label="persona", value="v1"), context).aggregate.id
    container.blocks.update(block_id, {"value": "v2"}, context)
    reverted = container.blocks.revert(block_id, 1, context)
    assert (reverted.aggregate.value, reverted.aggregate.version) == ("v1", 3)
    history = container.blocks.history(block_id, context.tenant_id)
    assert [h.event_type for h in history] == ["Created", "ValueReplaced", "Reverted"]
    assert history[2].changes == {"value": {"old": "v2", "new": "v1"}}
    with pytest.raises(InvalidBlockError) as refused:
        container.blocks.revert(block_id, 99, context)
    assert refused.value.field == "version"


def test_a_revert_to_a_value_over_the_current_limit_is_refused(container: Container, context: Context) -> None:
    block_id = container.blocks.create(NewBlock(label="human", value="x" * 20, limit=50), context).aggregate.id
    container.blocks.update(block_id, {"value": "short", "limit": 10}, context)
    with pytest.raises(BlockLimitExceededError) as refused:
        container.blocks.revert(block_id, 1, context)
    assert (refused.value.limit, refused.value.size) == (10, 20)


def test_a_read_only_block_refuses_edits_through_the_application(container: Container, context: Context) -> None:
    block_id = container.blocks.create(
        NewBlock(label="policy", value="Never share keys", read_only=True), context
    ).aggregate.id
    with pytest.raises(BlockReadOnlyError):
        container.blocks.append(block_id, "unless asked nicely", context)
    assert container.blocks.get(block_id, context.tenant_id).version == 1


def test_a_stale_expected_version_is_a_conflict(container: Container, context: Context) -> None:
    block_id = container.blocks.create(NewBlock(label="human"), context).aggregate.id
    container.blocks.append(block_id, "one", context, expected_version=1)
    with pytest.raises(VersionConflictError) as conflict:
        container.blocks.append(block_id, "two", context, expected_version=1)
    assert conflict.value.current_version == 2


def test_another_tenants_block_is_not_found(container: Container, context: Context) -> None:
    block_id = container.blocks.create(NewBlock(label="human", value="private"), context).aggregate.id
    stranger = replace(context, tenant_id="someone-else")
    for attempt in (
        lambda: container.blocks.get(block_id, stranger.tenant_id),
        lambda: container.blocks.history(block_id, stranger.tenant_id),
        lambda: container.blocks.update(block_id, {"value": "hacked"}, stranger),
        lambda: container.blocks.revert(block_id, 1, stranger),
        lambda: container.blocks.delete(block_id, stranger),
    ):
        with pytest.raises(BlockNotFoundError):
            attempt()

"""BlockApplication against the real PostgreSQL event store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from agentmem.api.services import Services
from agentmem.application.base import VersionConflictError
from agentmem.application.blocks import BlockNotFoundError, NewBlock
from agentmem.domain.base import Context
from agentmem.domain.block import BlockLimitExceededError, BlockReadOnlyError, InvalidBlockError


def test_edits_are_versions_readable_by_number_and_by_instant(services: Services, context: Context) -> None:
    saved = services.blocks.create(NewBlock(label="human", value="Sam likes tea"), context)
    block_id = saved.block.id
    between = datetime.now(UTC)
    services.blocks.update(block_id, {"value": "Sam likes coffee"}, context)
    services.blocks.append(block_id, "Sam lives in Oslo", context)
    get = services.blocks.get
    assert get(block_id, context.tenant_id, version=1).value == "Sam likes tea"
    assert get(block_id, context.tenant_id, as_of=between).value == "Sam likes tea"
    assert get(block_id, context.tenant_id).value == "Sam likes coffee\nSam lives in Oslo"


def test_revert_appends_a_new_version_with_the_old_value(services: Services, context: Context) -> None:
    block_id = services.blocks.create(NewBlock(label="persona", value="v1"), context).block.id
    services.blocks.update(block_id, {"value": "v2"}, context)
    reverted = services.blocks.revert(block_id, 1, context)
    assert (reverted.block.value, reverted.block.version) == ("v1", 3)
    history = services.blocks.history(block_id, context.tenant_id)
    assert [h.event_type for h in history] == ["Created", "ValueReplaced", "Reverted"]
    assert history[2].changes == {"value": {"old": "v2", "new": "v1"}}
    with pytest.raises(InvalidBlockError) as refused:
        services.blocks.revert(block_id, 99, context)
    assert refused.value.field == "version"


def test_a_revert_to_a_value_over_the_current_limit_is_refused(services: Services, context: Context) -> None:
    block_id = services.blocks.create(NewBlock(label="human", value="x" * 20, limit=50), context).block.id
    services.blocks.update(block_id, {"value": "short", "limit": 10}, context)
    with pytest.raises(BlockLimitExceededError) as refused:
        services.blocks.revert(block_id, 1, context)
    assert (refused.value.limit, refused.value.size) == (10, 20)


def test_a_read_only_block_refuses_edits_through_the_application(services: Services, context: Context) -> None:
    block_id = services.blocks.create(
        NewBlock(label="policy", value="Never share keys", read_only=True), context
    ).block.id
    with pytest.raises(BlockReadOnlyError):
        services.blocks.append(block_id, "unless asked nicely", context)
    assert services.blocks.get(block_id, context.tenant_id).version == 1


def test_a_stale_expected_version_is_a_conflict(services: Services, context: Context) -> None:
    block_id = services.blocks.create(NewBlock(label="human"), context).block.id
    services.blocks.append(block_id, "one", context, expected_version=1)
    with pytest.raises(VersionConflictError) as conflict:
        services.blocks.append(block_id, "two", context, expected_version=1)
    assert conflict.value.current_version == 2


def test_another_tenants_block_is_not_found(services: Services, context: Context) -> None:
    block_id = services.blocks.create(NewBlock(label="human", value="private"), context).block.id
    stranger = replace(context, tenant_id="someone-else")
    for attempt in (
        lambda: services.blocks.get(block_id, stranger.tenant_id),
        lambda: services.blocks.history(block_id, stranger.tenant_id),
        lambda: services.blocks.update(block_id, {"value": "hacked"}, stranger),
        lambda: services.blocks.revert(block_id, 1, stranger),
        lambda: services.blocks.delete(block_id, stranger),
    ):
        with pytest.raises(BlockNotFoundError):
            attempt()

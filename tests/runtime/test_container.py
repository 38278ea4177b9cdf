"""The composition root drives every use case without HTTP: what the job worker, the MCP server and the CLI use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from agentmem.application.memories import NewMemory
from agentmem.application.scopes import memory_scope
from agentmem.domain.base import Context
from agentmem.domain.errors import LimitExceeded
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container

T = TypeVar("T")
pytestmark = pytest.mark.usefixtures("worker")


def with_container(settings: Settings, use: Callable[[Container], Awaitable[T]]) -> T:
    async def run() -> T:
        container = Container(settings)
        await container.start()
        try:
            return await use(container)
        finally:
            await container.close()

    return asyncio.run(run())


def test_a_write_then_a_search_after_its_position_through_the_container(
    settings: Settings, context: Context, worker: Worker
) -> None:
    async def use(container: Container) -> tuple[list[str], str | None]:
        saved = await container.memory_writes.add(
            NewMemory(text="Ines keeps bees on the roof", user_id="ines"), context, 10
        )
        found = await container.reads.search(
            "memories", memory_scope(context.tenant_id, user_id="ines"), "who keeps bees?", min_position=saved.position
        )
        return [h.memory.text for h in found.hits], found.vector_index

    texts, index = with_container(settings, use)
    assert texts == ["Ines keeps bees on the roof"] and index == "exact"  # one user's few memories: exact scan


def test_the_memory_quota_holds_for_any_entrypoint(settings: Settings, context: Context) -> None:
    async def use(container: Container) -> None:
        await container.memory_writes.add(NewMemory(text="the only one"), context, max_memories=1)
        await container.memory_writes.add(NewMemory(text="one too many"), context, max_memories=1)

    with pytest.raises(LimitExceeded):
        with_container(settings, use)


def test_an_exact_search_limit_of_zero_sends_user_searches_to_the_hnsw_index(
    settings: Settings, context: Context, worker: Worker
) -> None:
    async def use(container: Container) -> str | None:
        saved = await container.memory_writes.add(NewMemory(text="Noor sails on Sundays", user_id="noor"), context, 10)
        found = await container.reads.search(
            "memories",
            memory_scope(context.tenant_id, user_id="noor"),
            "sailing",
            mode="vector",
            min_position=saved.position,
        )
        return found.vector_index

    assert with_container(settings.with_overrides(exact_search_limit=0), use) == "hnsw"

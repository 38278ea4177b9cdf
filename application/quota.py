"""The stored-memory quota: reserved before a write, given back when it fails or memories are deleted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol


class QuotaStore(Protocol):
    """A per-tenant counter shared by every process (LimitExceeded when a reservation would pass the limit)."""

    async def reserve(self, tenant_id: str, count: int, limit: int, recount: Callable[[], Awaitable[int]]) -> None:
        """Takes `count`; `recount` gives the true number when the counter was lost or expired."""
        ...

    async def release(self, tenant_id: str, count: int) -> None: ...


class MemoryQuota:
    """How many memories an organization may store, counted across processes and recounted from the read model."""

    def __init__(self, store: QuotaStore, live_memories: Callable[[str], Awaitable[int]]) -> None:
        self.store = store
        self.live_memories = live_memories

    @asynccontextmanager
    async def reserve(self, tenant_id: str, count: int, limit: int) -> AsyncIterator[None]:
        """Reserves `count` memories for a write; gives them back if the write fails."""
        await self.store.reserve(tenant_id, count, limit, lambda: self.live_memories(tenant_id))
        try:
            yield
        except BaseException:
            await self.store.release(tenant_id, count)
            raise

    async def release(self, tenant_id: str, count: int) -> None:
        await self.store.release(tenant_id, count)

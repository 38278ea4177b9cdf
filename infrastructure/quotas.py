"""Per-organization limits in Redis: requests per minute (the `limits` package) and stored memories."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import Redis

from agentmem.application.metrics import LIMIT_REFUSALS
from agentmem.domain.errors import LimitExceeded

USAGE_PREFIX = "agentmem:usage:memories:"
USAGE_TTL = 300
"""Seconds a memory count is trusted before it is recounted from the read model (heals any drift)."""


class QuotaExceededError(LimitExceeded):
    """A request rate or a stored-memory quota is exhausted; `retry_after` in seconds when waiting helps."""


class RequestRateLimiter:
    """A fixed one-minute window per organization, counted in Redis (shared by every API process)."""

    def __init__(self, redis_url: str, redis: Redis) -> None:
        storage = RedisStorage(
            "async+" + redis_url,
            implementation="redispy",
            key_prefix="agentmem:rate",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = FixedWindowRateLimiter(storage)
        self._items: dict[int, RateLimitItem] = {}

    async def hit(self, identifier: str, per_minute: int, scope: str = "org") -> None:
        """Counts one request; QuotaExceededError (with Retry-After seconds) once the minute's budget is spent.

        `scope` "org" counts an organization's requests; "login" counts sign-in attempts for one email.
        """
        item = self._items.setdefault(per_minute, RateLimitItemPerMinute(per_minute))
        if await self._limiter.hit(item, scope, identifier):
            return
        LIMIT_REFUSALS.inc(limit="rate" if scope == "org" else scope)
        stats = await self._limiter.get_window_stats(item, scope, identifier)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        what = "requests per minute for this organization" if scope == "org" else f"{scope} attempts per minute"
        raise QuotaExceededError(f"rate limit of {per_minute} {what} exceeded; retry in {retry_after} s", retry_after)


class RedisQuotaStore:
    """Stored memories per organization: a Redis counter, reserved before each write and recounted every 5 min."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def reserve(self, tenant_id: str, count: int, limit: int, recount: Callable[[], Awaitable[int]]) -> None:
        """Takes `count` from the quota or raises QuotaExceededError (taking nothing)."""
        key = USAGE_PREFIX + tenant_id
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip in the usual case
            pipe.exists(key)
            pipe.incrby(key, count)
            pipe.expire(key, USAGE_TTL, nx=True)
            existed, used, _ = await pipe.execute()
        if not existed and await self.redis.set(key + ":recount", 1, ex=10, nx=True):
            used = int(await self.redis.incrby(key, await recount()))  # the counter was new: add the stored ones
        if used > limit:
            LIMIT_REFUSALS.inc(limit="memories")
            await self.redis.decrby(key, count)
            raise QuotaExceededError(
                f"memory quota exceeded: this organization may store {limit} memories and has {used - count}; "
                "delete some or ask an administrator to raise max_memories"
            )

    async def release(self, tenant_id: str, count: int) -> None:
        """Gives back `count` (a write failed, or memories were deleted)."""
        key = USAGE_PREFIX + tenant_id
        if await self.redis.exists(key):
            await self.redis.decrby(key, count)

"""Each actor's newest write position in Redis (one key per actor, kept for an hour)."""

from __future__ import annotations

from redis.asyncio import Redis

PREFIX = "agentmem:last-write:"
TTL_SECONDS = 3600
"""Long after any projection lag: a read this much later would not wait anyway."""
_KEEP_NEWEST = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
"""


class RedisWritePositions:
    """WritePositions in Redis: a compare-and-set script keeps the newest position (writes may finish out of order)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._keep_newest = redis.register_script(_KEEP_NEWEST)

    async def remember(self, actor_id: str, position: int) -> None:
        await self._keep_newest(keys=[PREFIX + actor_id], args=[position, TTL_SECONDS])

    async def last(self, actor_id: str) -> int | None:
        value = await self.redis.get(PREFIX + actor_id)
        return int(value) if value is not None else None

"""Limits shared by every process through Redis: requests and tokens per minute per provider, tokens per day per
organization.

Per-minute limits are fixed one-minute windows (one pipelined round trip per call). A call that does not fit waits
for the next window when that is sooner than both its deadline and MAX_WAIT, else fails with 429-style
`LanguageModelRateLimited` carrying Retry-After.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime

from redis.asyncio import Redis

from agentmem.application.llm import LanguageModelRateLimited

WINDOW = 60
MAX_WAIT = 30.0
"""Seconds a call may wait for the next window before it fails instead (its deadline may cut this shorter)."""
PREFIX = "agentmem:llm:"


class RedisRateGate:
    """AGENTMEM_LLM_RPM and AGENTMEM_LLM_TPM per provider (0 = unlimited), counted in one-minute windows."""

    def __init__(self, redis: Redis, rpm: int, tpm: int, max_wait: float = MAX_WAIT) -> None:
        self.redis = redis
        self.rpm = rpm
        self.tpm = tpm
        self.max_wait = max_wait

    def _keys(self, provider: str, window: int) -> tuple[str, str]:
        return f"{PREFIX}rpm:{provider}:{window}", f"{PREFIX}tpm:{provider}:{window}"

    async def admit(self, provider: str, tokens: int, deadline: float | None) -> None:
        """Counts one request of about `tokens` tokens in this minute, waiting (bounded) for room if needed."""
        if self.tpm and tokens > self.tpm:
            raise LanguageModelRateLimited(
                f"a request of about {tokens} tokens exceeds AGENTMEM_LLM_TPM={self.tpm} for {provider}"
            )
        while True:
            now = time.time()
            window = int(now // WINDOW)
            requests_key, tokens_key = self._keys(provider, window)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.incr(requests_key)
                pipe.incrby(tokens_key, tokens)
                pipe.expire(requests_key, 2 * WINDOW)
                pipe.expire(tokens_key, 2 * WINDOW)
                requests, used, *_ = await pipe.execute()
            if (not self.rpm or requests <= self.rpm) and (not self.tpm or used <= self.tpm):
                return
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.decr(requests_key)
                pipe.decrby(tokens_key, tokens)
                await pipe.execute()
            wait = (window + 1) * WINDOW - now
            left = None if deadline is None else deadline - time.monotonic()
            if wait > self.max_wait or (left is not None and wait >= left):
                limit = f"{self.rpm} requests" if self.rpm and requests > self.rpm else f"{self.tpm} tokens"
                raise LanguageModelRateLimited(
                    f"the {provider} limit of {limit} a minute is reached; retry in {math.ceil(wait)} s",
                    math.ceil(wait),
                )
            await asyncio.sleep(wait)

    async def settle(self, provider: str, tokens: int) -> None:
        """Adds the difference between the tokens a call used and the estimate it was admitted with."""
        if self.tpm and tokens:
            await self.redis.incrby(self._keys(provider, int(time.time() // WINDOW))[1], tokens)


class RedisTokenBudget:
    """Tokens each organization used today (UTC): one counter per organization and day."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def _key(tenant_id: str) -> str:
        return f"{PREFIX}tokens:{tenant_id}:{datetime.now(UTC):%Y%m%d}"

    async def used_today(self, tenant_id: str) -> int:
        return int(await self.redis.get(self._key(tenant_id)) or 0)

    async def add(self, tenant_id: str, tokens: int) -> None:
        key = self._key(tenant_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incrby(key, tokens)
            pipe.expire(key, 2 * 86_400)
            await pipe.execute()

"""Limits shared through Redis: requests per minute across processes, and the wait-or-fail rule."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from redis.asyncio import Redis

from agentmem.application.llm import LanguageModelRateLimited
from agentmem.infrastructure.llm.limits import WINDOW, RedisRateGate
from agentmem.infrastructure.settings import Settings

CALLER = """
import asyncio, sys
from redis.asyncio import Redis
from agentmem.application.llm import LanguageModelRateLimited
from agentmem.infrastructure.llm.limits import RedisRateGate

async def main(url, provider, calls):
    redis = Redis.from_url(url)
    gate = RedisRateGate(redis, rpm=3, tpm=0, max_wait=0)
    admitted = 0
    for _ in range(calls):
        try:
            await gate.admit(provider, 10, None)
            admitted += 1
        except LanguageModelRateLimited as error:
            assert error.retry_after and error.retry_after <= 60
    await redis.aclose()
    print(admitted)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def window() -> int:
    return int(time.time() // WINDOW)


def test_two_processes_share_one_requests_per_minute_limit(settings: Settings) -> None:
    assert settings.redis_url
    for _ in range(3):  # a run that straddles a minute boundary counts two windows: run it again
        started, provider = window(), f"p-{uuid.uuid4().hex[:8]}"
        processes = [
            subprocess.Popen([sys.executable, "-c", CALLER, settings.redis_url, provider, "3"], stdout=subprocess.PIPE)
            for _ in range(2)
        ]
        admitted = [int(p.communicate(timeout=60)[0]) for p in processes]
        if window() == started:
            break
    assert sum(admitted) == 3
    assert all(p.returncode == 0 for p in processes)


async def test_a_call_over_the_limit_fails_with_retry_after_when_it_cannot_wait(settings: Settings) -> None:
    assert settings.redis_url
    redis = Redis.from_url(settings.redis_url)
    gate = RedisRateGate(redis, rpm=0, tpm=100)
    provider = f"p-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(LanguageModelRateLimited, match="exceeds AGENTMEM_LLM_TPM=100"):
            await gate.admit(provider, 101, None)
        await gate.admit(provider, 60, None)
        with pytest.raises(LanguageModelRateLimited, match="100 tokens a minute") as raised:
            await gate.admit(provider, 60, time.monotonic() + 0.01)  # the deadline is before the next window
        assert raised.value.retry_after is not None
        await gate.settle(provider, -50)  # the first call used 50 fewer tokens than estimated
        await gate.admit(provider, 60, time.monotonic() + 0.01)
    finally:
        await redis.aclose()

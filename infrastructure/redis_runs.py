"""The run ports in Redis: the agent's run lock (SET NX with a TTL), cancel flags, a count of each run's stream
followers (the run is detached when the last one leaves), and each run's events as a Redis stream (entry ids
`0-<seq>`) that readers follow with XREAD BLOCK and that expires after the window."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from uuid import UUID

from redis.asyncio import Redis

from agentmem.application.run_signals import RunEvent, RunStreamGoneError

PREFIX = "agentmem:run:"
BLOCK_MS = 1_000
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisRuns:
    """RunSignals and RunEvents over one Redis client; `window` is how long a run's events stay after the last."""

    def __init__(self, redis: Redis, window: float) -> None:
        self.redis = redis
        self.window = max(1, int(window))
        self._release = redis.register_script(_RELEASE)

    @staticmethod
    def _key(kind: str, name: UUID) -> str:
        return f"{PREFIX}{kind}:{name}"

    async def claim(self, agent_id: UUID, run_id: UUID, seconds: float) -> UUID | None:
        key = self._key("active", agent_id)
        for _ in range(3):  # the holder may release between our SET and GET
            if await self.redis.set(key, str(run_id), nx=True, px=max(1, int(seconds * 1000))):
                return None
            holder = await self.redis.get(key)
            if holder is not None:
                return UUID(holder.decode())
        return None if await self.redis.set(key, str(run_id), nx=True, px=int(seconds * 1000)) else run_id

    async def release(self, agent_id: UUID, run_id: UUID) -> None:
        await self._release(keys=[self._key("active", agent_id)], args=[str(run_id)])

    async def request_cancel(self, run_id: UUID, reason: str, seconds: float) -> None:
        await self.redis.set(self._key("cancel", run_id), reason, ex=max(1, int(seconds)))

    async def detach(self, run_id: UUID) -> None:
        """One follower fewer; when none is left, the run is detached from now."""
        if await self.redis.decr(self._key("followers", run_id)) <= 0:
            await self.redis.set(self._key("detached", run_id), str(time.time()), ex=self.window)

    async def attach(self, run_id: UUID) -> None:
        followers = self._key("followers", run_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(followers)
            pipe.expire(followers, self.window)
            pipe.delete(self._key("detached", run_id))
            await pipe.execute()

    async def stop_reason(self, run_id: UUID, detached_grace: float) -> str | None:
        cancel, detached = await self.redis.mget(self._key("cancel", run_id), self._key("detached", run_id))
        if cancel is not None:
            return str(cancel.decode())
        if detached is not None and time.time() - float(detached) >= detached_grace:
            return "client_gone"
        return None

    async def publish(self, event: RunEvent) -> None:
        key = self._key("events", event.run_id)
        fields = {"kind": event.kind, "data": json.dumps(event.data, default=str)}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, fields, id=f"0-{event.seq}")  # type: ignore[arg-type]
            pipe.expire(key, self.window)
            await pipe.execute()

    async def follow(self, run_id: UUID, after: int, idle_timeout: float) -> AsyncIterator[RunEvent]:
        key = self._key("events", run_id)
        if not await self.redis.exists(key):
            raise RunStreamGoneError(f"the events of run {run_id} are not kept (unknown run, or past the window)")
        return self._read(run_id, key, after, idle_timeout)

    async def _read(self, run_id: UUID, key: str, after: int, idle_timeout: float) -> AsyncIterator[RunEvent]:
        last = f"0-{after}"
        idle_since = time.monotonic()
        while True:
            answer = await self.redis.xread({key: last}, count=200, block=BLOCK_MS)
            if not answer:
                if time.monotonic() - idle_since > idle_timeout:
                    return
                continue
            idle_since = time.monotonic()
            for entry_id, fields in answer[0][1]:
                last = entry_id.decode()
                event = RunEvent(run_id, int(last.split("-")[1]), fields[b"kind"].decode(), json.loads(fields[b"data"]))
                yield event
                if event.terminal:
                    return

"""An async HTTP client for the AgentMem API, and latency statistics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import numpy as np


def stats(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds."""
    if not samples_ms:
        return {"n": 0}
    values = np.asarray(samples_ms)
    return {
        "n": len(samples_ms),
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "mean": round(float(values.mean()), 2),
    }


class Api:
    """Calls the API with one key; raises on unexpected statuses."""

    def __init__(self, url: str, key: str, connections: int = 64) -> None:
        self.key = key
        self.client = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    async def timed(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> tuple[float, Any]:
        started = time.perf_counter()
        body = await self.call(method, path, expect, **kwargs)
        return (time.perf_counter() - started) * 1000, body

    async def add_batch(self, memories: list[dict[str, Any]]) -> int:
        """Adds memories 1,000 at a time; returns the last log position."""
        position = 0
        for start in range(0, len(memories), 1000):
            body = await self.call("POST", "/v1/memories/batch", 201, json={"memories": memories[start : start + 1000]})
            position = max(position, body["position"])
        return position

    async def wait_for(self, position: int, give_up_after: float = 1800) -> float:
        """Waits until the memories read model has applied `position`; returns seconds waited."""
        started = time.perf_counter()
        while True:
            response = await self.client.get("/v1/memories", params={"limit": 1, "min_position": position})
            if response.status_code == 200:
                return time.perf_counter() - started
            if response.status_code != 503 or time.perf_counter() - started > give_up_after:
                raise RuntimeError(f"projection did not reach {position}: {response.text[:200]}")

    async def new_tenant(self, name: str) -> Api:
        """Creates an organization and returns a client with its owner key."""
        body = await self.call("POST", "/v1/organizations", 201, json={"name": name})
        return Api(str(self.client.base_url), body["owner_api_key"])

    async def close(self) -> None:
        await self.client.aclose()


async def concurrently(
    clients: int, total: int, operation: Callable[[int], Awaitable[float]]
) -> tuple[list[float], float]:
    """Runs `total` operations over `clients` concurrent loops; returns latencies (ms) and wall seconds."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def loop() -> None:
        for index in counter:
            latencies.append(await operation(index))

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return latencies, time.perf_counter() - started

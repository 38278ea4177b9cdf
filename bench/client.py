"""A lean async HTTP/1.1 client for the AgentMem API, and latency statistics.

The benchmark runs on the same two cores as the server, so the client must cost little: httpx spent
1.75 ms of CPU per request here, as much as the server. This one keeps connections alive, writes each
request in one piece and reads `Content-Length` bodies, about a tenth of that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
import numpy as np


def stats(samples_ms: Sequence[float]) -> dict[str, float]:
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


class ApiError(RuntimeError):
    """The API answered with an unexpected status."""


class Response:
    """A status, the headers that matter here, and the body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body

    def json(self) -> Any:
        return msgspec.json.decode(self.content) if self.content else None

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


class Api:
    """Calls the API with one key over a pool of keep-alive connections; raises on unexpected statuses."""

    def __init__(self, url: str, key: str, connections: int = 64) -> None:
        self.url = url
        self.key = key
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)
        self._head = f"Host: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n"

    async def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Response:
        body = msgspec.json.encode(json) if json is not None else b""
        target = f"{path}?{urlencode(params)}" if params else path
        head = (
            f"{method} {target} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n"
            + ("Content-Type: application/json\r\n" if json is not None else "")
            + "\r\n"
        )
        async with self._slots:
            payload = head.encode() + body
            while self._idle:  # a kept-alive connection the server closed meanwhile: nothing was read, try another
                reader, writer = self._idle.pop()
                try:
                    writer.write(payload)
                    response = await self._read(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    writer.close()
                    continue
                self._idle.append((reader, writer))
                return response
            reader, writer = await asyncio.open_connection(self._host, self._port)
            try:
                writer.write(payload)
                response = await self._read(reader)
            except BaseException:
                writer.close()
                raise
            self._idle.append((reader, writer))
        return response

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Response:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        return Response(status, headers, await reader.readexactly(length) if length else b"")

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if response.status_code != expect:
            raise ApiError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

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
            response = await self.request("GET", "/v1/memories", params={"limit": 1, "min_position": position})
            if response.status_code == 200:
                return time.perf_counter() - started
            if response.status_code != 503 or time.perf_counter() - started > give_up_after:
                raise ApiError(f"projection did not reach {position}: {response.text[:200]}")

    async def new_tenant(self, name: str) -> Api:
        """Creates an organization and returns a client with its owner key."""
        body = await self.call("POST", "/v1/organizations", 201, json={"name": name})
        return Api(self.url, body["owner_api_key"])

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


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

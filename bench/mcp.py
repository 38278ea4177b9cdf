"""`python -m agentmem.bench.mcp`: MCP tool-call latency (streamable HTTP and the stdio relay) beside the same
operation over REST with the Python client, on a fresh local server (or --url with an owner key)."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from agentmem_client import AsyncAgentMem
from mcp import Client, StdioServerParameters

from agentmem.bench.server import LocalServer
from agentmem.mcp_server.stdio import connected

CALLS = 200


async def timed(calls: int, call: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    """p50 / p95 / p99 milliseconds of `calls` sequential calls (after 10 unmeasured warm-up calls)."""
    for i in range(10):
        await call(i)
    times = []
    for i in range(calls):
        started = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(times, n=100)
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2)}


async def measure_mcp(client: Client, user: str, calls: int) -> dict[str, dict[str, float]]:
    async def add(i: int) -> None:
        await client.call_tool("add_memory", {"text": f"mcp note {i} about tea", "user_id": user})

    async def search(_: int) -> None:
        await client.call_tool("search_memories", {"query": "tea", "user_id": user, "mode": "text"})

    async def hybrid(_: int) -> None:
        await client.call_tool("search_memories", {"query": "what about tea?", "user_id": user})

    return {
        "add": await timed(calls, add),
        "search_text": await timed(calls, search),
        "search_hybrid": await timed(calls, hybrid),
    }


async def measure_rest(url: str, api_key: str, user: str, calls: int) -> dict[str, dict[str, float]]:
    async with AsyncAgentMem(url, api_key) as am:

        async def add(i: int) -> None:
            await am.memories.add(f"rest note {i} about tea", user_id=user)

        async def search(_: int) -> None:
            await am.memories.search("tea", user_id=user, mode="text")

        async def hybrid(_: int) -> None:
            await am.memories.search("what about tea?", user_id=user)

        return {
            "add": await timed(calls, add),
            "search_text": await timed(calls, search),
            "search_hybrid": await timed(calls, hybrid),
        }


async def measure(url: str, api_key: str, calls: int) -> dict[str, Any]:
    results: dict[str, Any] = {"rest_client": await measure_rest(url, api_key, f"rest-{uuid.uuid4().hex[:6]}", calls)}
    async with connected(url, api_key) as client:
        results["mcp_http"] = await measure_mcp(client, f"mcp-{uuid.uuid4().hex[:6]}", calls)
    env = {**os.environ, "AGENTMEM_URL": url, "AGENTMEM_API_KEY": api_key, "AGENTMEM_LOG_LEVEL": "warning"}
    stdio = StdioServerParameters(command=sys.executable, args=["-m", "agentmem.cli", "mcp"], env=env)
    async with Client(stdio) as client:
        results["mcp_stdio"] = await measure_mcp(client, f"stdio-{uuid.uuid4().hex[:6]}", calls)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a running server (else one is started on embedded defaults)")
    parser.add_argument("--api-key", help="an owner key for --url")
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args()
    server = None
    if args.url is None:
        server = LocalServer(Path(tempfile.mkdtemp(prefix="agentmem-bench-mcp-")))
        server.start()
        args.url, args.api_key = server.url, server.api_key
    try:
        for transport, operations in asyncio.run(measure(args.url, args.api_key, args.calls)).items():
            for operation, cut in operations.items():
                cuts = "  ".join(f"{name} {value:7.2f}" for name, value in cut.items())
                print(f"{transport:12} {operation:14} {cuts} ms")
    finally:
        if server is not None:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

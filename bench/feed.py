"""The event feed's numbers: read throughput of GET /v1/events, and write-to-delivery latency of the SSE stream
(LISTEN/NOTIFY) against a client polling the feed. Run: `python -m agentmem.bench.feed [--events N]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from agentmem.bench.client import Api, stats
from agentmem.bench.server import LocalServer
from agentmem.bench.synthetic import memory_texts

POLL_INTERVAL = 0.25
PAUSE = 0.3


async def fill(owner: Api, other: Api, events: int) -> int:
    """`events` memories in the measured organization, as many in another one, interleaved; waits for projections."""
    texts = memory_texts(events, seed=7)
    position = 0
    for start in range(0, events, 500):
        chunk = [{"text": t, "user_id": "feed"} for t in texts[start : start + 500]]
        position = max(await owner.add_batch(chunk), await other.add_batch(chunk))
    await owner.wait_for(position)
    return position


async def read_throughput(owner: Api, limit: int) -> dict[str, Any]:
    """Pages through the whole feed of the organization from position 0."""
    started, after, count, pages = time.perf_counter(), 0, 0, 0
    while True:
        page = await owner.call("GET", "/v1/events", params={"after": after, "limit": limit})
        count, pages, after = count + len(page["items"]), pages + 1, page["next_after"]
        if not page["has_more"]:
            break
    seconds = time.perf_counter() - started
    return {
        "limit": limit,
        "events": count,
        "events_per_s": round(count / seconds),
        "page_ms": stats([seconds * 1000 / pages])["p50"],
    }


class Arrivals:
    """When each log position was seen by a follower; a writer awaits its own position."""

    def __init__(self) -> None:
        self.times: dict[int, float] = {}
        self.changed = asyncio.Event()

    def seen(self, position: int) -> None:
        self.times[position] = time.perf_counter()
        self.changed.set()

    async def at(self, position: int) -> float:
        while position not in self.times:
            self.changed.clear()
            await self.changed.wait()
        return self.times[position]


async def head(owner: Api) -> int:
    marker = await owner.call("POST", "/v1/memories", 201, json={"text": "a marker to start after"})
    return int(marker["position"])


async def timed_writes(owner: Api, arrivals: Arrivals, writes: int, pause: float) -> dict[str, Any]:
    """Single writes, each after a random pause of up to `pause` seconds (0: back to back), timed to arrival."""
    after_answer, after_start = [], []
    for n in range(writes):
        await asyncio.sleep(random.uniform(0, pause))
        started = time.perf_counter()
        body = await owner.call("POST", "/v1/memories", 201, json={"text": f"live note {n}"})
        answered = time.perf_counter()
        arrived = await arrivals.at(body["position"])
        after_answer.append((arrived - answered) * 1000)
        after_start.append((arrived - started) * 1000)
    return {"writes": writes, "after_write_answer_ms": stats(after_answer), "after_write_start_ms": stats(after_start)}


async def sse_latency(url: str, owner: Api, writes: int) -> dict[str, Any]:
    """Writes one memory at a time and times its arrival on an open stream: spread out, then back to back (where
    a caught-up stream's reads are coalesced, MIN_READ_GAP in application/events.py)."""
    arrivals, ready, after = Arrivals(), asyncio.Event(), await head(owner)

    async def listen() -> None:
        headers = {"Authorization": f"Bearer {owner.key}"}
        async with (
            httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client,
            client.stream("GET", "/v1/events/stream", params={"after": after, "types": "Memory"}) as stream,
        ):
            ready.set()
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    arrivals.seen(int(line[4:]))

    task = asyncio.create_task(listen())
    await ready.wait()
    result = {
        "spread": await timed_writes(owner, arrivals, writes, PAUSE),
        "back_to_back": await timed_writes(owner, arrivals, writes, 0),
    }
    task.cancel()
    return result


async def poll_latency(owner: Api, writes: int) -> dict[str, Any]:
    """The same, for a client polling GET /v1/events every POLL_INTERVAL seconds."""
    arrivals, stop, after = Arrivals(), asyncio.Event(), await head(owner)

    async def poll() -> None:
        position = after
        while not stop.is_set():
            found = await owner.call("GET", "/v1/events", params={"after": position, "types": "Memory"})
            for event in found["items"]:
                arrivals.seen(event["position"])
            position = found["next_after"]
            await asyncio.sleep(POLL_INTERVAL)

    task = asyncio.create_task(poll())
    result = await timed_writes(owner, arrivals, writes, PAUSE)
    stop.set()
    await task
    return {"interval_s": POLL_INTERVAL, **result}


async def run(url: str, key: str, events: int, writes: int) -> dict[str, Any]:
    admin = Api(url, key)
    suffix = str(int(time.time()))
    owner = await admin.new_tenant(f"feed-{suffix}")
    other = await admin.new_tenant(f"feed-other-{suffix}")
    await fill(owner, other, events)
    result = {
        "events_in_organization": events,
        "events_in_other_organization": events,
        "read": [await read_throughput(owner, limit) for limit in (100, 1000)],
        "sse": await sse_latency(url, owner, writes),
        "poll": await poll_latency(owner, writes),
    }
    for api in (admin, owner, other):
        await api.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="memories written to the measured organization")
    parser.add_argument("--writes", type=int, default=100, help="single writes timed for the latencies")
    parser.add_argument("--url", help="a running server instead of a fresh one")
    parser.add_argument("--api-key", help="a superadmin key for --url")
    args = parser.parse_args()
    if args.url:
        result = asyncio.run(run(args.url, args.api_key, args.events, args.writes))
    else:
        with tempfile.TemporaryDirectory(prefix="agentmem-feed-bench-") as work:
            server = LocalServer(Path(work) / "data")
            server.start()
            try:
                result = asyncio.run(run(server.url, server.api_key, args.events, args.writes))
            finally:
                server.stop()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

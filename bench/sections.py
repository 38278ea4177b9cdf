"""The measured sections: write, projection, search, reads, locomo, tools, footprint (peers live in peers.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from agentmem.bench.client import Api, concurrently, stats
from agentmem.bench.locomo import Conversation, Scores
from agentmem.bench.synthetic import memory_texts, queries

MODES = ("hybrid", "vector", "text")


@dataclass(frozen=True)
class Sizes:
    """How much work each section does (quick for smoke runs, full for the README numbers)."""

    singles: int
    batches: int
    projection_batch: int
    steady_seconds: float
    steady_rates: tuple[float, ...]
    search_sizes: tuple[int, ...]
    other_tenants: int
    other_tenant_rows: int
    search_queries: int
    read_samples: int
    locomo_conversations: int | None
    tool_runs: int
    extraction_conversations: int


QUICK = Sizes(300, 10, 1000, 8, (200,), (2000,), 20, 50, 40, 100, 2, 10, 20)
FULL = Sizes(2000, 40, 5000, 30, (200, 100), (10_000, 100_000), 20, 1000, 200, 300, None, 50, 100)
TRIVIAL_TOOLS = {
    "python": "def main():\n    return 1\n",
    "bash": "echo 1",
    "javascript": "export function main() { return 1; }",
}
CONCURRENT_RUNS = 10


async def write_section(api: Api, sizes: Sizes) -> dict[str, Any]:
    """Single and batch adds through the HTTP API with 1, 4 and 16 concurrent clients."""
    result: dict[str, Any] = {"single": {}, "batch": {}, "batch_size": 100}
    texts = memory_texts(sizes.singles * 3 + sizes.batches * 300, seed=2)
    cursor = iter(texts)
    for clients in (1, 4, 16):

        async def single(_: int) -> float:
            latency, _body = await api.timed(
                "POST", "/v1/memories", 201, json={"text": next(cursor), "user_id": "writer"}
            )
            return latency

        latencies, wall = await concurrently(clients, sizes.singles, single)
        result["single"][str(clients)] = {
            "events_per_s": round(sizes.singles / wall, 1),
            "latency_ms": stats(latencies),
        }

        async def batch(_: int) -> float:
            items = [{"text": next(cursor), "user_id": "writer"} for _ in range(100)]
            latency, _body = await api.timed("POST", "/v1/memories/batch", 201, json={"memories": items})
            return latency

        latencies, wall = await concurrently(clients, max(sizes.batches // 3, 4), batch)
        count = len(latencies) * 100
        result["batch"][str(clients)] = {"events_per_s": round(count / wall, 1), "latency_ms": stats(latencies)}
    return result


async def projection_section(api: Api, sizes: Sizes) -> dict[str, Any]:
    """Projection throughput with the default embedder, and write-to-searchable lag under steady loads."""
    await api.wait_for(await api.add_batch([{"text": "warm up"}]))
    texts = memory_texts(sizes.projection_batch, seed=3)
    started = time.perf_counter()
    position = await api.add_batch([{"text": t, "user_id": "projection"} for t in texts])
    await api.wait_for(position)
    result: dict[str, Any] = {
        "throughput_events_per_s": round(sizes.projection_batch / (time.perf_counter() - started), 1),
        "events": sizes.projection_batch,
        "lag_method": "one read with min_position = the newest acknowledged position at a time; each write is "
        "visible when the first such read covering its position returns",
    }
    for number, rate in enumerate(sizes.steady_rates):
        lag = await steady_lag(api, rate, sizes.steady_seconds, seed=4 + number)
        if number == 0:
            result.update(lag)  # the headline figure: lag_ms at the first rate
        result[f"lag_at_{int(rate)}_per_s"] = lag
    return result


async def steady_lag(api: Api, rate: float, seconds: float, seed: int) -> dict[str, Any]:
    """Single adds at a fixed rate; how long each takes from acknowledgement to being readable."""
    acks: list[tuple[int, float]] = []
    visible: list[tuple[int, float]] = []  # (position reached, when a read with that min_position returned)
    count = int(seconds * rate)
    steady = memory_texts(count, seed=seed, offset=10_000_000 * seed)
    writing = True

    async def write(text: str) -> None:
        body = await api.call("POST", "/v1/memories", 201, json={"text": text, "user_id": "steady"})
        acks.append((body["position"], time.perf_counter()))

    async def watch() -> None:
        """One read-your-writes read at a time, for the newest acknowledged position."""
        while writing or (acks and (not visible or visible[-1][0] < max(p for p, _ in acks))):
            if not acks:
                await asyncio.sleep(0.001)
                continue
            target = max(p for p, _ in acks)
            response = await api.request("GET", "/v1/memories", params={"limit": 1, "min_position": target})
            if response.status_code == 200:
                visible.append((target, time.perf_counter()))

    watcher = asyncio.create_task(watch())
    tasks = []
    begin = time.perf_counter()
    for index, text in enumerate(steady):
        delay = begin + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write(text)))
    issued = time.perf_counter() - begin
    await asyncio.gather(*tasks)
    writing = False
    await watcher
    lags = [(next(t for p, t in visible if p >= position) - acked) * 1000 for position, acked in acks]
    return {"lag_ms": stats(lags), "steady_write_rate": round(len(tasks) / issued, 1), "lag_timeouts": 0}


async def _fill(api: Api, total: int, already: int, users: int, seed: int) -> int:
    texts = memory_texts(total - already, seed=seed, offset=already)
    memories = [
        {"text": t, "user_id": f"user-{(already + i) % users}", "metadata": {"topic": f"t{(already + i) % 10}"}}
        for i, t in enumerate(texts)
    ]
    return await api.add_batch(memories) if memories else 0


async def search_section(admin: Api, sizes: Sizes) -> dict[str, Any]:
    """Search latency per mode at each size in one tenant, with other tenants holding data too."""
    others = [await admin.new_tenant(f"bench-other-{i}") for i in range(sizes.other_tenants)]
    position = 0
    for number, tenant in enumerate(others):
        position = max(position, await _fill(tenant, sizes.other_tenant_rows, 0, 5, seed=100 + number))
    big = await admin.new_tenant("bench-search")
    result: dict[str, Any] = {"other_tenants": len(others), "other_tenant_rows": sizes.other_tenant_rows}
    loaded = 0
    for size in sizes.search_sizes:
        started = time.perf_counter()
        position = max(position, await _fill(big, size, loaded, 20, seed=6))
        loaded = size
        await big.wait_for(position)
        at_size: dict[str, Any] = {"load_seconds": round(time.perf_counter() - started, 1)}
        for variant_number, variant in enumerate(("", "_user", "_user_metadata")):
            for mode_number, mode in enumerate(MODES):
                # fresh questions for every run: a repeated query would hit the query-vector cache
                questions = queries(sizes.search_queries, seed=size + 10 * variant_number + mode_number)
                total, embedding, database, shortfalls = [], [], [], 0
                for index, question in enumerate(questions):
                    body: dict[str, Any] = {"query": question, "mode": mode, "limit": 10}
                    if variant:
                        body["user_id"] = f"user-{index % 20}"
                    if variant == "_user_metadata":
                        body["filters"] = {"topic": f"t{index % 10}"}
                    latency, answer = await big.timed("POST", "/v1/memories/search", json=body)
                    total.append(latency)
                    embedding.append(answer["embedding_ms"])
                    database.append(answer["search_ms"])
                    shortfalls += mode != "text" and len(answer["results"]) < 10
                at_size[f"{mode}{variant}"] = {
                    "total_ms": stats(total),
                    "embedding_ms": stats(embedding),
                    "search_ms": stats(database),
                    "short_results": shortfalls,
                }
        result[str(size)] = at_size
    for tenant in [*others, big]:
        await tenant.close()
    return result


async def reads_section(api: Api, sizes: Sizes) -> dict[str, Any]:
    """Reads of one memory with 100 versions: by id, at a version, at an instant, and its history."""
    created = await api.call("POST", "/v1/memories", 201, json={"text": "version 1", "user_id": "reads"})
    url = f"/v1/memories/{created['id']}"
    middle = ""
    for version in range(2, 101):
        await api.call("PATCH", url, json={"text": f"version {version}"})
        if version == 50:
            middle = datetime.now(UTC).isoformat()
    result: dict[str, Any] = {"versions": 100}
    for name, path, params in (
        ("get", url, {}),
        ("version", url, {"version": 50}),
        ("as_of", url, {"as_of": middle}),
        ("history", f"{url}/history", {}),
    ):
        latencies = [(await api.timed("GET", path, params=params))[0] for _ in range(sizes.read_samples)]
        result[name] = stats(latencies)
    return result


async def locomo_section(admin: Api, conversations: list[Conversation]) -> dict[str, Any]:
    """The LoCoMo protocol through the public API: one user per conversation, each mode's recall and hit@k."""
    api = await admin.new_tenant("bench-locomo")
    position = 0
    for conversation in conversations:
        position = max(
            position,
            await api.add_batch(
                [
                    {
                        "text": t.text,
                        "user_id": conversation.sample_id,
                        "run_id": f"{conversation.sample_id}-s{t.session}",
                        "memory_type": "episodic",
                        "metadata": {"dia_id": t.dia_id, "session": t.session, "date": t.date},
                    }
                    for t in conversation.turns
                ]
            ),
        )
    await api.wait_for(position)
    result: dict[str, Any] = {
        "conversations": len(conversations),
        "questions": sum(len(c.questions) for c in conversations),
    }
    for mode in MODES:
        scores = Scores()
        for conversation in conversations:
            for question in conversation.questions:
                answer = await api.call(
                    "POST",
                    "/v1/memories/search",
                    json={"query": question.text, "mode": mode, "limit": 50, "user_id": conversation.sample_id},
                )
                scores.add(question, [hit["metadata"]["dia_id"] for hit in answer["results"]])
        result[mode] = scores.result()
    await api.close()
    return result


async def tools_section(admin: Api, sizes: Sizes) -> dict[str, Any]:
    """Run overhead of a trivial tool per language through HTTP (one at a time), and 10 Python runs at once."""
    api = await admin.new_tenant(f"bench-tools-{int(time.time())}")
    result: dict[str, Any] = {"runs": sizes.tool_runs}
    python_url = ""
    for language, source in TRIVIAL_TOOLS.items():
        tool = await api.call("POST", "/v1/tools", 201, json={"name": f"trivial_{language}", "language": language,
                                                              "source": source})  # fmt: skip
        url = f"/v1/tools/{tool['id']}/run"
        python_url = python_url or url
        await api.call("POST", url, json={"args": {}})  # warm: the first run also creates the sandbox's namespace
        latencies, inside = [], []
        for _ in range(sizes.tool_runs):
            latency, run = await api.timed("POST", url, json={"args": {}})
            assert run["status"] == "ok", run
            latencies.append(latency)
            inside.append(run["duration_ms"])
        result[language] = {"latency_ms": stats(latencies), "sandbox_ms": stats(inside)}

    async def one(_: int) -> float:
        latency, run = await api.timed("POST", python_url, json={"args": {}})
        assert run["status"] == "ok", run
        return latency

    latencies, wall = await concurrently(CONCURRENT_RUNS, CONCURRENT_RUNS, one)
    result["concurrent"] = {"runs": CONCURRENT_RUNS, "wall_ms": round(wall * 1000, 1), "latency_ms": stats(latencies)}
    await api.close()
    return result


def footprint_section(database_url: str, processes: dict[str, float]) -> dict[str, Any]:
    """Peak RSS of the API and worker, and on-disk bytes per stored memory (event store + read models)."""
    with psycopg.connect(database_url) as conn:

        def scalar(query: str, *params: object) -> Any:
            row = conn.execute(query, params).fetchone()
            assert row is not None
            return row[0]

        table = scalar("SELECT active_table FROM read_models WHERE name = 'memories'")
        memories = scalar(f"SELECT count(*) FROM {table}")  # our own table name
        events = scalar("SELECT pg_total_relation_size('agentmem_events')")
        read_model = scalar(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " WHERE c.relkind = 'r' AND c.relname LIKE %s",
            f"{table}%",
        )
        cache = scalar("SELECT pg_total_relation_size('embedding_cache')")
    per = max(memories, 1)
    return {
        "peak_rss_mib": processes,
        "memories": memories,
        "bytes_per_memory": {
            "event_store": round(events / per),
            "read_model": round(read_model / per),
            "embedding_cache": round(cache / per),
            "total": round((events + read_model + cache) / per),
        },
    }

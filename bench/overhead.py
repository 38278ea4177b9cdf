"""What metrics and tracing cost: add and search latency with telemetry off, metrics, metrics + traces (all, 10%).

`python -m agentmem.bench.overhead [--rounds 7]` starts the four servers side by side (traces go to a local OTLP
sink that answers 200 at once) and runs rounds that visit them in turn, each round in another order, waiting for
every projection to catch up between visits, so a noisy neighbour on a shared machine slows all four alike. It
prints, per server, the median over rounds of each round's p50 and p95 (milliseconds) and of the API process's CPU
time per request (milliseconds; less sensitive to a busy machine than latency).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

from agentmem.bench.client import Api, stats
from agentmem.bench.server import LocalServer, free_port
from agentmem.bench.synthetic import memory_texts, queries

ADDS = 150
SEARCHES = 100
LOADED = 2000


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that reads each export and answers 200 (an empty ExportTraceServiceResponse)."""

    exports = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).exports += 1
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


def cpu_ms(process: psutil.Process) -> float:
    times = process.cpu_times()
    return (times.user + times.system) * 1000


async def round_trip(api: Api, seed: int, process: psutil.Process) -> dict[str, list[float]]:
    """ADDS single adds one after another, then (once projected) SEARCHES hybrid searches with fresh queries;
    latencies, and the API process's CPU time per request (less sensitive to a busy machine than latency)."""
    adds, position = [], 0
    started = cpu_ms(process)
    for text in memory_texts(ADDS, seed=seed, offset=LOADED):
        latency, body = await api.timed("POST", "/v1/memories", 201, json={"text": text, "user_id": "u1"})
        adds.append(latency)
        position = body["position"]
    add_cpu = (cpu_ms(process) - started) / ADDS
    await api.wait_for(position)
    searches = []
    started = cpu_ms(process)
    for question in queries(SEARCHES, seed=seed):
        latency, _ = await api.timed("POST", "/v1/memories/search", json={"query": question, "mode": "hybrid"})
        searches.append(latency)
    search_cpu = (cpu_ms(process) - started) / SEARCHES
    return {"add": adds, "search": searches, "add_cpu": [add_cpu], "search_cpu": [search_cpu]}


async def measure(servers: dict[str, LocalServer], rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    apis = {name: Api(server.url, server.api_key) for name, server in servers.items()}
    processes = {name: server.processes()["api"] for name, server in servers.items()}
    for name, api in apis.items():  # the same data in each, and every model loaded
        await api.wait_for(await api.add_batch([{"text": t, "user_id": "u1"} for t in memory_texts(LOADED, seed=1)]))
        await round_trip(api, 0, processes[name])
    per_round: dict[str, dict[str, list[dict[str, float]]]] = {n: {} for n in servers}
    names = list(servers)
    for number in range(rounds):
        order = names[number % len(names) :] + names[: number % len(names)]
        for name in order:
            measured = await round_trip(apis[name], 1000 + number, processes[name])
            for kind, latencies in measured.items():
                per_round[name].setdefault(kind, []).append(stats(latencies))
    for api in apis.values():
        await api.close()
    return {
        name: {
            kind: {q: round(statistics.median(r[q] for r in results), 2) for q in ("p50", "p95", "mean")}
            for kind, results in kinds.items()
        }
        for name, kinds in per_round.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sink = ThreadingHTTPServer(("127.0.0.1", free_port()), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    configurations = {
        "off": {"AGENTMEM_METRICS": "false"},
        "metrics": {},
        "metrics+traces": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
        "traces 10%": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "AGENTMEM_TRACE_SAMPLE_RATIO": "0.1"},
    }
    with tempfile.TemporaryDirectory(prefix="agentmem-overhead-") as folder:
        servers = {  # plain folder names: the embedded PostgreSQL's socket path must not hold a space
            name: LocalServer(Path(folder) / f"server{number}", env=env)
            for number, (name, env) in enumerate(configurations.items())
        }
        try:
            for server in servers.values():
                server.start()
            results = asyncio.run(measure(servers, args.rounds))
        finally:
            for server in servers.values():
                server.stop()
            sink.shutdown()
    print(f"{args.rounds} rounds of {ADDS} adds and {SEARCHES} hybrid searches ({LOADED} memories loaded);")
    print(f"medians over rounds, ms; {_Sink.exports} trace exports received")
    columns = ("add p50", "add p95", "add CPU", "search p50", "search p95", "search CPU")
    print(f"{'server':<16}" + "".join(f"{c:>12}" for c in columns))
    for name, kinds in results.items():
        add, search = kinds["add"], kinds["search"]
        row = (
            add["p50"],
            add["p95"],
            kinds["add_cpu"]["mean"],
            search["p50"],
            search["p95"],
            kinds["search_cpu"]["mean"],
        )
        print(f"{name:<16}" + "".join(f"{v:>12}" for v in row))


if __name__ == "__main__":
    main()

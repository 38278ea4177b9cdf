"""`agentmem serve` with two API processes: every process's counts in one scrape, whichever process answers it."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from pathlib import Path

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from agentmem.bench.server import LocalServer, free_port

REQUESTS = 40


def health_requests(families: Iterable[Metric]) -> float:
    """GET /health requests counted, over every status and method."""
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "agentmem_http_requests_total" and sample.labels.get("route") == "/health"
    )


def health_count(text: str) -> float:
    return health_requests(text_string_to_metric_families(text))


def health_count_by_process(folder: Path) -> dict[str, float]:
    """The /health requests each process counted in its own file."""
    counts = {}
    for file in folder.glob("counter_*.db"):
        counted = health_requests(MultiProcessCollector.merge([str(file)], accumulate=True))
        if counted:
            counts[file.stem.removeprefix("counter_")] = counted
    return counts


def test_two_api_processes_and_the_worker_report_through_one_scrape_on_either_port(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stale = data_dir / "metrics" / "counter_999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"a previous run's counts")
    loopback = free_port()
    server = LocalServer(data_dir, api_workers=2, env={"AGENTMEM_METRICS_PORT": str(loopback)})
    server.start()
    try:
        assert not stale.exists()  # emptied at start
        with concurrent.futures.ThreadPoolExecutor(8) as pool:  # a new connection each: both processes answer
            statuses = list(pool.map(lambda _: httpx.get(f"{server.url}/health").status_code, range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        by_process = health_count_by_process(data_dir / "metrics")
        assert len(by_process) == 2 and sum(by_process.values()) == REQUESTS, by_process

        headers = {"Authorization": f"Bearer {server.api_key}"}
        for _ in range(4):
            scraped = httpx.get(f"{server.url}/metrics", headers=headers)
            assert scraped.status_code == 200 and health_count(scraped.text) == REQUESTS
            unauthenticated = httpx.get(f"http://127.0.0.1:{loopback}/metrics")
            assert unauthenticated.status_code == 200 and health_count(unauthenticated.text) == REQUESTS
        assert httpx.get(f"{server.url}/metrics").status_code == 401

        created = httpx.post(f"{server.url}/v1/memories", json={"text": "the bell rings twice"}, headers=headers)
        body = {"query": "bell", "min_position": created.json()["position"]}
        assert httpx.post(f"{server.url}/v1/memories/search", json=body, headers=headers, timeout=30).status_code == 200
        text = httpx.get(f"http://127.0.0.1:{loopback}/metrics").text
        samples = {
            (s.name, s.labels.get("projection")): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }
        assert samples[("agentmem_projection_batch_events_count", "memories_g1")] >= 1  # counted by the worker process
        assert samples[("agentmem_projection_position", "memories_g1")] >= created.json()["position"]
        assert ("agentmem_projection_lag_seconds", "memories_g1") in samples
    finally:
        server.stop()

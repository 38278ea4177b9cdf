"""Prometheus series for the declared metrics, in one process or several sharing a multiprocess directory.

`agentmem serve` runs its API processes and its projection worker with PROMETHEUS_MULTIPROC_DIR set to a folder of
the data directory (emptied at each start): every process writes its counts to memory-mapped files there, and a
scrape of any API process adds up all of them. Values that live elsewhere (projection positions and lag, read from
the database) are read at scrape time by probes, so they are right however many processes or machines run workers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import ThreadingHTTPServer
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    MetricsHandler,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from agentmem.application import telemetry

log = logging.getLogger("agentmem.metrics")
Probe = Callable[[], Awaitable[Sequence[telemetry.Reading]]]
PROBE_TIMEOUT = 5.0
CONTENT_TYPE = CONTENT_TYPE_LATEST

_LOCAL = CollectorRegistry()
"""This process's series, when it is the only one (no multiprocess directory)."""
ProcessCollector(registry=_LOCAL)
PlatformCollector(registry=_LOCAL)
_bound = False
_bind_lock = threading.Lock()


def bind_metrics(metrics: Iterable[telemetry.Metric], multiprocess_dir: Path | None) -> None:
    """Gives each declared metric its Prometheus series, once per process."""
    global _bound  # noqa: PLW0603 - Prometheus series are per process by nature
    with _bind_lock:
        if _bound:
            return
        if multiprocess_dir is not None:
            # chosen when prometheus_client is imported; set again in case it was imported before serve set the folder
            values.ValueClass = values.MultiProcessValue()
        for metric in metrics:
            metric.backend = _series(metric)
        _bound = True


def _series(metric: telemetry.Metric) -> telemetry.Backend:
    labels = list(metric.labels)
    if metric.kind == "counter":
        return Counter(metric.name, metric.help, labels, registry=_LOCAL)
    return Histogram(metric.name, metric.help, labels, registry=_LOCAL, buckets=metric.buckets)


def clear_multiprocess_dir(path: Path) -> None:
    """Creates the folder, or empties it of a previous run's files (their processes are gone)."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


class _Readings:
    """Scrape-time readings as Prometheus families."""

    def __init__(self, readings: Callable[[], Sequence[telemetry.Reading]]) -> None:
        self.readings = readings

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        for reading in self.readings():
            family = families.get(reading.name)
            if family is None:
                kind = CounterMetricFamily if reading.kind == "counter" else GaugeMetricFamily
                family = families[reading.name] = kind(reading.name, reading.help, labels=list(reading.labels))
            family.add_metric(list(reading.labels.values()), reading.value)
        yield from families.values()


class MetricsExposition:
    """What a scraper reads: every process's series and the probes' readings, in the Prometheus text format."""

    content_type = CONTENT_TYPE

    def __init__(self, multiprocess_dir: Path | None, probes: Sequence[Probe]) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.probes = probes

    async def read(self) -> list[telemetry.Reading]:
        """Every probe's readings; a probe that fails (the database down) is logged and left out."""
        readings: list[telemetry.Reading] = []
        for probe in self.probes:
            try:
                readings.extend(await asyncio.wait_for(probe(), PROBE_TIMEOUT))
            except Exception:
                log.warning("a metrics probe failed", exc_info=True)
        return readings

    def registry(self, readings: Callable[[], Sequence[telemetry.Reading]]) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        if self.multiprocess_dir is not None:
            multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))
        else:
            registry.register(_LOCAL)  # a registry collects like a collector
        registry.register(_Readings(readings))
        return registry

    async def render(self) -> bytes:
        """The text for one scrape (the files of a multiprocess directory are read off the event loop)."""
        readings = await self.read()
        return await asyncio.to_thread(generate_latest, self.registry(lambda: readings))

    def serve_loopback(self, port: int, loop: asyncio.AbstractEventLoop | None) -> ThreadingHTTPServer:
        """Serves the same text without credentials on 127.0.0.1:`port`; every API process binds it (SO_REUSEPORT)
        and any of them answers for all. Probes run on `loop` (the API's); without one, none are read."""

        def readings() -> Sequence[telemetry.Reading]:
            if loop is None or not self.probes:
                return []
            try:
                return asyncio.run_coroutine_threadsafe(self.read(), loop).result(PROBE_TIMEOUT * 2)
            except FutureTimeout:
                log.warning("metrics probes timed out")
                return []

        server = _LoopbackServer(("127.0.0.1", port), MetricsHandler.factory(self.registry(readings)))
        threading.Thread(target=server.serve_forever, name="metrics-loopback", daemon=True).start()
        return server


class _LoopbackServer(ThreadingHTTPServer):
    allow_reuse_port = True
    daemon_threads = True


def stop_loopback(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()

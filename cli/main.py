"""The `agentmem` command: serve (everything on embedded defaults), worker, and admin commands."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from agentmem.runtime import processes
from agentmem.runtime.settings import Settings, SettingsError

log = logging.getLogger("agentmem")


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def serve(settings: Settings, with_worker: bool = True, with_jobs: bool = True) -> int:
    """Runs the API, one projection worker and, when a language model is configured, one job worker, until SIGINT
    or SIGTERM."""
    import uvicorn

    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    children: list[subprocess.Popen[bytes]] = []
    try:
        with processes.embedded_stack(settings) as running:
            os.environ.update(running.as_env())
            processes.prepare(running)
            if with_worker:
                children.append(
                    subprocess.Popen([sys.executable, "-m", "agentmem.cli", "worker"], env=os.environ.copy())
                )
            if with_jobs and running.llm.spec:  # without a model no job can be queued (503)
                children.append(subprocess.Popen([sys.executable, "-m", "agentmem.cli", "jobs"], env=os.environ.copy()))
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
    except (processes.DataDirInUseError, processes.PortInUseError) as error:
        print(f"agentmem: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        signal.signal(signal.SIGTERM, previous)
    return 0


def rebuild(settings: Settings, read_model: str, embedder: str | None) -> int:
    """Rebuilds a read model beside the serving one, then switches over."""
    if read_model not in processes.SEARCHABLE:
        known = ", ".join(processes.SEARCHABLE)
        print(f"agentmem: unknown read model {read_model!r}; known: {known}", file=sys.stderr)
        return 2
    print("\n" + processes.rebuild(settings, read_model, embedder))
    return 0


def create_key(settings: Settings, organization: str, role: str, name: str) -> int:
    """Issues an API key for an organization (by name or id) and prints it once."""
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
    commands.add_parser("worker", help="run the projections (needs DATABASE_URL)")
    commands.add_parser("jobs", help="run queued jobs: extraction, consolidation (needs DATABASE_URL, REDIS_URL)")
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
    llm = commands.add_parser("llm", help="the language model").add_subparsers(dest="action", required=True)
    llm.add_parser("check", help="send a tiny request, a stream and a tool call to AGENTMEM_LLM; print what works")
    bench = commands.add_parser("bench", help="run the benchmark suite (starts its own server unless --url)")
    bench.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (under 3 minutes)")
    bench.add_argument(
        "--only", help="comma-separated sections: write,projection,search,reads,locomo,extraction,footprint,peers"
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
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        settings = settings.with_overrides(
            host=args.host, port=args.port, data_dir=args.data_dir, api_workers=args.api_workers
        )
        return serve(settings, with_worker=not args.no_worker, with_jobs=not args.no_jobs)
    if args.command == "bench":
        from agentmem.bench.runner import main as bench_main

        return bench_main(args.only, args.quick, args.locomo, args.out, args.url, args.api_key)
    if args.command == "worker":
        processes.run_projection_worker(settings)
        return 0
    if args.command == "jobs":
        processes.run_job_worker(settings)
        return 0
    if args.command == "keys":
        return create_key(settings.with_overrides(data_dir=args.data_dir), args.org, args.role, args.name)
    if args.command == "llm":
        return llm_check(settings)
    if args.command == "projections":
        return rebuild(settings.with_overrides(data_dir=args.data_dir), args.read_model, args.embedder)
    return 2  # pragma: no cover - argparse rejects unknown commands

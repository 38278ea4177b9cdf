"""`agentmem serve` on embedded defaults: starts everything, survives a restart, refuses a second copy."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from agentmem.bench.server import LocalServer, free_port


def postgres_running(data_dir: Path) -> bool:
    return any(
        str(data_dir / "postgres") in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres"
    )


def test_serve_starts_everything_keeps_data_across_restarts_and_refuses_a_second_copy(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = LocalServer(data_dir)
    first.start()
    try:
        headers = {"Authorization": f"Bearer {first.api_key}"}
        created = httpx.post(f"{first.url}/v1/memories", json={"text": "remember the blue door"}, headers=headers)
        assert created.status_code == 201
        found = httpx.post(
            f"{first.url}/v1/memories/search",
            headers=headers,
            timeout=30,
            json={"query": "which door?", "min_position": created.json()["position"]},
        )
        assert found.status_code == 200 and found.json()["results"][0]["id"] == created.json()["id"]  # worker runs
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentmem.cli",
                "serve",
                "--data-dir",
                str(data_dir),
                "--port",
                str(free_port()),
            ],
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
            env=env,
        )
        assert second.returncode == 1 and "another agentmem process" in second.stderr
    finally:
        first.stop()
    assert first.process is not None and first.process.returncode == 0
    assert not postgres_running(data_dir)

    again = LocalServer(data_dir)
    again.start()
    try:
        headers = {"Authorization": f"Bearer {again.api_key}"}
        memory = httpx.get(f"{again.url}/v1/memories/{created.json()['id']}", headers=headers)
        assert memory.status_code == 200 and memory.json()["text"] == "remember the blue door"
    finally:
        again.stop()


def test_serve_on_a_taken_port_fails_fast_before_starting_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        command = [sys.executable, "-m", "agentmem.cli", "serve", "--data-dir", str(data_dir), "--port", str(port)]
        refused = subprocess.run(command, capture_output=True, check=False, text=True, timeout=60, env=env)
    assert refused.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in refused.stderr
    assert "listening" not in refused.stderr and not postgres_running(data_dir)
    assert not (data_dir / "postgres").exists()  # nothing was started, not even initialised


def embedded_processes(data_dir: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL (postmaster and backends) and Valkey (it runs in its directory) of a data directory."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            postgres = str(data_dir / "postgres") in " ".join(process.info["cmdline"] or [])
            valkey = process.info["name"] == "valkey-server" and Path(process.cwd()) == data_dir / "valkey"
            if postgres or valkey:
                found += [process, *process.children(recursive=True)]
    return found


def test_a_killed_serve_leaves_no_process_behind_after_a_restart_and_a_clean_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    killed, restarted = LocalServer(data_dir, api_workers=2), LocalServer(data_dir)
    try:
        killed.start()
        assert killed.process is not None
        children = psutil.Process(killed.process.pid).children(recursive=True)  # Valkey, worker, two API workers
        servers = embedded_processes(data_dir)
        assert {p.name() for p in servers} >= {"postgres", "valkey-server"} and len(children) >= 4
        killed.process.kill()
        killed.process.wait()
        _, alive = psutil.wait_procs([p for p in children if p.name() != "valkey-server"], timeout=30)
        assert not alive, f"outlived their serve: {[' '.join(p.cmdline()) for p in alive]}"

        restarted.start()
        headers = {"Authorization": f"Bearer {restarted.api_key}"}
        assert httpx.get(f"{restarted.url}/v1/me", headers=headers).status_code == 200
        assert not [p for p in servers if p.is_running() and p.name() == "valkey-server"]  # the stale one is stopped
        running = [*restarted.processes().values(), *embedded_processes(data_dir)]
    finally:
        killed.stop()
        restarted.stop()
    assert restarted.process is not None and restarted.process.returncode == 0
    _, alive = psutil.wait_procs(running, timeout=30)
    assert not alive, f"left behind: {[(p.pid, p.name()) for p in alive]}"
    assert not embedded_processes(data_dir)

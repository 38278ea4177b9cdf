"""`agentmem serve` on embedded defaults: starts everything, survives a restart, refuses a second copy."""

from __future__ import annotations

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

"""The AgentMem server a benchmark runs against: started here on embedded defaults, or a given URL."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

NO_LIMIT = str(10**9)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """`agentmem serve` on a fresh data directory, with a bootstrap admin key and no rate limit."""

    def __init__(self, data_dir: Path, api_workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.extra_env = env or {}
        self.port = free_port()
        self.api_key = "am_bench_" + secrets.token_hex(24)
        self.api_workers = api_workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres:@/postgres?host={self.data_dir / 'postgres'}"

    @property
    def pg_socket_dir(self) -> Path:
        return self.data_dir / "postgres"

    def start(self, timeout: float = 120.0) -> None:
        env = {
            **os.environ,
            "AGENTMEM_DATA_DIR": str(self.data_dir),
            "AGENTMEM_PORT": str(self.port),
            "AGENTMEM_API_WORKERS": str(self.api_workers),
            "AGENTMEM_BOOTSTRAP_API_KEY": self.api_key,
            "AGENTMEM_RATE_LIMIT_PER_MINUTE": NO_LIMIT,
            "AGENTMEM_MAX_MEMORIES_PER_ORG": NO_LIMIT,
            "AGENTMEM_LOG_LEVEL": "warning",
            **self.extra_env,
        }
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "bench-server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agentmem.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"agentmem serve exited; see {self.data_dir / 'bench-server.log'}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("agentmem serve did not become ready in time")

    def processes(self) -> dict[str, psutil.Process]:
        """The API process(es), the projection worker and the job worker (when a model is configured)."""
        assert self.process is not None
        serve = psutil.Process(self.process.pid)
        found = {"api": serve}
        for child in serve.children(recursive=True):
            command = child.cmdline()
            if "agentmem.cli" in command:  # `... -m agentmem.cli worker|jobs --parent-pid N`
                kind = command[command.index("agentmem.cli") + 1]
                if kind in ("worker", "jobs"):
                    found[kind] = child
        return found

    @staticmethod
    def peak_rss_mib(process: psutil.Process) -> float:
        """Peak resident memory (VmHWM) in MiB."""
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return round(process.memory_info().rss / 2**20, 1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

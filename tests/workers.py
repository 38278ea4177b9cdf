"""Workers in background threads: projections (read models follow the log) and jobs (arq)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container
from agentmem.runtime.processes import projection_worker, run_jobs


@contextmanager
def running_worker(settings: Settings, wait_seconds: float = 0.2) -> Iterator[Worker]:
    """Runs the worker the CLI runs (built by the composition root) until the block ends."""
    with projection_worker(settings, wait_seconds) as worker:
        thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
        thread.start()
        try:
            yield worker
        finally:
            worker.stop.set()
            thread.join(timeout=10)


@contextmanager
def running_job_worker(settings: Settings, configure: Callable[[Container], None] | None = None) -> Iterator[None]:
    """Runs the job worker `agentmem jobs` runs (arq, its own container and event loop) in a thread."""
    started = threading.Event()
    running: dict[str, Any] = {}

    async def serve() -> None:
        container = Container(settings)
        if configure is not None:
            configure(container)
        await container.start()
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        try:
            await run_jobs(container, handle_signals=False)
        finally:
            await container.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="test-job-worker", daemon=True)
    thread.start()
    assert started.wait(60), "the job worker did not start"
    try:
        yield
    finally:
        running["loop"].call_soon_threadsafe(running["task"].cancel)
        thread.join(timeout=15)

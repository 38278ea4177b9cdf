"""A projection worker in a background thread, for tests that need read models to follow the log."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.processes import projection_worker


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

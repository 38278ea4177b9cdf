"""The real app served by uvicorn on a free port in a background thread, for clients that need a real socket
(the in-memory test client buffers whole responses, so an endless Server-Sent Events stream never returns)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from agentmem.api.app import create_app
from agentmem.bench.server import free_port
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container

STARTUP_SECONDS = 60


@contextmanager
def live_server(settings: Settings, container: Container | None = None) -> Iterator[str]:
    """Serves the app (with its own container, as `agentmem serve` does, unless given one) until the block ends;
    yields its URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, container),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,  # open event streams never end by themselves
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:  # a condition, checked until it holds
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)

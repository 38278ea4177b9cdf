"""When tools cannot run: no sandbox on the machine (503, and /ready says why), every run slot taken (429)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from litestar.testing import TestClient

from agentmem.api.app import create_app
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container
from tests.clients import BOOTSTRAP_KEY, ApiClient


def register(client: ApiClient) -> str:
    body = {"name": f"t_{uuid.uuid4().hex[:10]}", "language": "python", "source": "def main():\n    return 1\n"}
    response = client.post("/v1/tools", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@contextmanager
def server(settings: Settings) -> Iterator[tuple[ApiClient, Container]]:
    container = Container(settings)
    try:
        with TestClient(create_app(settings, container)) as http:
            yield ApiClient(http, BOOTSTRAP_KEY), container
    finally:
        container.sandbox.close()
        container.memories.close()


def test_without_a_sandbox_tools_refuse_to_run_with_503_and_ready_says_why(settings: Settings) -> None:
    with server(settings.with_overrides(sandbox_bwrap="/nonexistent/bwrap")) as (client, _):
        tool_id = register(client)
        refused = client.post(f"/v1/tools/{tool_id}/run", json={"args": {}})
        assert refused.status_code == 503 and "/nonexistent/bwrap" in refused.json()["detail"], refused.text
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text  # everything but tools still works
        assert ready.json()["checks"]["sandbox"].startswith("unavailable: ")


def test_with_every_slot_taken_and_no_queue_a_run_is_429(settings: Settings) -> None:
    with server(settings.with_overrides(tool_concurrency=1, tool_queue=0)) as (client, container):
        tool_id = register(client)
        assert client.post(f"/v1/tools/{tool_id}/run", json={"args": {}}).json()["status"] == "ok"
        with container.sandbox.slots.take():
            busy = client.post(f"/v1/tools/{tool_id}/run", json={"args": {}})
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "1", busy.text
        assert client.post(f"/v1/tools/{tool_id}/run", json={"args": {}}).json()["status"] == "ok"

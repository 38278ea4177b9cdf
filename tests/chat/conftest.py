"""A live server whose language model is a scripted double, and HTTP helpers to make agents and chat with them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import redis

from agentmem.infrastructure.redis_runs import PREFIX
from agentmem.infrastructure.settings import ChatSettings, Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org, create_org
from tests.live import live_server
from tests.stubs.scripted_models import ScriptedModels


@pytest.fixture(scope="module")
def models() -> ScriptedModels:
    return ScriptedModels()


@pytest.fixture(scope="module")
def chat_container(settings: Settings, models: ScriptedModels) -> Iterator[Container]:
    """The container of the live server; a stream's client that leaves is cancelled at once (no grace)."""
    configured = replace(settings, chat=ChatSettings(deadline=60, resume_window=120, detached_grace=0))
    container = Container(configured)
    container.language_models = models  # type: ignore[assignment]
    yield container
    container.memories.close()


@pytest.fixture(scope="module")
def chat_url(settings: Settings, chat_container: Container, worker: Worker) -> Iterator[str]:
    with live_server(chat_container.settings, chat_container) as url:
        yield url


class Api:
    """A real-socket HTTP client presenting one key."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.http, name)

    def agent(self, *blocks: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Creates blocks and an agent holding them; returns the agent with its block ids by label."""
        ids = {}
        for block in blocks:
            created = self.http.post("/v1/blocks", json=block)
            assert created.status_code == 201, created.text
            ids[block["label"]] = created.json()["id"]
        body = {"name": "helper", "system": "You are a helpful agent.", "block_ids": list(ids.values()), **fields}
        agent = self.http.post("/v1/agents", json=body)
        assert agent.status_code == 201, agent.text
        return {**agent.json(), "blocks": ids}

    def chat(self, agent_id: str, text: str, **fields: Any) -> httpx.Response:
        return self.http.post(f"/v1/agents/{agent_id}/chat", json={"messages": [{"content": text}], **fields})

    def messages(self, agent_id: str) -> list[dict[str, Any]]:
        page = self.http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 100})
        assert page.status_code == 200, page.text
        return list(page.json()["items"])


def sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Server-sent events as {"id", "event", "data"} from a response's lines."""
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
            continue
        name, _, value = line.partition(": ")
        event[name] = json.loads(value) if name == "data" else value


def wait_for_signal(container: Container, kind: str, run_id: str, seconds: float = 30) -> None:
    """Waits (bounded) until the server has set a run's `cancel` or `detached` signal in Redis."""
    client = redis.Redis.from_url(container.settings.redis_url or "")
    deadline = time.monotonic() + seconds
    try:
        while not client.exists(f"{PREFIX}{kind}:{run_id}"):
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} got no {kind} signal in {seconds} s")
    finally:
        client.close()


@pytest.fixture(scope="module")
def chat_org(admin: ApiClient) -> Org:
    return create_org(admin)


@pytest.fixture(scope="module")
def api(chat_url: str, chat_org: Org) -> Iterator[Api]:
    client = Api(chat_url, chat_org.owner_key)
    yield client
    client.http.close()

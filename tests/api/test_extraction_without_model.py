"""With no language model configured, what needs one answers 503 naming AGENTMEM_LLM and stores nothing."""

from __future__ import annotations

import asyncio
import uuid

from litestar.testing import TestClient

from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.jobs import said


def test_a_conversation_to_infer_from_is_503_and_nothing_is_stored(
    client: ApiClient, http: TestClient, container: Container
) -> None:
    before = http.blocking_portal.call(asyncio.to_thread, container.positions.head)
    refused = [
        client.post("/v1/memories", json={"messages": said("I live in Oslo"), "user_id": "u"}),
        client.post("/v1/memories", json={"messages": said("I live in Oslo"), "infer": True}),
        client.post("/v1/memories/consolidate", json={"user_id": "u"}),
    ]
    assert [r.status_code for r in refused] == [503, 503, 503]
    assert all("AGENTMEM_LLM" in r.json()["detail"] for r in refused)
    assert http.blocking_portal.call(asyncio.to_thread, container.positions.head) == before


def test_storing_messages_without_inference_needs_no_model(client: ApiClient) -> None:
    stored = client.post("/v1/memories", json={"messages": said("I live in Oslo"), "infer": False})
    assert stored.status_code == 201, stored.text


def test_an_unknown_episode_is_404_before_any_model_is_needed(client: ApiClient) -> None:
    assert client.post(f"/v1/episodes/{uuid.uuid4()}/reextract", json={}).status_code == 404
    assert client.get(f"/v1/jobs/{uuid.uuid4()}").status_code == 404

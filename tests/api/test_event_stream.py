"""/v1/events/stream: Server-Sent Events that follow the log live and resume after a disconnect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agentmem.infrastructure.settings import Settings
from tests.clients import ApiClient, Org, create_org
from tests.live import live_server

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def base_url(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The messages of a Server-Sent Events response as {id, event, data}; comments are skipped."""
    message: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in message:
                yield {**message, "data": json.loads(message["data"])}
            message = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            message[name] = value


def take(events: Iterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [next(events) for _ in range(count)]


def add_memory(org: Org, text: str) -> int:
    response = org.owner.post("/v1/memories", json={"text": text})
    assert response.status_code == 201
    return int(response.json()["position"])


def test_the_stream_replays_then_follows_live_and_resumes_with_last_event_id(base_url: str, admin: ApiClient) -> None:
    org = create_org(admin)
    history = org.owner.get("/v1/events", params={"limit": 1000}).json()["items"]
    headers = {"Authorization": f"Bearer {org.owner_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=20) as client:
        with client.stream("GET", "/v1/events/stream") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
            replayed = take(events, len(history))
            assert [int(e["id"]) for e in replayed] == [e["position"] for e in history]
            live_position = add_memory(org, "written while the stream is open")
            live = next(events)
        assert int(live["id"]) == live_position and live["event"] == "Memory.Created"
        assert live["data"]["data"]["text"] == "written while the stream is open"

        missed = [add_memory(org, f"written while disconnected {n}") for n in range(3)]
        resume = {"Last-Event-ID": live["id"]}
        with client.stream("GET", "/v1/events/stream", headers=resume) as response:
            events = sse_events(response)
            caught_up = take(events, 3)
            after_reconnect = add_memory(org, "written after the reconnect")
            newest = next(events)
    assert [int(e["id"]) for e in caught_up] == missed
    assert int(newest["id"]) == after_reconnect


def test_the_stream_shows_only_the_callers_organization_and_its_filters(base_url: str, admin: ApiClient) -> None:
    mine, theirs = create_org(admin), create_org(admin)
    start = mine.owner.get("/v1/events", params={"limit": 1000}).json()["items"][-1]["position"]
    headers = {"Authorization": f"Bearer {mine.owner_key}"}
    params = {"after": start, "types": "Memory.Created"}
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=20) as client,
        client.stream("GET", "/v1/events/stream", params=params) as response,
    ):
        events = sse_events(response)
        add_memory(theirs, "not for the other organization")
        mine.owner.post("/v1/blocks", json={"label": "skipped", "value": "not a memory"})
        position = add_memory(mine, "mine")
        first = next(events)
    assert int(first["id"]) == position and first["data"]["data"]["text"] == "mine"


def test_the_stream_refuses_a_bad_last_event_id_and_other_roles(base_url: str, org: Org) -> None:
    headers = {"Authorization": f"Bearer {org.owner_key}", "Last-Event-ID": "abc"}
    response = httpx.get(f"{base_url}/v1/events/stream", headers=headers, timeout=20)
    assert response.status_code == 400 and "Last-Event-ID" in response.text
    member = org.client_with_role("member")
    response = httpx.get(f"{base_url}/v1/events/stream", headers={"Authorization": f"Bearer {member.secret}"})
    assert response.status_code == 403


def test_a_stream_ends_once_its_key_is_revoked(base_url: str, org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentmem.application.events.HEARTBEAT_SECONDS", 0.2)  # credentials checked this often
    created = org.owner.post("/v1/api-keys", json={"name": "stream reader", "role": "owner"}).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    head = org.owner.get("/v1/events", params={"limit": 1000}).json()["next_after"]
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=20) as client,
        client.stream("GET", "/v1/events/stream", params={"after": head}) as response,
    ):
        assert response.status_code == 200
        assert org.owner.delete(f"/v1/api-keys/{created['id']}").status_code == 204
        delivered = list(sse_events(response))  # returns only when the server ends the stream
    assert [e["event"] for e in delivered] == ["ApiKey.Revoked"]

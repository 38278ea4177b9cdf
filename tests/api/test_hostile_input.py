"""Hostile input never reaches the log: NUL anywhere is a 422 naming the field, deep JSON a 400, bodies are strict."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar.testing import TestClient

from agentmem.infrastructure.worker import Worker

NUL = "a\u0000b"
DEEP = "[" * 10_000 + "]" * 10_000


def made(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def things(client: TestClient) -> dict[str, str]:
    """One of each thing a hostile body can target."""
    agent = made(client, "/v1/agents", {"name": "target"})
    block = made(client, "/v1/blocks", {"label": "human", "value": "v"})
    memory = made(client, "/v1/memories", {"text": "target"})
    return {"agent": agent["id"], "block": block["id"], "memory": memory["id"]}


WRITES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/memories", {"text": NUL}, "text"),
    ("POST", "/v1/memories", {"text": "ok", "user_id": NUL}, "user_id"),
    ("POST", "/v1/memories", {"text": "ok", "metadata": {"k": NUL}}, "metadata.k"),
    ("POST", "/v1/memories", {"text": "ok", "metadata": {NUL: 1}}, "metadata"),
    ("POST", "/v1/memories", {"text": "ok", "metadata": {"deep": [{"x": NUL}]}}, "metadata.deep[0].x"),
    ("POST", "/v1/memories/batch", {"memories": [{"text": "ok"}, {"text": NUL}]}, "memories[1].text"),
    ("PATCH", "/v1/memories/{memory}", {"text": NUL}, "text"),
    ("POST", "/v1/memories/search", {"query": NUL}, "query"),
    ("POST", "/v1/memories/search", {"query": "x", "user_id": NUL}, "user_id"),
    ("POST", "/v1/memories/search", {"query": "x", "filters": {"topic": NUL}}, "filters.topic"),
    ("POST", "/v1/blocks", {"label": "persona", "value": NUL}, "value"),
    ("POST", "/v1/blocks/{block}/append", {"text": NUL}, "text"),
    ("POST", "/v1/agents", {"name": NUL}, "name"),
    ("PATCH", "/v1/agents/{agent}", {"description": NUL}, "description"),
    ("POST", "/v1/agents/{agent}/messages", {"messages": [{"role": "user", "content": NUL}]}, "messages[0].content"),
    ("POST", "/v1/users", {"email": "nul@example.com", "name": NUL, "role": "member"}, "name"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), WRITES)
def test_a_nul_in_any_body_is_422_naming_the_field(
    client: TestClient, things: dict[str, str], method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.request(method, path.format(**things), json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["status"] == 422 and field in [e["field"] for e in error["errors"]]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/v1/agents", "tag"),
        ("/v1/memories", "user_id"),
        ("/v1/blocks", "label"),
        ("/v1/audit", "action"),
        ("/v1/audit", "actor_id"),
    ],
)
def test_a_nul_in_a_query_parameter_is_422_naming_it(client: TestClient, path: str, parameter: str) -> None:
    response = client.get(path, params={parameter: NUL})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == parameter


def test_a_nul_in_an_idempotency_key_is_422_and_stores_nothing(client: TestClient) -> None:
    before = client.get("/v1/memories", params={"user_id": "idem-nul"}).json()["items"]
    response = client.post("/v1/memories", json={"text": "x", "user_id": "idem-nul"}, headers={"Idempotency-Key": NUL})
    assert response.status_code == 422 and response.json()["errors"][0]["field"].lower() == "idempotency-key"
    assert client.get("/v1/memories", params={"user_id": "idem-nul"}).json()["items"] == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/memories"),
        ("POST", "/v1/memories/batch"),
        ("POST", "/v1/memories/search"),
        ("PATCH", "/v1/memories/{memory}"),
        ("POST", "/v1/blocks"),
        ("POST", "/v1/agents"),
        ("POST", "/v1/agents/{agent}/messages"),
        ("POST", "/v1/users"),
        ("POST", "/v1/auth/token"),
    ],
)
def test_json_nested_ten_thousand_levels_is_400(
    client: TestClient, things: dict[str, str], method: str, path: str
) -> None:
    body = '{"text": ' + DEEP + "}"
    response = client.request(method, path.format(**things), content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "deeper than 64" in response.json()["detail"]


def test_a_deep_filters_parameter_is_400(client: TestClient) -> None:
    deep = "[" * 3_000 + "]" * 3_000
    response = client.get("/v1/memories", params={"filters": deep})
    assert response.status_code == 400 and response.json()["status"] == 400


def test_sixty_four_levels_are_still_accepted(client: TestClient) -> None:
    nested: Any = "leaf"
    for _ in range(62):  # metadata itself is the 2nd level, the body the 1st
        nested = {"n": nested}
    response = client.post("/v1/memories", content=json.dumps({"text": "deep", "metadata": nested}))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "limit": "10"}, "limit"),
        ({"query": "x", "min_score": "nan"}, "min_score"),
        ({"query": 5}, "query"),
        ({"query": "x", "hybrid": "yes"}, "hybrid"),
    ],
)
def test_search_bodies_are_strict(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/v1/memories/search", json=body)
    assert response.status_code == 422 and field in [e["field"] for e in response.json()["errors"]], response.text


def test_concurrent_patches_without_if_match_all_apply_last_writer_wins(client: TestClient) -> None:
    memory = made(client, "/v1/memories", {"text": "start"})
    agent = made(client, "/v1/agents", {"name": "racer"})
    block = made(client, "/v1/blocks", {"label": "log", "value": "", "limit": 5000})

    def write(i: int) -> list[int]:
        return [
            client.patch(f"/v1/memories/{memory['id']}", json={"text": f"writer {i}"}).status_code,
            client.patch(f"/v1/agents/{agent['id']}", json={"description": f"writer {i}"}).status_code,
            client.post(f"/v1/blocks/{block['id']}/append", json={"text": f"{i};"}).status_code,
        ]

    with ThreadPoolExecutor(20) as pool:
        statuses = [s for answer in pool.map(write, range(20)) for s in answer]
    assert statuses == [200] * 60
    assert client.get(f"/v1/memories/{memory['id']}").json()["version"] == 21
    assert client.get(f"/v1/agents/{agent['id']}").json()["version"] == 21
    appended = client.get(f"/v1/blocks/{block['id']}").json()["value"]
    assert sorted(appended.replace(";", " ").split(), key=int) == [str(i) for i in range(20)]


def test_after_the_attacks_a_new_memory_is_searchable_at_its_position(client: TestClient, worker: Worker) -> None:
    marker = f"survivor-{uuid.uuid4().hex[:8]}"
    position = made(client, "/v1/memories", {"text": f"the {marker} memory"})["position"]
    hits = client.post("/v1/memories/search", json={"query": marker, "min_position": position}).json()["results"]
    assert [h["text"] for h in hits][:1] == [f"the {marker} memory"]

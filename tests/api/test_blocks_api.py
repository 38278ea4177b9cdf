"""/v1/blocks over HTTP, on the real database (lists through a real projection worker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest


def create(client: Any, **body: object) -> dict:
    response = client.post("/v1/blocks", json={"label": "human", "value": "Sam likes tea", **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_201_with_size_limit_version_and_position(client: Any) -> None:
    block = create(client, limit=100, description="about the user", metadata={"source": "onboarding"})
    assert (block["version"], block["size"], block["limit"], block["read_only"]) == (1, 13, 100, False)
    assert block["position"] >= 1
    fetched = client.get(f"/v1/blocks/{block['id']}")
    assert fetched.json()["value"] == "Sam likes tea" and fetched.headers["ETag"] == '"1"'
    assert create(client)["limit"] == 5_000


def test_an_append_past_the_limit_gets_422_naming_the_limit_and_the_size(client: Any) -> None:
    block = create(client, value="0123456789", limit=20)
    url = f"/v1/blocks/{block['id']}"
    ok = client.post(f"{url}/append", json={"text": "abcdefghi"})  # 10 + "\n" + 9 = 20
    assert ok.status_code == 200 and ok.json()["size"] == 20 and ok.json()["version"] == 2
    over = client.post(f"{url}/append", json={"text": "x"})
    assert over.status_code == 422
    error = over.json()
    assert (error["limit"], error["size"]) == (20, 22)
    assert "20" in error["detail"] and "22" in error["detail"] and error["errors"][0]["field"] == "text"
    assert client.get(url).json()["version"] == 2


def test_a_value_or_limit_patch_over_the_limit_gets_422(client: Any) -> None:
    block = create(client, value="x" * 30, limit=50)
    url = f"/v1/blocks/{block['id']}"
    too_long = client.patch(url, json={"value": "y" * 51})
    assert too_long.status_code == 422 and (too_long.json()["limit"], too_long.json()["size"]) == (50, 51)
    too_small = client.patch(url, json={"limit": 10})
    assert too_small.status_code == 422 and too_small.json()["errors"][0]["field"] == "limit"
    assert client.post("/v1/blocks", json={"label": "human", "value": "z" * 11, "limit": 10}).status_code == 422


def test_a_read_only_block_refuses_edits_with_409_until_unlocked(client: Any) -> None:
    block = create(client, label="policy", value="Never share secrets", read_only=True)
    url = f"/v1/blocks/{block['id']}"
    for response in (
        client.patch(url, json={"value": "Share everything"}),
        client.post(f"{url}/append", json={"text": "unless asked"}),
        client.post(f"{url}/revert", json={"version": 1}),
    ):
        assert response.status_code == 409 and "read-only" in response.json()["detail"]
    unlocked = client.patch(url, json={"read_only": False, "value": "Share nothing"})
    assert unlocked.status_code == 200 and unlocked.json()["value"] == "Share nothing"


def test_revert_restores_an_old_value_as_a_new_version(client: Any) -> None:
    block = create(client, value="first")
    url = f"/v1/blocks/{block['id']}"
    client.patch(url, json={"value": "second"}, headers={"If-Match": "1"})
    reverted = client.post(f"{url}/revert", json={"version": 1}, headers={"If-Match": "2"})
    assert reverted.status_code == 200 and reverted.json()["value"] == "first" and reverted.json()["version"] == 3
    history = client.get(f"{url}/history").json()["versions"]
    assert [v["event_type"] for v in history] == ["Created", "ValueReplaced", "Reverted"]
    assert history[2]["changes"]["value"] == {"old": "second", "new": "first"}
    assert client.get(url, params={"version": 2}).json()["value"] == "second"
    assert client.post(f"{url}/revert", json={"version": 9}).status_code == 422


def test_if_match_guards_against_lost_updates(client: Any) -> None:
    block = create(client)
    url = f"/v1/blocks/{block['id']}"
    assert client.patch(url, json={"value": "one"}, headers={"If-Match": "1"}).status_code == 200
    stale = client.post(f"{url}/append", json={"text": "two"}, headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2


def test_as_of_delete_and_restore(client: Any) -> None:
    block = create(client, value="before")
    url = f"/v1/blocks/{block['id']}"
    instant = datetime.now(UTC).isoformat()
    client.patch(url, json={"value": "after"})
    assert client.get(url, params={"as_of": instant}).json()["value"] == "before"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(url, params={"include_deleted": "true"}).json()["deleted"] is True
    assert client.patch(url, json={"value": "edit while deleted"}).status_code == 409
    assert client.post(f"{url}/restore").json()["deleted"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "has space"}, "label"),
        ({"label": "human", "limit": 0}, "limit"),
        ({"label": "human", "limit": 100_001}, "limit"),
        ({"label": "human", "surprise": 1}, "surprise"),
        ({"value": "no label"}, "label"),
    ],
)
def test_bad_bodies_get_422_naming_the_field(client: Any, body: dict, field: str) -> None:
    response = client.post("/v1/blocks", json=body)
    assert response.status_code == 422 and field in [e.get("field") for e in response.json()["errors"]]


def test_unknown_ids_are_404(client: Any) -> None:
    url = "/v1/blocks/00000000-0000-4000-8000-000000000000"
    for response in (
        client.get(url),
        client.get(f"{url}/history"),
        client.patch(url, json={"value": "x"}),
        client.post(f"{url}/append", json={"text": "x"}),
        client.post(f"{url}/revert", json={"version": 1}),
        client.delete(url),
    ):
        assert response.status_code == 404


@pytest.mark.usefixtures("worker")
def test_lists_filter_by_label_and_by_agent_with_cursor_pages(client: Any) -> None:
    label = f"l{uuid.uuid4().hex[:12]}"
    blocks = [create(client, label=label, value=f"value {i}") for i in range(5)]
    other = create(client, label=label + "x")
    agent = client.post("/v1/agents", json={"name": "lister", "block_ids": [blocks[1]["id"], other["id"]]}).json()
    position = agent["position"]
    first = client.get("/v1/blocks", params={"label": label, "limit": 3, "min_position": position})
    assert first.status_code == 200, first.text
    second = client.get("/v1/blocks", params={"label": label, "limit": 3, "cursor": first.json()["next_cursor"]})
    ids = [b["id"] for b in first.json()["items"] + second.json()["items"]]
    assert ids == [b["id"] for b in reversed(blocks)] and second.json()["next_cursor"] is None
    attached = client.get(
        "/v1/blocks", params={"agent_id": agent["id"], "order": "created_asc", "min_position": position}
    )
    assert [b["id"] for b in attached.json()["items"]] == [blocks[1]["id"], other["id"]]
    appended = client.post(f"/v1/blocks/{blocks[0]['id']}/append", json={"text": "more"}).json()
    listed = client.get("/v1/blocks", params={"label": label, "min_position": appended["position"]}).json()["items"]
    assert next(b for b in listed if b["id"] == blocks[0]["id"])["value"] == "value 0\nmore"
    deleted = client.delete(f"/v1/blocks/{blocks[2]['id']}")
    after = client.get("/v1/blocks", params={"label": label, "min_position": deleted.headers["AgentMem-Position"]})
    assert blocks[2]["id"] not in [b["id"] for b in after.json()["items"]]

"""/v1/memories over HTTP, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar.testing import TestClient


def add(client: TestClient, **body: object) -> dict:
    response = client.post("/v1/memories", json={"text": "Alice likes tea", **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_add_answers_201_with_id_version_and_position(client: TestClient) -> None:
    created = add(client, user_id="alice", memory_type="episodic", metadata={"topic": "drinks"})
    assert created["version"] == 1 and created["position"] >= 1 and created["memory_type"] == "episodic"
    fetched = client.get(f"/v1/memories/{created['id']}").json()
    assert fetched["text"] == "Alice likes tea" and fetched["metadata"] == {"topic": "drinks"}


def test_a_memory_edited_twice_has_three_versions_in_its_history(client: TestClient) -> None:
    memory = add(client)
    url = f"/v1/memories/{memory['id']}"
    assert client.patch(url, json={"text": "Alice likes coffee"}, headers={"If-Match": "1"}).status_code == 200
    second = client.patch(url, json={"metadata": {"mood": "awake"}}, headers={"If-Match": '"2"'})
    assert second.status_code == 200 and second.json()["version"] == 3
    history = client.get(f"{url}/history").json()["versions"]
    assert [v["version"] for v in history] == [1, 2, 3]
    assert all(v["actor_id"] and v["timestamp"] and v["request_id"] for v in history)
    assert history[1]["changes"] == {"text": {"old": "Alice likes tea", "new": "Alice likes coffee"}}
    assert client.get(url, params={"version": 1}).json()["text"] == "Alice likes tea"


def test_a_stale_if_match_gets_409_with_the_current_version(client: TestClient) -> None:
    memory = add(client)
    url = f"/v1/memories/{memory['id']}"
    client.patch(url, json={"text": "changed"}, headers={"If-Match": "1"})
    stale = client.patch(url, json={"text": "lost update"}, headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert client.get(url).json()["text"] == "changed"


def test_as_of_shows_the_memory_as_it_was(client: TestClient) -> None:
    memory = add(client)
    before_edit = datetime.now(UTC).isoformat()
    client.patch(f"/v1/memories/{memory['id']}", json={"text": "new text"})
    old = client.get(f"/v1/memories/{memory['id']}", params={"as_of": before_edit})
    assert old.status_code == 200 and old.json()["text"] == "Alice likes tea"


def test_an_idempotent_retry_returns_the_same_result_and_records_nothing(client: TestClient) -> None:
    headers = {"Idempotency-Key": "retry-me-please"}
    body = {"text": "only once", "user_id": "idem"}
    first = client.post("/v1/memories", json=body, headers=headers)
    again = client.post("/v1/memories", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    history = client.get(f"/v1/memories/{first.json()['id']}/history").json()["versions"]
    assert len(history) == 1
    other = client.post("/v1/memories", json={**body, "text": "different"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


def test_a_batch_with_one_bad_item_stores_nothing(client: TestClient) -> None:
    items = [{"text": f"batch fact {i}", "user_id": "batcher"} for i in range(3)]
    bad = client.post("/v1/memories/batch", json={"memories": [*items, {"text": "ok", "valid_from": "nope"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "memories[3].valid_from"
    good = client.post("/v1/memories/batch", json={"memories": items})
    assert good.status_code == 201 and len(good.json()["memories"]) == 3
    assert good.json()["position"] == max(m["position"] for m in good.json()["memories"])


def test_a_batch_over_the_maximum_is_refused(client: TestClient) -> None:
    response = client.post("/v1/memories/batch", json={"memories": [{"text": "x"}] * 1001})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "memories"


def test_delete_answers_204_then_get_is_404_unless_include_deleted(client: TestClient) -> None:
    memory = add(client)
    url = f"/v1/memories/{memory['id']}"
    deleted = client.delete(url)
    assert deleted.status_code == 204 and int(deleted.headers["AgentMem-Position"]) > memory["position"]
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 409  # the domain's rule, not a 404
    assert client.get(url, params={"include_deleted": "true"}).json()["deleted"] is True
    assert client.patch(url, json={"text": "edit while deleted"}).status_code == 409
    restored = client.post(f"{url}/restore")
    assert restored.status_code == 200 and restored.json()["deleted"] is False
    assert client.get(url).status_code == 200
    assert client.post(f"{url}/restore").status_code == 409


def test_unknown_ids_are_404_in_every_read(client: TestClient) -> None:
    url = "/v1/memories/00000000-0000-4000-8000-000000000000"
    for response in (
        client.get(url),
        client.get(f"{url}/history"),
        client.patch(url, json={"text": "x"}),
        client.delete(url),
        client.post(f"{url}/restore"),
    ):
        assert response.status_code == 404 and response.json()["status"] == 404


def test_request_id_is_echoed_and_recorded(client: TestClient) -> None:
    response = client.post("/v1/memories", json={"text": "traced"}, headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    history = client.get(f"/v1/memories/{response.json()['id']}/history").json()["versions"]
    assert history[0]["request_id"] == "trace-123"

"""Search and lists over the memories read model, through the API, with a real projection worker."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker

pytestmark = pytest.mark.usefixtures("worker")

FACTS = [
    "Alice is allergic to peanuts and carries an epipen",
    "Alice's favourite programming language is Rust",
    "Alice adopted a grey cat called Zorblax in March",
    "The quarterly report is due on Friday",
    "Alice runs five kilometres every morning before work",
    "Bob prefers window seats on long flights",
]


def add_all(client: TestClient, user: str, texts: list[str], **extra: Any) -> int:
    response = client.post(
        "/v1/memories/batch", json={"memories": [{"text": t, "user_id": user, **extra} for t in texts]}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["position"])


def search(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    response = client.post("/v1/memories/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def test_a_paraphrased_question_finds_the_memory_first_right_after_the_write(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, FACTS)
    for mode in ("vector", "hybrid"):
        hits = search(client, query="Which food must she avoid?", mode=mode, user_id=who, min_position=position)
        assert hits[0]["text"] == FACTS[0], (mode, hits[:2])
        assert hits[0]["vector_rank"] == 1


def test_an_exact_rare_keyword_ranks_first_in_text_mode(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, FACTS)
    hits = search(client, query="zorblax", mode="text", user_id=who, min_position=position)
    assert [h["text"] for h in hits] == [FACTS[2]] and hits[0]["text_rank"] == 1


def test_a_question_sharing_only_some_words_still_matches_in_text_mode(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, FACTS)
    hits = search(
        client, query="how often does alice go running in the morning?", mode="text", user_id=who, min_position=position
    )
    assert hits and hits[0]["text"] == FACTS[4]


def test_search_syntax_supports_phrases_and_exclusion(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, ["red apples are sweet", "green apples are sour", "red cars are fast"])
    hits = search(client, query='"red apples"', mode="text", user_id=who, min_position=position)
    assert [h["text"] for h in hits] == ["red apples are sweet"]
    hits = search(client, query="apples -green", mode="hybrid", user_id=who, min_position=position)
    assert "green apples are sour" not in [h["text"] for h in hits] and hits


def test_a_deleted_memory_never_appears_and_a_restored_one_comes_back(client: TestClient) -> None:
    who = user()
    added = add_all(client, who, FACTS)
    listed = client.get("/v1/memories", params={"user_id": who, "limit": 100, "min_position": added})
    target = next(m for m in listed.json()["items"] if m["text"] == FACTS[2])
    deleted = client.delete(f"/v1/memories/{target['id']}")
    position = int(deleted.headers["AgentMem-Position"])
    for mode in ("hybrid", "vector", "text"):
        hits = search(client, query="zorblax the grey cat", mode=mode, user_id=who, min_position=position)
        assert target["id"] not in [h["id"] for h in hits], mode
    listed = client.get("/v1/memories", params={"user_id": who, "min_position": position}).json()["items"]
    assert target["id"] not in [m["id"] for m in listed]
    restored = client.post(f"/v1/memories/{target['id']}/restore").json()
    hits = search(client, query="zorblax", mode="text", user_id=who, min_position=restored["position"])
    assert [h["id"] for h in hits] == [target["id"]]


def test_an_edited_memory_is_found_by_its_new_text_only(client: TestClient) -> None:
    who = user()
    added = add_all(client, who, FACTS)
    target = client.get("/v1/memories", params={"user_id": who, "min_position": added}).json()["items"][0]
    edited = client.patch(f"/v1/memories/{target['id']}", json={"text": "Alice learned to juggle flaming torches"})
    position = edited.json()["position"]
    assert (
        search(client, query="juggle torches", mode="text", user_id=who, min_position=position)[0]["id"] == target["id"]
    )
    assert all(
        h["id"] != target["id"]
        for h in search(client, query=target["text"].split()[-1], mode="text", user_id=who, min_position=position)
    )


def test_scope_filters_narrow_the_search(client: TestClient) -> None:
    who = user()
    add_all(client, who, FACTS[:3], agent_id="agent-a", memory_type="semantic")
    position = add_all(client, who, FACTS[3:], agent_id="agent-b", memory_type="episodic")
    hits = search(client, query="alice", user_id=who, agent_id="agent-a", min_position=position, limit=100)
    assert {h["text"] for h in hits} <= set(FACTS[:3]) and hits
    hits = search(client, query="alice", user_id=who, memory_type=["episodic"], min_position=position, limit=100)
    assert {h["memory_type"] for h in hits} == {"episodic"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"topic": "food"}, {"peanuts"}),
        ({"topic": {"in": ["food", "pets"]}}, {"peanuts", "cat"}),
        ({"priority": {"gte": 3}}, {"cat", "report"}),
        ({"priority": {"lt": 3}}, {"peanuts"}),
        ({"tags": {"contains": "urgent"}}, {"report"}),
        ({"source.app": "slack"}, {"cat"}),
        ({"not": {"topic": "food"}}, {"cat", "report"}),
        ({"or": [{"topic": "food"}, {"priority": {"gt": 4}}]}, {"peanuts", "report"}),
        ({"archived": {"exists": True}}, {"report"}),
        ({"topic": {"ne": "work"}}, {"peanuts", "cat"}),
    ],
)
def test_the_metadata_filter_language(client: TestClient, filters: dict, expected: set[str]) -> None:
    who = user()
    items = [
        {"text": "peanuts are dangerous for Alice", "metadata": {"topic": "food", "priority": 1}},
        {"text": "the cat needs a vet visit", "metadata": {"topic": "pets", "priority": 3, "source": {"app": "slack"}}},
        {
            "text": "the report is overdue",
            "metadata": {"topic": "work", "priority": 5, "tags": ["urgent", "q3"], "archived": False},
        },
    ]
    position = client.post("/v1/memories/batch", json={"memories": [{**i, "user_id": who} for i in items]}).json()[
        "position"
    ]
    hits = search(client, query="alice cat report peanuts", user_id=who, filters=filters, min_position=position)
    found = {word for h in hits for word in ("peanuts", "cat", "report") if word in h["text"]}
    assert found == expected
    listed = client.get("/v1/memories", params={"user_id": who, "filters": json.dumps(filters)})
    assert {w for m in listed.json()["items"] for w in ("peanuts", "cat", "report") if w in m["text"]} == expected


def test_valid_at_keeps_only_facts_that_held_then(client: TestClient) -> None:
    who = user()
    now = datetime.now(UTC)
    items = [
        {
            "text": "Alice lives in Paris",
            "valid_from": (now - timedelta(days=400)).isoformat(),
            "valid_to": (now - timedelta(days=30)).isoformat(),
        },
        {"text": "Alice lives in Lisbon", "valid_from": (now - timedelta(days=30)).isoformat()},
    ]
    position = client.post("/v1/memories/batch", json={"memories": [{**i, "user_id": who} for i in items]}).json()[
        "position"
    ]
    then = (now - timedelta(days=100)).isoformat()
    assert [
        h["text"]
        for h in search(client, query="where does alice live", user_id=who, valid_at=then, min_position=position)
    ] == ["Alice lives in Paris"]
    assert [
        h["text"]
        for h in search(
            client, query="where does alice live", user_id=who, valid_at=now.isoformat(), min_position=position
        )
    ] == ["Alice lives in Lisbon"]


def test_lists_page_through_everything_once_with_cursors(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, [f"note number {i}" for i in range(23)])
    for order in ("created_desc", "created_asc", "updated_desc"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"user_id": who, "limit": 5, "order": order, "min_position": position}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/memories", params=params).json()
            seen += [m["id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 23 == len(set(seen)), order
    ascending = client.get(
        "/v1/memories", params={"user_id": who, "order": "created_asc", "limit": 3, "min_position": position}
    ).json()
    assert [m["text"] for m in ascending["items"]] == ["note number 0", "note number 1", "note number 2"]


def test_min_score_and_limit_bound_the_results(client: TestClient) -> None:
    who = user()
    position = add_all(client, who, FACTS)
    assert len(search(client, query="alice", user_id=who, limit=2, min_position=position)) == 2
    hits = search(client, query="alice", user_id=who, mode="vector", min_score=0.99, min_position=position)
    assert hits == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "x", "mode": "fuzzy"}, "mode"),
        ({"query": "x", "limit": 101}, "limit"),
        ({"query": "x", "filters": {"a": {"gt": [1]}}}, "filters.a.gt"),
        ({"query": "x", "filters": {"and": []}}, "filters.and"),
        ({"query": "x", "valid_at": "2024-01-01T00:00:00"}, "valid_at"),
    ],
)
def test_bad_search_input_is_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/v1/memories/search", json=body)
    assert response.status_code == 422 and field in [e["field"] for e in response.json()["errors"]]


def test_a_forged_cursor_is_400(client: TestClient) -> None:
    response = client.get("/v1/memories", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "cursor"


def test_a_position_beyond_the_head_of_the_log_is_422(client: TestClient, worker: Worker) -> None:
    response = client.post("/v1/memories/search", json={"query": "x", "min_position": 10**12})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "min_position"


def test_a_position_the_projection_has_not_reached_is_503(
    client: TestClient, worker: Worker, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client.app.state.container.reads, "timeout", 0.3)
    with psycopg.connect(settings.database_url) as held:
        held.execute("LOCK TABLE projection_tracking IN EXCLUSIVE MODE")  # readers go on; no projection advances
        position = add_all(client, user(), ["written while the projections are held"])
        response = client.post("/v1/memories/search", json={"query": "x", "min_position": position})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert search(client, query="held", min_position=position)  # released: the same read answers


def test_admin_projections_shows_position_and_lag(client: TestClient, admin: TestClient) -> None:
    position = add_all(client, user(), ["something to project"])
    search(client, query="something", min_position=position)
    assert client.get("/v1/admin/projections").status_code == 403  # an owner is no platform admin
    body = admin.get("/v1/admin/projections").json()
    memories = next(p for p in body["projections"] if p["read_model"] == "memories")
    assert memories["position"] >= position and body["head"] >= position
    assert memories["lag_events"] >= 0 and memories["embedder"].startswith("local:")

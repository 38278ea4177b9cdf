"""/v1/events: the organization's events from the log, in order, paged by position, without secrets."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.clients import ApiClient, Org, create_org
from tests.reading import after

pytestmark = pytest.mark.usefixtures("worker")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_all(client: ApiClient, **params: Any) -> list[dict[str, Any]]:
    """Every event of the feed after `after` (default 0), page by page."""
    events: list[dict[str, Any]] = []
    query = {"after": 0, "limit": 7, **params}
    while True:
        response = client.get("/v1/events", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["items"])
        if not page["has_more"]:
            return events
        query = {**query, "after": page["next_after"]}


def write_some(org: Org) -> tuple[dict[str, Any], int]:
    """A memory with three versions, a block, a user with a password; returns the memory and the last position."""
    owner = org.owner
    memory = owner.post("/v1/memories", json={"text": "the feed starts", "user_id": "alice"}).json()
    owner.patch(f"/v1/memories/{memory['id']}", json={"text": "the feed goes on"})
    owner.delete(f"/v1/memories/{memory['id']}")
    owner.post("/v1/blocks", json={"label": "persona", "value": "curious"})
    user = owner.post("/v1/users", json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "s3cret-pass!"})
    assert user.status_code == 201, user.text
    return memory, int(user.headers["AgentMem-Position"])


def test_the_feed_from_zero_equals_the_audit_trail_in_order(admin: ApiClient) -> None:
    org = create_org(admin)
    _, position = write_some(org)
    audit = after(org.owner, "GET", "/v1/audit", position, params={"limit": 1000}).json()["items"]
    feed = read_all(org.owner)
    assert [(e["position"], e["type"], e["aggregate_id"], e["version"]) for e in feed] == [
        (a["position"], a["action"], a["aggregate_id"], a["version"]) for a in audit
    ]
    assert [(e["actor_id"], e["request_id"], instant(e["timestamp"])) for e in feed] == [
        (a["actor_id"], a["request_id"], instant(a["timestamp"])) for a in audit
    ]


def test_events_carry_their_data_and_never_a_key_or_password_hash(admin: ApiClient) -> None:
    org = create_org(admin)
    memory, _ = write_some(org)
    feed = read_all(org.owner)
    created = next(e for e in feed if e["type"] == "Memory.Created")
    assert created["aggregate_id"] == memory["id"]
    assert created["data"]["text"] == "the feed starts" and created["data"]["user_id"] == "alice"
    updated = next(e for e in feed if e["type"] == "Memory.Updated")
    assert updated["version"] == 2 and "the feed goes on" in str(updated["data"])
    key = next(e for e in feed if e["type"] == "ApiKey.Created")
    assert key["data"]["key_hash"] == "[redacted]" and key["data"]["role"] == "owner"
    user = next(e for e in feed if e["type"] == "User.Created")
    assert user["data"]["password_hash"] == "[redacted]" and "argon2" not in str(feed)


def test_the_feed_never_shows_another_organization(admin: ApiClient) -> None:
    mine, theirs = create_org(admin), create_org(admin)
    write_some(theirs)
    write_some(mine)
    their_ids = {e["aggregate_id"] for e in read_all(theirs.owner)}
    my_feed = read_all(mine.owner)
    assert my_feed and not their_ids & {e["aggregate_id"] for e in my_feed}
    assert mine.id in {e["aggregate_id"] for e in my_feed}
    their_memory = next(e for e in read_all(theirs.owner) if e["type"] == "Memory.Created")["aggregate_id"]
    assert read_all(mine.owner, aggregate_id=their_memory) == []


def test_filters_by_type_and_by_aggregate(admin: ApiClient) -> None:
    org = create_org(admin)
    memory, _ = write_some(org)
    updates = read_all(org.owner, types="Memory.Updated,Block.Created")
    assert [e["type"] for e in updates] == ["Memory.Updated", "Block.Created"]
    of_memories = read_all(org.owner, types=["Memory"])
    assert [e["type"] for e in of_memories] == ["Memory.Created", "Memory.Updated", "Memory.Deleted"]
    one = read_all(org.owner, aggregate_id=memory["id"])
    assert [e["version"] for e in one] == [1, 2, 3]
    after_first = org.owner.get("/v1/events", params={"aggregate_id": memory["id"], "after": one[0]["position"]})
    assert [e["version"] for e in after_first.json()["items"]] == [2, 3]


def test_an_empty_page_keeps_the_position_and_bad_input_is_refused(admin: ApiClient) -> None:
    org = create_org(admin)
    head = read_all(org.owner)[-1]["position"]
    page = org.owner.get("/v1/events", params={"after": head}).json()
    assert page == {"items": [], "next_after": head, "has_more": False}
    for params, field in (({"types": "memory"}, "types"), ({"types": "Memory;drop"}, "types")):
        response = org.owner.get("/v1/events", params=params)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assert org.owner.get("/v1/events", params={"after": -1}).status_code == 422
    assert org.owner.get("/v1/events", params={"limit": 1001}).status_code == 422


def test_only_owners_read_the_feed(admin: ApiClient) -> None:
    org = create_org(admin)
    for role in ("member", "viewer"):
        assert org.client_with_role(role).get("/v1/events").status_code == 403
    assert org.client_with_role("owner").get("/v1/events").status_code == 200


def test_a_follower_sees_every_event_once_and_in_order_while_writers_race(admin: ApiClient) -> None:
    """Eight writers commit concurrently while a consumer polls the feed: no event is skipped or repeated."""
    org = create_org(admin)
    start = read_all(org.owner)[-1]["position"]
    done = threading.Event()

    def write(n: int) -> None:
        for i in range(6):
            response = org.owner.post("/v1/memories", json={"text": f"writer {n} note {i}"})
            assert response.status_code == 201

    def follow(seen: list[dict[str, Any]]) -> None:
        after = start
        while True:
            finished = done.is_set()
            page = org.owner.get("/v1/events", params={"after": after, "limit": 5}).json()
            seen.extend(page["items"])
            after = page["next_after"]
            if finished and not page["has_more"]:
                return

    seen: list[dict[str, Any]] = []
    follower = threading.Thread(target=follow, args=(seen,))
    follower.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    follower.join()
    assert [e["position"] for e in seen] == [e["position"] for e in read_all(org.owner, after=start)]
    assert len(seen) == 48 and len({e["position"] for e in seen}) == 48

"""Two organizations, A and B: no endpoint lets B see, count or change anything of A's."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from agentmem.domain.base import Context
from agentmem.domain.run import RunStart
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org, create_org
from tests.scripted_model import ScriptedModel, scripted

pytestmark = pytest.mark.usefixtures("worker")
WORD = f"zanzibar{uuid.uuid4().hex[:6]}"


@dataclass
class World:
    """A's data, made through the API, and the log position that covers all of it."""

    a: Org
    b: Org
    memory: dict[str, Any]
    user: dict[str, Any]
    key: dict[str, Any]
    between: str
    position: int


@pytest.fixture(scope="module")
def world(admin: ApiClient) -> World:
    a, b = create_org(admin), create_org(admin)
    memory = a.owner.post("/v1/memories", json={"text": f"A's secret plan mentions {WORD}", "user_id": "alice"}).json()
    between = datetime.now(UTC).isoformat()
    a.owner.patch(f"/v1/memories/{memory['id']}", json={"text": f"A's revised plan about {WORD}"})
    a.owner.patch(f"/v1/memories/{memory['id']}", json={"metadata": {"secret": True}})
    user = a.owner.post("/v1/users", json={"email": f"a-{uuid.uuid4().hex[:6]}@example.com", "role": "member"}).json()
    key = a.owner.post("/v1/api-keys", json={"name": "a's key", "role": "member"}).json()
    b.owner.post("/v1/memories", json={"text": "B's own memory", "user_id": "alice"})
    position = key["position"]
    return World(a, b, memory, user, key, between, position)


def test_b_gets_404_on_a_memory_in_every_read_and_write(world: World) -> None:
    url = f"/v1/memories/{world.memory['id']}"
    b = world.b.owner
    responses = {
        "get": b.get(url),
        "version": b.get(url, params={"version": 1}),
        "as_of": b.get(url, params={"as_of": world.between}),
        "include_deleted": b.get(url, params={"include_deleted": "true"}),
        "history": b.get(f"{url}/history"),
        "patch": b.patch(url, json={"text": "B was here"}),
        "patch if-match": b.patch(url, json={"text": "B was here"}, headers={"If-Match": "3"}),
        "delete": b.delete(url),
        "restore": b.post(f"{url}/restore"),
    }
    for name, response in responses.items():
        assert response.status_code == 404, (name, response.text)
        assert world.memory["id"] in response.json()["detail"]  # exactly like a missing id
    missing = b.get(f"/v1/memories/{uuid.uuid4()}")
    assert missing.status_code == 404 and set(missing.json()) == set(responses["get"].json())
    mine = world.a.owner.get(url).json()
    assert mine["version"] == 3 and WORD in mine["text"] and mine["deleted"] is False


@pytest.mark.parametrize("mode", ["hybrid", "text", "vector"])
def test_b_never_finds_a_memory_in_search(world: World, mode: str) -> None:
    body = {"query": f"secret plan {WORD}", "mode": mode, "min_position": world.position, "limit": 100}
    hits = world.b.owner.post("/v1/memories/search", json=body)
    assert hits.status_code == 200
    assert all(world.a.id not in h["id"] and WORD not in h["text"] for h in hits.json()["results"])
    assert world.memory["id"] not in [h["id"] for h in hits.json()["results"]]
    scoped = world.b.owner.post("/v1/memories/search", json={**body, "user_id": "alice"}).json()["results"]
    assert [h["text"] for h in scoped if WORD in h["text"]] == []
    found = world.a.owner.post("/v1/memories/search", json=body).json()["results"]
    assert found and found[0]["id"] == world.memory["id"]


def test_b_lists_only_its_own_memories(world: World) -> None:
    listed = world.b.owner.get("/v1/memories", params={"min_position": world.position, "limit": 100}).json()
    assert [m["text"] for m in listed["items"]] == ["B's own memory"]
    alice = world.b.owner.get("/v1/memories", params={"user_id": "alice", "include_deleted": "true"}).json()
    assert len(alice["items"]) == 1


def test_b_cannot_see_or_touch_a_users(world: World) -> None:
    url = f"/v1/users/{world.user['id']}"
    b = world.b.owner
    for response in (
        b.get(url),
        b.patch(url, json={"role": "viewer"}),
        b.post(f"{url}/disable"),
        b.post(f"{url}/enable"),
        b.delete(url),
    ):
        assert response.status_code == 404, response.text
    listed = b.get("/v1/users", params={"min_position": world.position}).json()["items"]
    assert world.user["id"] not in [u["id"] for u in listed]
    assert world.a.owner.get(url).json()["role"] == "member"


def test_b_cannot_see_or_revoke_a_keys(world: World) -> None:
    url = f"/v1/api-keys/{world.key['id']}"
    assert world.b.owner.get(url).status_code == 404
    assert world.b.owner.delete(url).status_code == 404
    listed = world.b.owner.get("/v1/api-keys", params={"min_position": world.position}).json()["items"]
    assert world.key["id"] not in [k["id"] for k in listed] and len(listed) == 1  # only B's owner key
    assert ApiClient(world.a.owner.http, world.key["key"]).get("/v1/me").status_code == 200


def test_b_sees_only_its_own_organization(world: World) -> None:
    b = world.b.owner
    assert b.get(f"/v1/organizations/{world.a.id}").status_code == 404
    assert b.patch(f"/v1/organizations/{world.a.id}", json={"name": "taken over"}).status_code == 404
    assert b.delete(f"/v1/organizations/{world.a.id}").status_code == 403  # platform permission
    listed = b.get("/v1/organizations", params={"min_position": world.position}).json()["items"]
    assert [o["id"] for o in listed] == [world.b.id]
    assert world.a.owner.get(f"/v1/organizations/{world.a.id}").json()["name"] == world.a.name


def test_b_keys_act_in_b_whatever_ids_they_name(world: World) -> None:
    me = world.b.owner.get("/v1/me").json()
    assert me["organization_id"] == world.b.id
    created = world.b.owner.post("/v1/memories", json={"text": "B writes", "tenant_id": world.a.id})
    assert created.status_code == 422  # tenancy is never a body field


def test_a_audit_shows_a_changes_with_actors_and_nothing_of_b(world: World) -> None:
    trail = world.a.owner.get("/v1/audit", params={"min_position": world.position, "limit": 1000}).json()["items"]
    memory_events = [e for e in trail if e["aggregate_id"] == world.memory["id"]]
    assert [(e["action"], e["version"]) for e in memory_events] == [
        ("Memory.Created", 1),
        ("Memory.Updated", 2),
        ("Memory.Updated", 3),
    ]
    owner_actor = world.a.owner.get("/v1/me").json()["actor_id"]
    assert {e["actor_id"] for e in memory_events} == {owner_actor}
    assert all(e["request_id"] and e["timestamp"] for e in trail)
    actions = {e["action"] for e in trail}
    assert {"Organization.Created", "ApiKey.Created", "User.Created", "Memory.Created"} <= actions
    b_actor = world.b.owner.get("/v1/me").json()["actor_id"]
    assert b_actor not in {e["actor_id"] for e in trail}
    b_trail = world.b.owner.get("/v1/audit", params={"aggregate_id": world.memory["id"]}).json()["items"]
    assert b_trail == []


BODIES: dict[str, dict[str, Any]] = {
    "/messages": {"messages": [{"role": "user", "content": "hi"}], "query": "hi"},
    "/messages/search": {"messages": [{"role": "user", "content": "hi"}], "query": "hi"},
    "/blocks": {"block_ids": [str(uuid.uuid4())]},
    "/append": {"text": "more"},
    "/revert": {"version": 1},
    "/run": {"args": {}},
    "/reextract": {},
    "/retry": {},
}


def plausible_body(path: str) -> dict[str, Any]:
    """A body that passes validation where one is needed, so the lookup itself is what answers."""
    suffix = next((s for s in BODIES if path.endswith(s)), None)
    return BODIES[suffix] if suffix else {"text": "B was here", "name": "B was here"}


def a_run(container: Container, tenant_id: str, agent_id: str) -> uuid.UUID:
    """A run of A's agent, recorded as the chat loop records one (no model is configured here)."""
    start = RunStart(uuid.UUID(agent_id), "openai", "gpt-4o-mini", "sha256:x", 1, 10)
    run_id = uuid.uuid4()
    container.runs.start(run_id, start, Context(tenant_id, "key:a", "r-a"))
    return run_id


def test_every_route_treats_a_ids_exactly_like_missing_ids(world: World, container: Container) -> None:
    """For each route with an id in its path, B gets the same answer for A's id as for an unknown one."""
    from tests.api.test_auth import app_routes

    a = world.a.owner
    block = a.post("/v1/blocks", json={"label": "persona", "value": "A's persona"}).json()
    agent = a.post("/v1/agents", json={"name": "a-agent", "block_ids": [block["id"]]}).json()
    message = a.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "hi"}]})
    tool = a.post("/v1/tools", json={"name": "a_tool", "language": "bash", "source": "echo 1"}).json()
    with scripted(container, ScriptedModel()):  # queued only: the job never runs here
        queued = a.post("/v1/memories", json={"messages": [{"role": "user", "content": "I live in Oslo"}]}).json()
    ids = {
        "memory_id": world.memory["id"],
        "user_id": world.user["id"],
        "api_key_id": world.key["id"],
        "organization_id": world.a.id,
        "block_id": block["id"],
        "agent_id": agent["id"],
        "message_id": message.json()["messages"][0]["id"],
        "tool_id": tool["id"],
        "job_id": queued["job_id"],
        "episode_id": queued["episode_id"],
        "run_id": str(a_run(container, world.a.id, agent["id"])),
    }
    statuses: list[int] = []
    for method, path, handler in app_routes(a.http.app):
        names = re.findall(r"\{(\w+):uuid\}", path)
        if not names or handler.opt.get("public"):
            continue
        assert set(names) <= set(ids), f"no id of A for {path}"
        theirs = re.sub(r"\{(\w+):uuid\}", lambda m: ids[m.group(1)], path)
        missing = re.sub(r"\{(\w+):uuid\}", lambda _: str(uuid.uuid4()), path)
        body = plausible_body(path)
        on_theirs = world.b.owner.request(method, theirs, json=body)
        on_missing = world.b.owner.request(method, missing, json=body)
        assert on_theirs.status_code == on_missing.status_code, (method, path, on_theirs.text, on_missing.text)
        assert on_theirs.status_code in (403, 404, 422), (method, path, on_theirs.text)
        statuses.append(on_theirs.status_code)
    assert len(statuses) >= 25 and statuses.count(404) >= 25
    assert a.get(f"/v1/memories/{world.memory['id']}").json()["version"] == 3
    assert a.get(f"/v1/blocks/{block['id']}").json()["version"] == block["version"]
    assert a.get(f"/v1/agents/{agent['id']}").json()["version"] == agent["version"]
    assert a.get(f"/v1/tools/{tool['id']}").json()["version"] == tool["version"]
    assert a.get(f"/v1/users/{world.user['id']}").json()["version"] == world.user["version"]
    assert ApiClient(a.http, world.key["key"]).get("/v1/me").status_code == 200

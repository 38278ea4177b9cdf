"""/v1/agents over HTTP: the compiled context before and after an edit and as of then, tags, blocks, templates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest


def post(client: Any, url: str, body: dict) -> dict:
    response = client.post(url, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_context_shows_both_blocks_follows_an_edit_rewinds_with_as_of_and_revert_restores(client: Any) -> None:
    persona = post(client, "/v1/blocks", {"label": "persona", "value": "I am Ada, a patient tutor.", "limit": 500})
    human = post(client, "/v1/blocks", {"label": "human", "value": "Sam is learning French.", "limit": 100})
    agent = post(
        client,
        "/v1/agents",
        {"name": "tutor", "system": "Teach kindly.", "block_ids": [persona["id"], human["id"]]},
    )
    url = f"/v1/agents/{agent['id']}/context"
    before = client.get(url).json()
    assert "Teach kindly." in before["context"]
    assert "I am Ada, a patient tutor." in before["context"] and "Sam is learning French." in before["context"]
    assert "chars_current=26" in before["context"] and "chars_limit=500" in before["context"]
    assert "chars_current=23" in before["context"] and "chars_limit=100" in before["context"]
    assert [(b["label"], b["size"], b["limit"]) for b in before["blocks"]] == [("persona", 26, 500), ("human", 23, 100)]

    instant = datetime.now(UTC).isoformat()
    edited = client.patch(f"/v1/blocks/{human['id']}", json={"value": "Sam is learning Spanish."})
    assert edited.status_code == 200
    after = client.get(url).json()
    assert "Sam is learning Spanish." in after["context"] and "French" not in after["context"]
    then = client.get(url, params={"as_of": instant}).json()
    assert then["context"] == before["context"] and then["as_of"] is not None

    reverted = client.post(f"/v1/blocks/{human['id']}/revert", json={"version": 1})
    assert reverted.status_code == 200 and reverted.json()["version"] == 3
    assert client.get(url).json()["context"] == before["context"]

    over = client.post(f"/v1/blocks/{human['id']}/append", json={"text": "x" * 80})
    assert over.status_code == 422 and (over.json()["limit"], over.json()["size"]) == (100, 104)


def test_a_shared_block_is_seen_by_two_agents(client: Any) -> None:
    shared = post(client, "/v1/blocks", {"label": "company", "value": "We sell anvils."})
    first = post(client, "/v1/agents", {"name": "sales", "block_ids": [shared["id"]]})
    second = post(client, "/v1/agents", {"name": "support", "block_ids": [shared["id"]]})
    client.post(f"/v1/blocks/{shared['id']}/append", json={"text": "And rockets."})
    for agent in (first, second):
        context = client.get(f"/v1/agents/{agent['id']}/context").json()["context"]
        assert "We sell anvils.\nAnd rockets." in context


def test_attach_and_detach_blocks(client: Any) -> None:
    block = post(client, "/v1/blocks", {"label": "notes", "value": "remember the milk"})
    agent = post(client, "/v1/agents", {"name": "helper"})
    attached = client.post(
        f"/v1/agents/{agent['id']}/blocks", json={"block_ids": [block["id"]]}, headers={"If-Match": "1"}
    )
    assert attached.status_code == 200 and attached.json()["block_ids"] == [block["id"]]
    listed = client.get(f"/v1/agents/{agent['id']}/blocks").json()
    assert [b["label"] for b in listed] == ["notes"]
    assert "remember the milk" in client.get(f"/v1/agents/{agent['id']}/context").json()["context"]
    detached = client.delete(f"/v1/agents/{agent['id']}/blocks/{block['id']}")
    assert detached.status_code == 200 and detached.json()["block_ids"] == []
    assert client.delete(f"/v1/agents/{agent['id']}/blocks/{block['id']}").status_code == 404
    unknown = client.post(f"/v1/agents/{agent['id']}/blocks", json={"block_ids": [str(uuid.uuid4())]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "block_ids[0]"


def test_an_agent_is_versioned_like_everything_else(client: Any) -> None:
    agent = post(
        client,
        "/v1/agents",
        {"name": "v", "llm": {"provider": "anthropic", "model": "claude-sonnet-4", "temperature": 0.3}},
    )
    url = f"/v1/agents/{agent['id']}"
    assert agent["llm"] == {"provider": "anthropic", "model": "claude-sonnet-4", "temperature": 0.3}
    assert client.patch(url, json={"system": "New rules."}, headers={"If-Match": "1"}).status_code == 200
    stale = client.patch(url, json={"system": "Lost update."}, headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert client.get(url, params={"version": 1}).json()["system"] == ""
    assert [v["event_type"] for v in client.get(f"{url}/history").json()["versions"]] == ["Created", "Updated"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404 and client.get(f"{url}/context").status_code == 404
    assert client.post(f"{url}/restore").status_code == 200


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ blocks|attr('__class__') }}",
        "{% for x in range(100000) %}{% for y in range(100000) %}{% endfor %}{% endfor %}",
        "{% if %}",
    ],
)
def test_unsafe_or_broken_templates_are_refused_at_save_time(client: Any, template: str) -> None:
    created = client.post("/v1/agents", json={"name": "sneaky", "context_template": template})
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == "context_template"
    agent = post(client, "/v1/agents", {"name": "honest"})
    patched = client.patch(f"/v1/agents/{agent['id']}", json={"context_template": template})
    assert patched.status_code == 422
    assert client.get(f"/v1/agents/{agent['id']}").json()["version"] == 1


def test_a_custom_template_compiles_the_context(client: Any) -> None:
    block = post(client, "/v1/blocks", {"label": "human", "value": "Sam", "limit": 10})
    template = (
        "{{ agent.name }}: {{ system }}"
        "{% for b in blocks %} <{{ b.label }} {{ b.size }}/{{ b.limit }}>{{ b.value }}{% endfor %}"
    )
    agent = post(
        client, "/v1/agents", {"name": "tpl", "system": "Hi.", "block_ids": [block["id"]], "context_template": template}
    )
    assert client.get(f"/v1/agents/{agent['id']}/context").json()["context"] == "tpl: Hi. <human 3/10>Sam"


@pytest.mark.usefixtures("worker")
def test_agents_are_listed_by_tag_with_cursor_pages(client: Any) -> None:
    tag = f"t{uuid.uuid4().hex[:10]}"
    agents = [post(client, "/v1/agents", {"name": f"a{i}", "tags": [tag, f"n{i % 2}"]}) for i in range(5)]
    position = agents[-1]["position"]
    first = client.get("/v1/agents", params={"tag": tag, "limit": 2, "min_position": position})
    assert first.status_code == 200, first.text
    pages, cursor = [first.json()], first.json()["next_cursor"]
    while cursor:
        pages.append(client.get("/v1/agents", params={"tag": tag, "limit": 2, "cursor": cursor}).json())
        cursor = pages[-1]["next_cursor"]
    assert [a["name"] for p in pages for a in p["items"]] == ["a4", "a3", "a2", "a1", "a0"]
    both = client.get("/v1/agents", params={"tag": [tag, "n0"], "order": "created_asc"}).json()["items"]
    assert [a["name"] for a in both] == ["a0", "a2", "a4"]
    renamed = client.patch(f"/v1/agents/{agents[0]['id']}", json={"tags": ["gone"]}).json()
    left = client.get("/v1/agents", params={"tag": tag, "min_position": renamed["position"]}).json()["items"]
    assert "a0" not in [a["name"] for a in left]

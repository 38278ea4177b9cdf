"""Blocks, agents and conversations belong to one organization, and roles limit what a key may do with them."""

from __future__ import annotations

import uuid

import pytest

from tests.clients import ApiClient, Org, create_org


@pytest.fixture(scope="module")
def stranger(admin: ApiClient) -> ApiClient:
    """The owner of another organization."""
    return create_org(admin).owner


def setup_agent(client: ApiClient, label: str) -> tuple[dict, dict, dict]:
    block = client.post("/v1/blocks", json={"label": label, "value": "private facts"}).json()
    agent = client.post("/v1/agents", json={"name": "mine", "tags": [label], "block_ids": [block["id"]]}).json()
    said = client.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "secret"}]})
    return block, agent, said.json()


def test_another_organization_sees_none_of_it(client: ApiClient, stranger: ApiClient) -> None:
    block, agent, said = setup_agent(client, f"l{uuid.uuid4().hex[:10]}")
    message_id = said["messages"][0]["id"]
    for url in (
        f"/v1/blocks/{block['id']}",
        f"/v1/blocks/{block['id']}/history",
        f"/v1/agents/{agent['id']}",
        f"/v1/agents/{agent['id']}/context",
        f"/v1/agents/{agent['id']}/blocks",
        f"/v1/agents/{agent['id']}/messages",
        f"/v1/agents/{agent['id']}/messages/{message_id}",
    ):
        assert stranger.get(url).status_code == 404, url
    assert stranger.patch(f"/v1/blocks/{block['id']}", json={"value": "mine now"}).status_code == 404
    assert (
        stranger.post(
            f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "x"}]}
        ).status_code
        == 404
    )
    assert stranger.post(f"/v1/agents/{agent['id']}/messages/search", json={"query": "secret"}).status_code == 404
    theirs = stranger.post("/v1/agents", json={"name": "theirs"}).json()
    attach = stranger.post(f"/v1/agents/{theirs['id']}/blocks", json={"block_ids": [block["id"]]})
    assert attach.status_code == 422
    assert client.get(f"/v1/blocks/{block['id']}").json()["value"] == "private facts"


@pytest.mark.usefixtures("worker")
def test_lists_show_only_the_callers_rows(client: ApiClient, stranger: ApiClient) -> None:
    label = f"l{uuid.uuid4().hex[:10]}"
    block, agent, _ = setup_agent(client, label)
    position = agent["position"]
    assert [
        b["id"] for b in client.get("/v1/blocks", params={"label": label, "min_position": position}).json()["items"]
    ] == [block["id"]]
    assert stranger.get("/v1/blocks", params={"label": label, "min_position": position}).json()["items"] == []
    assert stranger.get("/v1/blocks", params={"agent_id": agent["id"], "min_position": position}).json()["items"] == []
    assert stranger.get("/v1/agents", params={"tag": label, "min_position": position}).json()["items"] == []
    assert len(client.get("/v1/agents", params={"tag": label}).json()["items"]) == 1


def test_a_viewer_reads_but_cannot_write(org: Org, client: ApiClient) -> None:
    block, agent, said = setup_agent(client, f"l{uuid.uuid4().hex[:10]}")
    viewer = org.client_with_role("viewer")
    assert viewer.get(f"/v1/blocks/{block['id']}").status_code == 200
    assert viewer.get(f"/v1/agents/{agent['id']}/context").status_code == 200
    assert viewer.get(f"/v1/agents/{agent['id']}/messages").status_code == 200
    for response in (
        viewer.post("/v1/blocks", json={"label": "human"}),
        viewer.post(f"/v1/blocks/{block['id']}/append", json={"text": "x"}),
        viewer.post(f"/v1/blocks/{block['id']}/revert", json={"version": 1}),
        viewer.delete(f"/v1/blocks/{block['id']}"),
        viewer.post("/v1/agents", json={"name": "nope"}),
        viewer.patch(f"/v1/agents/{agent['id']}", json={"name": "nope"}),
        viewer.delete(f"/v1/agents/{agent['id']}/blocks/{block['id']}"),
        viewer.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "x"}]}),
    ):
        assert response.status_code == 403
    assert client.get(f"/v1/blocks/{block['id']}").json()["version"] == 1
    assert said["messages"][0]["content"] == "secret"

"""/v1/agents/{id}/messages over HTTP: append, list in order with cursors, read by id, hybrid search."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


def new_agent(client: Any) -> str:
    response = client.post("/v1/agents", json={"name": "chatty"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def append(client: Any, agent_id: str, *messages: dict) -> dict:
    response = client.post(f"/v1/agents/{agent_id}/messages", json={"messages": list(messages)})
    assert response.status_code == 201, response.text
    return response.json()


def test_appended_messages_are_listed_in_order_with_cursor_pages(client: Any) -> None:
    agent_id = new_agent(client)
    first = append(client, agent_id, {"role": "system", "content": "Be nice."}, {"role": "user", "content": "Hi!"})
    assert [m["seq"] for m in first["messages"]] == [0, 1] and first["position"] > 0
    for i in range(5):
        append(client, agent_id, {"role": "assistant" if i % 2 else "user", "content": f"turn {i}"})
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/agents/{agent_id}/messages", params=params).json()
        seen += [m["content"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Be nice.", "Hi!", *[f"turn {i}" for i in range(5)]]
    newest = client.get(f"/v1/agents/{agent_id}/messages", params={"order": "desc", "limit": 2}).json()
    assert [m["content"] for m in newest["items"]] == ["turn 4", "turn 3"]
    bad = client.get(f"/v1/agents/{agent_id}/messages", params={"cursor": newest["next_cursor"]})
    assert bad.status_code == 400


def test_a_message_is_read_by_id_with_its_tool_calls(client: Any) -> None:
    agent_id = new_agent(client)
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}
    appended = append(
        client,
        agent_id,
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "12 degrees", "tool_call_id": "call_1", "name": "weather"},
    )
    tool_call, result = appended["messages"]
    fetched = client.get(f"/v1/agents/{agent_id}/messages/{tool_call['id']}").json()
    assert fetched["tool_calls"] == [call] and fetched["role"] == "assistant"
    assert client.get(f"/v1/agents/{agent_id}/messages/{result['id']}").json()["tool_call_id"] == "call_1"
    other = new_agent(client)
    assert client.get(f"/v1/agents/{other}/messages/{result['id']}").status_code == 404
    assert client.get(f"/v1/agents/{agent_id}/messages/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages[0].content"),
        (
            {"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "x", "tool_call_id": "c"}]},
            "messages[1].tool_call_id",
        ),
        ({"messages": []}, "messages"),
    ],
)
def test_bad_messages_get_422_and_nothing_is_appended(client: Any, body: dict, field: str) -> None:
    agent_id = new_agent(client)
    response = client.post(f"/v1/agents/{agent_id}/messages", json=body)
    assert response.status_code == 422 and field in [e.get("field") for e in response.json()["errors"]]
    assert client.get(f"/v1/agents/{agent_id}/messages").json()["items"] == []


def test_an_unknown_or_deleted_agent_has_no_messages(client: Any) -> None:
    unknown = f"/v1/agents/{uuid.uuid4()}/messages"
    assert client.post(unknown, json={"messages": [{"role": "user", "content": "hi"}]}).status_code == 404
    assert client.get(unknown).status_code == 404
    agent_id = new_agent(client)
    client.delete(f"/v1/agents/{agent_id}")
    assert client.get(f"/v1/agents/{agent_id}/messages").status_code == 404


@pytest.mark.usefixtures("worker")
def test_search_finds_messages_of_one_agent_only(client: Any) -> None:
    agent_id, other_id = new_agent(client), new_agent(client)
    append(client, other_id, {"role": "user", "content": "My cat Whiskers loves tuna."})
    written = append(
        client,
        agent_id,
        {"role": "user", "content": "I adopted a cat called Whiskers last week."},
        {"role": "assistant", "content": "Lovely! What does Whiskers like to eat?"},
        {"role": "user", "content": "Mostly salmon, and she sleeps all day."},
        {"role": "user", "content": "Also, my sister lives in Lisbon."},
    )
    url = f"/v1/agents/{agent_id}/messages/search"
    found = client.post(url, json={"query": "what food does the cat eat", "min_position": written["position"]})
    assert found.status_code == 200, found.text
    results = found.json()["results"]
    assert results and {r["agent_id"] for r in results} == {agent_id}
    assert results[0]["content"] in {
        "Mostly salmon, and she sleeps all day.",
        "Lovely! What does Whiskers like to eat?",
    }
    text = client.post(url, json={"query": "Lisbon", "mode": "text"}).json()["results"]
    assert [r["content"] for r in text] == ["Also, my sister lives in Lisbon."] and text[0]["role"] == "user"
    assert text[0]["id"] == written["messages"][3]["id"] and text[0]["seq"] == 3
    assistant = client.post(url, json={"query": "Whiskers", "mode": "text", "role": "assistant"}).json()["results"]
    assert [r["role"] for r in assistant] == ["assistant"]
    assert client.post(f"/v1/agents/{uuid.uuid4()}/messages/search", json={"query": "cat"}).status_code == 404

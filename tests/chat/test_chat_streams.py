"""Streams and their faults: resume with Last-Event-ID, cancel by request and by leaving, one run per agent,
the deadline, the WebSocket and its credentials, and summaries of older turns."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from agentmem.application.chat_context import Budgets
from agentmem.application.chat_runs import ChatPolicy
from agentmem.runtime.container import Container
from tests.chat.conftest import Api, sse_events, wait_for_signal
from tests.chat.test_chat_loop import wait_for_end
from tests.clients import Org
from tests.stubs.scripted_models import ScriptedModels, Turn


def open_stream(api: Api, agent_id: str, text: str, headers: dict[str, str] | None = None) -> Any:
    body = {"messages": [{"content": text}], "stream": True}
    return api.http.stream("POST", f"/v1/agents/{agent_id}/chat", json=body, headers=headers or {})


def test_a_client_that_reconnects_with_last_event_id_gets_the_rest(api: Api, models: ScriptedModels) -> None:
    agent = api.agent()
    hold = threading.Event()
    models.add(Turn(text="one two three four five six", pieces=6, hold=hold))
    first: list[dict[str, Any]] = []
    with open_stream(api, agent["id"], "count") as response:
        for event in sse_events(response.iter_lines()):
            first.append(event)
            if event["event"] == "message.delta":
                break
    hold.set()  # the model goes on while nobody listens; the events are kept
    resumed = Api(api.url, api.key)
    with open_stream(resumed, agent["id"], "count", {"Last-Event-ID": first[-1]["id"]}) as response:
        assert response.status_code == 200
        rest = list(sse_events(response.iter_lines()))
    seqs = [int(e["id"].rsplit(":", 1)[1]) for e in first + rest]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest[-1]["event"] == "run.completed"
    text = "".join(e["data"]["text"] for e in first + rest if e["event"] == "message.delta")
    assert text == "one two three four five six"
    assert api.messages(agent["id"])[-1]["content"] == text
    again = api.get(f"/v1/runs/{first[0]['data']['run_id']}/stream", headers={"Last-Event-ID": rest[-3]["id"]})
    assert [e["event"] for e in sse_events(iter(again.text.splitlines()))][-1] == "run.completed"


def test_a_resume_of_an_unknown_stream_is_404_and_a_bad_event_id_400(api: Api) -> None:
    agent = api.agent()
    body = {"messages": [{"content": "x"}], "stream": True}
    response = api.post(f"/v1/agents/{agent['id']}/chat", json=body, headers={"Last-Event-ID": "nonsense"})
    assert response.status_code == 400
    missing = api.get("/v1/runs/0b5d6c57-8a5e-4f0e-b5f6-3c1a9a7e2d41/stream")
    assert missing.status_code == 404


def test_cancel_by_request_stops_at_the_next_step_and_keeps_what_was_said(api: Api, models: ScriptedModels) -> None:
    agent = api.agent({"label": "human", "value": "", "limit": 100})
    hold = threading.Event()
    models.add(
        Turn(text="Let me note that", calls=[("core_memory_append", {"label": "human", "content": "tea"})], hold=hold)
    )
    models.add(Turn(text="never said"))
    events: list[dict[str, Any]] = []
    with open_stream(api, agent["id"], "note tea") as response:
        for event in sse_events(response.iter_lines()):
            events.append(event)
            if event["event"] == "message.delta" and len(events) == 2:
                run_id = events[0]["data"]["run_id"]
                assert api.post(f"/v1/runs/{run_id}/cancel").status_code == 202
                hold.set()
    done = events[-1]["data"]
    assert (done["status"], done["stop_reason"], done["steps"]) == ("cancelled", "cancelled", 1)
    assert [m["role"] for m in api.messages(agent["id"])] == ["user", "assistant", "tool"]
    run = api.get(f"/v1/runs/{done['run_id']}").json()
    assert run["status"] == "cancelled" and "key:" in run["error"]
    assert api.post(f"/v1/runs/{done['run_id']}/cancel").status_code == 409
    models.script.clear()


def test_a_streaming_client_that_leaves_cancels_its_run(
    api: Api, models: ScriptedModels, chat_container: Container
) -> None:
    agent = api.agent()
    hold = threading.Event()
    models.add(Turn(text="looking", calls=[("memory_search", {"query": "tea"})], hold=hold), Turn(text="never"))
    with open_stream(api, agent["id"], "search") as response:
        for event in sse_events(response.iter_lines()):
            if event["event"] == "message.delta":
                run_id = event["id"].rsplit(":", 1)[0]
                break
    wait_for_signal(chat_container, "detached", run_id)
    hold.set()
    run = wait_for_end(api, run_id)
    assert (run["status"], run["error"]) == ("cancelled", "client_gone")
    assert [m["role"] for m in api.messages(agent["id"])] == ["user", "assistant", "tool"]
    models.script.clear()


def test_a_second_chat_meanwhile_gets_409_naming_the_active_run(api: Api, models: ScriptedModels) -> None:
    agent = api.agent()
    hold = threading.Event()
    models.add(Turn(text="thinking hard", hold=hold))
    with open_stream(api, agent["id"], "first") as response:
        events = sse_events(response.iter_lines())
        started = next(events)
        second = api.chat(agent["id"], "second")
        hold.set()
        rest = list(events)
    assert second.status_code == 409
    assert second.json()["active_run_id"] == started["data"]["run_id"]
    assert rest[-1]["data"]["status"] == "completed"
    assert api.chat(agent["id"], "third").status_code == 200  # the lock is gone with the run


def test_a_run_never_outlives_its_deadline(api: Api, models: ScriptedModels, chat_container: Container) -> None:
    agent = api.agent()
    hold = threading.Event()
    models.add(Turn(text="I will never finish", hold=hold))
    policy = chat_container.chat.policy
    chat_container.chat.policy = ChatPolicy(deadline=2.5, detached_grace=0)
    try:
        body = api.chat(agent["id"], "take your time").json()
    finally:
        chat_container.chat.policy = policy
        hold.set()
    assert (body["status"], body["stop_reason"]) == ("failed", "deadline")
    assert body["messages"][-1]["incomplete"] is True and body["messages"][-1]["content"] == "I will "


def ws_url(api: Api, agent_id: str) -> str:
    return api.url.replace("http://", "ws://") + f"/v1/agents/{agent_id}/ws"


def close_code(url: str, headers: dict[str, str] | None = None, first: str | None = None) -> int | None:
    with connect(url, additional_headers=headers or {}) as socket:
        if first is not None:
            socket.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=20)
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_websocket_credentials_in_the_header_or_first_frame_else_4401_or_4403(api: Api, chat_org: Org) -> None:
    url = ws_url(api, api.agent()["id"])
    assert close_code(url, {"Authorization": "Bearer am_not_a_real_key_0123456789abcdefghijkl"}) == 4401
    assert close_code(url, first=json.dumps({"type": "auth", "token": "wrong"})) == 4401
    assert close_code(url, first="not json") == 4401
    viewer = chat_org.client_with_role("viewer").secret
    assert close_code(url, {"Authorization": f"Bearer {viewer}"}) == 4403
    assert close_code(url, first=json.dumps({"type": "auth", "token": viewer})) == 4403


def test_a_websocket_chat_streams_the_same_events_and_cancels_by_message(
    api: Api, models: ScriptedModels, chat_container: Container
) -> None:
    agent = api.agent()
    models.add(Turn(text="Hello there"))
    with connect(ws_url(api, agent["id"])) as socket:
        socket.send(json.dumps({"type": "auth", "token": api.key}))
        socket.send(json.dumps({"type": "chat", "messages": [{"content": "hi"}]}))
        frames = [json.loads(socket.recv(timeout=20))]
        while frames[-1]["type"] != "run.completed":
            frames.append(json.loads(socket.recv(timeout=20)))
        assert frames[0]["type"] == "run.started"
        assert "".join(f["data"]["text"] for f in frames if f["type"] == "message.delta") == "Hello there"

        hold = threading.Event()
        models.add(Turn(text="working", calls=[("memory_search", {"query": "x"})], hold=hold), Turn(text="never"))
        socket.send(json.dumps({"type": "chat", "messages": [{"content": "work"}]}))
        started = json.loads(socket.recv(timeout=20))
        assert started["type"] == "run.started"
        socket.send(json.dumps({"type": "cancel"}))
        wait_for_signal(chat_container, "cancel", started["data"]["run_id"])
        hold.set()
        frames = [json.loads(socket.recv(timeout=20))]
        while frames[-1]["type"] != "run.completed":
            frames.append(json.loads(socket.recv(timeout=20)))
        assert frames[-1]["data"]["status"] == "cancelled" and "websocket" in frames[-1]["data"]["error"]
        socket.send(json.dumps({"type": "dance"}))
        assert json.loads(socket.recv(timeout=20))["status"] == 400
    models.script.clear()


def test_older_turns_are_summarised_into_a_summary_message(
    api: Api, models: ScriptedModels, chat_container: Container
) -> None:
    agent = api.agent()
    old = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " + "words " * 40} for i in range(30)]
    assert api.post(f"/v1/agents/{agent['id']}/messages", json={"messages": old}).status_code == 201
    builder = chat_container.chat.context
    budgets = builder.budgets
    builder.budgets = Budgets(memories=200, history=1_000)
    try:
        models.add(Turn(text="Earlier: thirty turns about words."), Turn(text="ok"))
        first = api.chat(agent["id"], "what did we say?").json()
        models.add(Turn(text="still ok"))
        api.chat(agent["id"], "and now?")
    finally:
        builder.budgets = budgets
    summaries = [m for m in api.messages(agent["id"]) if m["summary_of"] is not None]
    assert len(summaries) == 1  # the second run starts from it: no summary every turn
    summary = summaries[0]
    assert (summary["role"], summary["name"], summary["run_id"]) == ("system", "summary", first["run_id"])
    assert summary["summary_of"][0] == 0 and summary["content"].startswith("Earlier: thirty turns")
    _, step = models.requests[-1]
    assert "<conversation_summary>\nEarlier: thirty turns" in step.messages[0].content
    assert all("turn 0 " not in m.content for m in step.messages[1:])
    run = api.get(f"/v1/runs/{first['run_id']}").json()
    assert run["context"]["summary_id"] == summary["id"]
    assert run["context"]["window"][0] > summary["summary_of"][1]

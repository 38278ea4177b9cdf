"""Chatting with an agent: the tool loop, what is recorded (conversation, block history, the run), and its limits."""

from __future__ import annotations

import time
from typing import Any

from tests.chat.conftest import Api, sse_events
from tests.clients import Org
from tests.stubs.scripted_models import ScriptedModels, Turn

HUMAN = {"label": "human", "value": "Name: Ada", "limit": 200}
PERSONA = {"label": "persona", "value": "I am a careful assistant.", "read_only": True}


def stream_events(api: Api, agent_id: str, text: str, **fields: Any) -> list[dict[str, Any]]:
    body = {"messages": [{"content": text}], "stream": True, **fields}
    with api.http.stream("POST", f"/v1/agents/{agent_id}/chat", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(sse_events(response.iter_lines()))


def test_a_tool_loop_appends_to_a_block_then_answers_and_everything_is_recorded(
    api: Api, models: ScriptedModels
) -> None:
    agent = api.agent(HUMAN, PERSONA)
    models.add(Turn.call("core_memory_append", label="human", content="Likes green tea"), Turn(text="Noted!"))
    response = api.chat(agent["id"], "I like green tea")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["stop_reason"], body["steps"]) == ("completed", "end_turn", 2)
    assert [(m["role"], bool(m["tool_calls"])) for m in body["messages"]] == [
        ("assistant", True),
        ("tool", False),
        ("assistant", False),
    ]
    assert body["messages"][-1]["content"] == "Noted!"
    assert body["usage"] == {"input_tokens": 40, "output_tokens": 10, "cached_tokens": 0}
    run_id = body["run_id"]

    block_id = agent["blocks"]["human"]
    assert api.get(f"/v1/blocks/{block_id}").json()["value"] == "Name: Ada\nLikes green tea"
    last = api.get(f"/v1/blocks/{block_id}/history").json()["versions"][-1]
    assert (last["actor_id"], last["request_id"]) == (f"agent:{agent['id']}", f"run:{run_id}")

    conversation = api.messages(agent["id"])
    assert [m["role"] for m in conversation] == ["user", "assistant", "tool", "assistant"]
    assert {m["run_id"] for m in conversation} == {run_id}
    assert conversation[0]["created_by"].startswith("key:")  # the caller said it
    assert {m["created_by"] for m in conversation[1:]} == {f"agent:{agent['id']}"}

    run = api.get(f"/v1/runs/{run_id}").json()
    assert (run["status"], run["stop_reason"], run["agent_id"]) == ("completed", "end_turn", agent["id"])
    assert [s["tool_calls"] for s in run["steps"]] == [["core_memory_append"], []]
    assert all(s["input_tokens"] == 20 and s["duration_ms"] >= s["model_ms"] for s in run["steps"])
    assert run["context"]["window"] == [0, 0]
    assert {b["label"] for b in run["context"]["blocks"]} == {"human", "persona"}

    _, request = models.requests[-2]
    assert "Name: Ada" in request.messages[0].content  # the compiled blocks are in the system prompt
    assert {t.name for t in request.tools} >= {"core_memory_append", "memory_search", "conversation_search"}


def test_the_runs_context_hash_is_the_hash_of_the_context_at_its_start(api: Api, models: ScriptedModels) -> None:
    agent = api.agent(dict(HUMAN))
    models.add(Turn.call("core_memory_append", label="human", content="Lives in Lisbon"), Turn(text="ok"))
    run_id = api.chat(agent["id"], "I live in Lisbon").json()["run_id"]
    run = api.get(f"/v1/runs/{run_id}").json()
    then = api.get(f"/v1/agents/{agent['id']}/context", params={"as_of": run["started_at"]}).json()
    now = api.get(f"/v1/agents/{agent['id']}/context").json()
    assert run["context_hash"] == then["hash"]
    assert now["hash"] != then["hash"]  # the agent's own edit changed its context after the start


def test_streamed_events_come_in_order_and_say_what_the_plain_answer_says(api: Api, models: ScriptedModels) -> None:
    agent = api.agent(dict(HUMAN))
    script = [Turn.call("core_memory_append", label="human", content="Has a cat"), Turn(text="A cat! Lovely.")]
    models.add(*script)
    plain = api.chat(agent["id"], "I have a cat").json()
    models.add(*script)
    events = stream_events(api, agent["id"], "I have a cat")
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run.started" and kinds[-1] == "run.completed"
    assert [k for k in kinds if k != "message.delta"] == [
        "run.started",
        "tool.call",
        "message.completed",
        "tool.result",
        "message.completed",
        "run.completed",
    ]
    assert kinds.index("tool.result") < kinds.index("message.delta")
    assert [int(e["id"].rsplit(":", 1)[1]) for e in events] == list(range(1, len(events) + 1))
    text = "".join(e["data"]["text"] for e in events if e["event"] == "message.delta")
    assert text == plain["messages"][-1]["content"] == "A cat! Lovely."
    call = next(e["data"] for e in events if e["event"] == "tool.call")
    assert (call["name"], call["arguments"]) == ("core_memory_append", {"label": "human", "content": "Has a cat"})
    done = events[-1]["data"]
    assert (done["status"], done["stop_reason"], done["steps"]) == ("completed", "end_turn", 2)


def test_max_steps_ends_the_run_with_that_stop_reason(api: Api, models: ScriptedModels) -> None:
    agent = api.agent(dict(HUMAN))
    models.add(*(Turn.call("memory_search", query=f"tea {i}") for i in range(3)))
    body = api.chat(agent["id"], "search a lot", max_steps=2).json()
    assert (body["status"], body["stop_reason"], body["steps"]) == ("completed", "max_steps", 2)
    models.script.clear()


def test_a_refused_edit_goes_back_to_the_model_as_the_tools_result(api: Api, models: ScriptedModels) -> None:
    agent = api.agent(dict(HUMAN), dict(PERSONA))
    models.add(
        Turn.call("core_memory_replace", label="persona", old_content="careful", new_content="reckless"),
        Turn.call("core_memory_append", label="human", content="x" * 500),
        Turn(text="I could not change those."),
    )
    body = api.chat(agent["id"], "change yourself").json()
    assert body["status"] == "completed"
    results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
    assert '"status": 409' in results[0] and "read-only" in results[0]
    assert '"status": 422' in results[1]
    _, last_request = models.requests[-1]
    assert last_request.messages[-1].role == "tool" and "422" in last_request.messages[-1].content


def test_memory_insert_is_found_by_memory_search_in_the_same_run(api: Api, models: ScriptedModels) -> None:
    agent = api.agent()
    models.add(
        Turn.call("memory_insert", text="Ada's sister is called Grace"),
        Turn.call("memory_search", query="who is Ada's sister?"),
        Turn(text="Grace."),
    )
    body = api.chat(agent["id"], "remember my sister Grace", user_id="ada").json()
    found = [m["content"] for m in body["messages"] if m["role"] == "tool"][1]
    assert "Ada's sister is called Grace" in found


def test_the_model_error_mid_stream_fails_the_run_and_keeps_the_partial_answer(
    api: Api, models: ScriptedModels
) -> None:
    agent = api.agent()
    models.add(Turn(text="The answer is forty-two, because", pieces=4, fail_after=2))
    events = stream_events(api, agent["id"], "what is the answer?")
    kinds = [e["event"] for e in events]
    assert kinds[-2:] == ["error", "run.completed"]
    assert events[-1]["data"]["status"] == "failed" and "broke off" in events[-2]["data"]["detail"]
    said = "".join(e["data"]["text"] for e in events if e["event"] == "message.delta")
    last = api.messages(agent["id"])[-1]
    assert (last["role"], last["content"], last["incomplete"]) == ("assistant", said, True)
    run = api.get(f"/v1/runs/{events[0]['data']['run_id']}").json()
    assert (run["status"], run["stop_reason"]) == ("failed", "error")


def test_without_a_model_chat_answers_503_naming_the_setting(api: Api, models: ScriptedModels) -> None:
    agent = api.agent()
    models.configured = False
    try:
        response = api.chat(agent["id"], "hello")
    finally:
        models.configured = True
    assert response.status_code == 503
    assert "AGENTMEM_LLM" in response.json()["detail"]
    assert api.messages(agent["id"]) == []


def test_another_tenants_agent_is_404_and_a_viewer_cannot_chat(api: Api, chat_org: Org, admin: Any) -> None:
    from tests.clients import create_org

    other = create_org(admin)
    stranger = Api(api.url, other.owner_key)
    agent = api.agent()
    assert stranger.chat(agent["id"], "hello").status_code == 404
    viewer = Api(api.url, chat_org.client_with_role("viewer").secret or "")
    refused = viewer.chat(agent["id"], "hello")
    assert refused.status_code == 403
    assert viewer.get(f"/v1/agents/{agent['id']}/runs").status_code == 200


def test_an_agents_runs_are_listed_newest_first(api: Api, models: ScriptedModels) -> None:
    agent = api.agent()
    first = api.chat(agent["id"], "one").json()
    second = api.chat(agent["id"], "two").json()
    page = api.get(f"/v1/agents/{agent['id']}/runs", params={"min_position": second["position"]}).json()
    assert [r["id"] for r in page["items"]] == [second["run_id"], first["run_id"]]
    assert {r["status"] for r in page["items"]} == {"completed"}
    assert page["items"][0]["steps"] == 1


def wait_for_end(api: Api, run_id: str, seconds: float = 30) -> dict[str, Any]:
    """Reads the run until it has ended (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = api.get(f"/v1/runs/{run_id}").json()
        if run["status"] != "running":
            return dict(run)
    raise AssertionError(f"run {run_id} did not end in {seconds} s")

"""One streamed chat through the real openai SDK against a local OpenAI-compatible server: the model appends to a
block with `core_memory_append`, then answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from agentmem.infrastructure.settings import LLMSettings, Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container
from tests.chat.conftest import sse_events
from tests.clients import ApiClient, create_org
from tests.live import live_server
from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIChatStub]:
    with OpenAIChatStub() as server:
        yield server


@pytest.fixture(scope="module")
def openai_url(settings: Settings, stub: OpenAIChatStub, worker: Worker) -> Iterator[str]:
    llm = LLMSettings(
        provider="openai_compatible", model="llama-stub", base_urls={"openai_compatible": stub.base_url}, timeout=10
    )
    configured = replace(settings, llm=llm)
    container = Container(configured)
    try:
        with live_server(configured, container) as url:
            yield url
    finally:
        container.memories.close()


def test_a_streamed_chat_shows_the_tool_call_its_result_and_the_text_in_order(
    openai_url: str, stub: OpenAIChatStub, admin: ApiClient
) -> None:
    org = create_org(admin)
    http = httpx.Client(base_url=openai_url, headers={"Authorization": f"Bearer {org.owner_key}"}, timeout=60)
    block = http.post("/v1/blocks", json={"label": "human", "value": "Name: Ada"}).json()
    agent = http.post("/v1/agents", json={"name": "a", "block_ids": [block["id"]]}).json()
    stub.add(
        Reply.calls(("core_memory_append", {"label": "human", "content": "Likes green tea"})),
        Reply(text="I will remember that you like green tea.", input_tokens=50, output_tokens=9),
    )
    body = {"messages": [{"content": "I like green tea"}], "stream": True}
    with http.stream("POST", f"/v1/agents/{agent['id']}/chat", json=body) as response:
        assert response.status_code == 200
        events = list(sse_events(response.iter_lines()))
    kinds = [e["event"] for e in events if e["event"] in ("tool.call", "tool.result", "message.delta")]
    assert kinds[:2] == ["tool.call", "tool.result"] and set(kinds[2:]) == {"message.delta"}
    text = "".join(e["data"]["text"] for e in events if e["event"] == "message.delta")
    assert text == "I will remember that you like green tea."
    run_id = events[0]["data"]["run_id"]
    assert events[-1]["data"]["status"] == "completed"

    assert http.get(f"/v1/blocks/{block['id']}").json()["value"] == "Name: Ada\nLikes green tea"
    last = http.get(f"/v1/blocks/{block['id']}/history").json()["versions"][-1]
    assert (last["actor_id"], last["request_id"]) == (f"agent:{agent['id']}", f"run:{run_id}")
    conversation = http.get(f"/v1/agents/{agent['id']}/messages").json()["items"]
    assert [m["role"] for m in conversation] == ["user", "assistant", "tool", "assistant"]
    assert json.loads(conversation[1]["tool_calls"][0]["function"]["arguments"]) == {
        "label": "human",
        "content": "Likes green tea",
    }
    run = http.get(f"/v1/runs/{run_id}").json()
    assert [(s["input_tokens"], s["output_tokens"]) for s in run["steps"]] == [(11, 7), (50, 9)]
    assert (run["provider"], run["model"]) == ("openai_compatible", "llama-stub")

    sent = stub.seen[-1].body
    assert sent["stream"] is True and sent["model"] == "llama-stub"
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool"]
    assert "Name: Ada" in sent["messages"][0]["content"]
    assert {t["function"]["name"] for t in sent["tools"]} >= {"core_memory_append", "core_memory_replace"}
    usage = http.get("/v1/usage", params={"group_by": "purpose", "min_position": events[-1]["data"]["position"]})
    assert usage.json()["groups"][0]["key"] == "chat"
    http.close()

"""The Python client's chat group: a whole answer, a stream, and a stream resumed after a dropped connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
from agentmem_client import AgentMem

from agentmem.application.chat_runs import ChatPolicy
from agentmem.runtime.container import Container
from tests.chat.conftest import Api
from tests.stubs.scripted_models import ScriptedModels, Turn


class Broken(httpx.SyncByteStream):
    """A response body that breaks off after its first chunk, as a dropped connection does."""

    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            yield chunk
            raise httpx.ReadError("connection dropped")

    def close(self) -> None:
        self.inner.close()


class DropFirstStream(httpx.HTTPTransport):
    """Breaks the first event stream it carries; everything else passes."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.dropped or "text/event-stream" not in response.headers.get("content-type", ""):
            return response
        self.dropped += 1
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(response.status_code, headers=response.headers, stream=Broken(response.stream))


def test_send_answers_with_the_runs_messages_and_the_run_reads_back(api: Api, models: ScriptedModels) -> None:
    agent = api.agent({"label": "human", "value": "Ada"})
    models.add(Turn.call("core_memory_append", label="human", content="tea"), Turn(text="Tea it is."))
    with AgentMem(api.url, api.key) as am:
        result = am.chat.send(agent["id"], "I drink tea")
        assert (result.status, result.text, result.steps) == ("completed", "Tea it is.", 2)
        run = am.chat.get_run(result.run_id)
        assert [s["tool_calls"] for s in run.steps] == [["core_memory_append"], []]
        assert [r["id"] for r in am.chat.list_runs(agent["id"]).items] == [result.run_id]


def test_a_stream_dropped_mid_run_is_resumed_without_losing_or_repeating_events(
    api: Api, models: ScriptedModels, chat_container: Container
) -> None:
    chat_container.chat.policy = ChatPolicy(deadline=60, detached_grace=30)  # time to come back
    agent = api.agent()
    hold = threading.Event()
    models.add(Turn(text="alpha beta gamma delta", pieces=4, hold=hold))
    transport = DropFirstStream()
    http = httpx.Client(base_url=api.url, transport=transport, timeout=60)
    seen = []
    with AgentMem(api.url, api.key, http_client=http) as am:
        for event in am.chat.stream(agent["id"], "say four words"):
            seen.append(event)
            hold.set()
    chat_container.chat.policy = ChatPolicy(deadline=60, detached_grace=0)
    assert transport.dropped == 1
    assert [int(e.id.rsplit(":", 1)[1]) for e in seen] == list(range(1, len(seen) + 1))
    assert "".join(e.data["text"] for e in seen if e.event == "message.delta") == "alpha beta gamma delta"
    assert seen[-1].event == "run.completed" and seen[-1].data["status"] == "completed"

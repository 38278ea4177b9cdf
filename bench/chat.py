"""The `chat` section: the step loop's own overhead with a stub model answering after a fixed delay, the time from
the model's first token to the first SSE byte at the client, and concurrent chats on many agents.

The stub is an OpenAI-compatible server in this process (the server under test reaches it through
AGENTMEM_LLM=openai_compatible:bench-stub): a user message containing "remember" gets a `core_memory_append` tool
call, anything else a short text, each streamed after `delay` seconds. It notes when it writes each first token,
on the same monotonic clock as the client, so the first-byte figure needs no clock sync.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from agentmem.bench.client import stats
from agentmem.bench.server import LocalServer

STUB_MODEL = "bench-stub"
STUB_DELAY = 0.05
"""Seconds the stub model waits before answering (a fast hosted model's time to first token)."""
ANSWER = ["Noted", ", thank", " you", "."]


class ChatStub:
    """An OpenAI-compatible chat server answering every streamed call after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.first_tokens: list[float] = []
        self.calls = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                stub.calls += 1
                time.sleep(stub.delay)
                last = body["messages"][-1]
                remember = last["role"] == "user" and "remember" in str(last.get("content"))
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for index, event in enumerate(stub.events(remember)):
                    if index == 0:
                        stub.first_tokens.append(time.perf_counter())
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self, remember: bool) -> list[dict[str, Any]]:
        usage = {"prompt_tokens": 200, "completion_tokens": 8, "total_tokens": 208}
        done: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": STUB_MODEL}
        done["choices"] = []

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {**done, "choices": [choice]}

        if remember:
            arguments = json.dumps({"label": "human", "content": "likes tea"})
            function = {"name": "core_memory_append", "arguments": arguments}
            call = {"index": 0, "id": "call_0", "type": "function", "function": function}
            return [
                chunk({"role": "assistant", "tool_calls": [call]}),
                chunk({}, "tool_calls"),
                {**done, "usage": usage},
            ]
        return [
            *(chunk({"content": piece}) for piece in ANSWER),
            chunk({}, "stop"),
            {**done, "usage": usage},
        ]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def env(self) -> dict[str, str]:
        """What the server under test needs to call this stub."""
        return {"AGENTMEM_LLM": f"openai_compatible:{STUB_MODEL}", "AGENTMEM_LLM_BASE_URL": self.base_url}

    def __enter__(self) -> ChatStub:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def make_agents(http: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for i in range(count):
        block = (await http.post("/v1/blocks", json={"label": "human", "value": f"user {i}", "limit": 100_000})).json()
        agent = await http.post("/v1/agents", json={"name": f"bench-{i}", "block_ids": [block["id"]]})
        ids.append(agent.json()["id"])
    return ids


async def overhead(http: httpx.AsyncClient, agent_id: str, chats: int, delay: float) -> dict[str, Any]:
    """Sequential two-step chats (a core_memory_append, then an answer): each step's time minus its model call; the
    model call minus the stub's delay (SDK, HTTP, metering); the run's time outside its steps (HTTP, start, caller's
    messages, recall, context, end); and the client's latency minus the stub's delays, per step."""
    step_overheads: list[float] = []
    per_step: list[float] = []
    model_calls: list[float] = []
    outside_steps: list[float] = []
    for _ in range(chats):
        started = time.perf_counter()
        answer = await http.post(f"/v1/agents/{agent_id}/chat", json={"messages": [{"content": "remember: tea"}]})
        latency = (time.perf_counter() - started) * 1000
        body = answer.json()
        assert body["status"] == "completed", body
        run = (await http.get(f"/v1/runs/{body['run_id']}")).json()
        step_overheads += [s["duration_ms"] - s["model_ms"] for s in run["steps"]]
        model_calls += [s["model_ms"] - delay * 1000 for s in run["steps"]]
        outside_steps.append(latency - sum(s["duration_ms"] for s in run["steps"]))
        per_step.append((latency - delay * 1000 * body["steps"]) / body["steps"])
    return {
        "step_minus_model_ms": stats(step_overheads),
        "model_call_minus_stub_delay_ms": stats(model_calls),
        "run_outside_steps_ms": stats(outside_steps),
        "client_latency_minus_stub_delay_per_step_ms": stats(per_step),
    }


async def first_byte(http: httpx.AsyncClient, stub: ChatStub, agent_id: str, chats: int) -> dict[str, Any]:
    """Streamed one-step chats: the first `message.delta` at the client after the stub wrote its first token."""
    samples = []
    for _ in range(chats):
        body = {"messages": [{"content": "hello"}], "stream": True}
        async with http.stream("POST", f"/v1/agents/{agent_id}/chat", json=body) as response:
            seen = None
            async for line in response.aiter_lines():
                if seen is None and line == "event: message.delta":
                    seen = time.perf_counter()
            assert seen is not None
        samples.append((seen - stub.first_tokens[-1]) * 1000)
    return stats(samples)


async def concurrent(http: httpx.AsyncClient, agents: list[str]) -> dict[str, Any]:
    """One two-step chat on every agent at once."""

    async def one(agent_id: str) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            answer = await http.post(f"/v1/agents/{agent_id}/chat", json={"messages": [{"content": "remember: tea"}]})
            ok = answer.status_code == 200 and answer.json()["status"] == "completed"
        except httpx.HTTPError:
            ok = False
        return ok, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    results = await asyncio.gather(*(one(a) for a in agents))
    wall = time.perf_counter() - started
    return {
        "chats": len(agents),
        "errors": sum(1 for ok, _ in results if not ok),
        "wall_s": round(wall, 2),
        "latency_ms": stats([ms for _, ms in results]),
    }


async def chat_section(data_dir: Path, quick: bool, concurrency: int = 50) -> dict[str, Any]:
    """Starts its own server whose model is the stub (the other sections' server has another stub or none)."""
    with ChatStub(STUB_DELAY) as stub:
        server = LocalServer(data_dir, env=stub.env())
        server.start()
        try:
            return await measure(server.url, server.api_key, stub, 20 if quick else 100, concurrency)
        finally:
            server.stop()


async def measure(url: str, key: str, stub: ChatStub, chats: int, concurrency: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency + 4)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as http:
        agents = await make_agents(http, concurrency)
        for agent_id in agents[:2]:  # warm up: the SDK's import and connection, the first compile
            await http.post(f"/v1/agents/{agent_id}/chat", json={"messages": [{"content": "hi"}]})
        return {
            "stub_delay_ms": stub.delay * 1000,
            "overhead": await overhead(http, agents[0], chats, stub.delay),
            "first_sse_byte_after_first_token_ms": await first_byte(http, stub, agents[1], chats),
            "concurrent": await concurrent(http, agents),
        }

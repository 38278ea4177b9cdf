"""What the language-model layer adds per call over the raw `openai` SDK, against a local server answering at once.

Run: `.venv/bin/python -m agentmem.bench.llm_overhead [calls]`. Raw SDK calls and layer calls (ResilientModel over
the OpenAI-compatible adapter: deadline, concurrency limit, retry loop, answer mapping) alternate (ABAB, which
first switching each round) on one event loop
against the same in-process server, so both see the same machine noise; prints p50/p95 of each and the difference.
Metering (one event-store append per call) is not included: it needs a database and is reported apart.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agentmem.application.llm import LLMRequest, Message, deadline_in
from agentmem.infrastructure.llm.catalog import ProviderCatalog
from agentmem.infrastructure.settings import LLMSettings

ANSWER = json.dumps(
    {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ready"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
    }
).encode()


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(base_url: str, calls: int) -> dict[str, dict[str, float]]:
    import openai

    raw = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
    settings = LLMSettings(provider="openai_compatible", model="bench", base_urls={"openai_compatible": base_url})
    model = ProviderCatalog(settings).model()
    messages = [{"role": "user", "content": "Answer with one word: ready"}]
    request = LLMRequest((Message.user("Answer with one word: ready"),))
    times: dict[str, list[float]] = {"raw_sdk": [], "layer": []}

    async def raw_call() -> float:
        started = time.perf_counter()
        await raw.chat.completions.create(model="bench", messages=messages, timeout=60)  # type: ignore[arg-type]
        return (time.perf_counter() - started) * 1000

    async def layer_call() -> float:
        started = time.perf_counter()
        await model.complete(LLMRequest(request.messages, deadline=deadline_in(60)))
        return (time.perf_counter() - started) * 1000

    for i in range(calls + 50):
        if i % 2:  # alternate which goes first, so neither always follows the other
            raw_ms, layer_ms = await raw_call(), await layer_call()
        else:
            layer_ms, raw_ms = await layer_call(), await raw_call()
        if i >= 50:  # the first calls warm connections and caches
            times["raw_sdk"].append(raw_ms)
            times["layer"].append(layer_ms)
    await raw.close()
    result = {
        name: {"p50_ms": round(statistics.median(v), 3), "p95_ms": round(percentile(v, 0.95), 3)}
        for name, v in times.items()
    }
    deltas = [layer - raw for layer, raw in zip(times["layer"], times["raw_sdk"], strict=True)]
    result["overhead"] = {"p50_ms": round(statistics.median(deltas), 3), "p95_ms": round(percentile(deltas, 0.95), 3)}
    return result


def main(calls: int = 1000) -> dict[str, dict[str, float]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return asyncio.run(measure(f"http://127.0.0.1:{server.server_address[1]}/v1", calls))
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000), indent=2))

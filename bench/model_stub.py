"""A stand-in language model for the extraction benchmark: an OpenAI-compatible chat-completions server that
answers after a fixed delay, so the job's own overhead can be measured apart from the model's time.

It answers the extraction prompt with one fact per user message (the message itself) and the decision prompt
with NONE for a fact shown among the known memories and ADD otherwise, as structured JSON.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_MESSAGE = re.compile(r"^\[(\d+)\] user(?: \S+)? \([^)]*\): (.*)$")
_SHOWN = re.compile(r"^\[(\d+)\] (.*) \((\w+)\)$")
_FACT = re.compile(r"^(\d+)\. (.*) \((\w+); similar: .*\)$")


def facts_for(conversation: str) -> dict[str, Any]:
    found = []
    for line in conversation.splitlines():
        match = _MESSAGE.match(line)
        if match:
            found.append(
                {
                    "text": match.group(2),
                    "memory_type": "semantic",
                    "source_messages": [int(match.group(1))],
                    "valid_from": None,
                    "valid_to": None,
                }
            )
    return {"facts": found}


def decisions_for(prompt: str) -> dict[str, Any]:
    shown = {m.group(2): int(m.group(1)) for m in map(_SHOWN.match, prompt.splitlines()) if m}
    decided = []
    for match in filter(None, map(_FACT.match, prompt.splitlines())):
        known = shown.get(match.group(2))
        decided.append(
            {"fact": int(match.group(1)), "event": "NONE" if known else "ADD", "memory": known, "text": None}
        )
    return {"decisions": decided}


class StubModel:
    """Serves POST /v1/chat/completions on 127.0.0.1 after `delay` seconds; counts the calls."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                stub.calls += 1
                time.sleep(stub.delay)
                schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
                prompt = body["messages"][-1]["content"]
                answer = decisions_for(prompt) if schema == "decisions" else facts_for(prompt)
                message = {"role": "assistant", "content": json.dumps(answer)}
                payload = {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 50, "total_tokens": 0},
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StubModel:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

"""What the language-model stub servers share: a local HTTP server answering from a script of replies.

Each provider's stub (openai_chat.py, anthropic_stub.py, gemini_stub.py) renders the same provider-neutral
`Reply` in its own wire format, plain or streamed (SSE), so the real SDKs can be tested offline.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Reply:
    """One scripted answer: text, tool calls, an HTTP error, a hang, or a malformed stream."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    malformed: bool = False
    input_tokens: int = 11
    output_tokens: int = 7
    cached_tokens: int = 0

    @classmethod
    def error(cls, status: int, **headers: str) -> Reply:
        return cls(status=status, headers={k.replace("_", "-"): v for k, v in headers.items()})

    @classmethod
    def calls(cls, *calls: tuple[str, dict[str, Any]]) -> Reply:
        return cls(tool_calls=list(calls))

    @classmethod
    def json(cls, value: Any) -> Reply:
        return cls(text=json.dumps(value))


@dataclass
class Seen:
    """A request the stub received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]


class ScriptedServer:
    """Serves replies in order (then `default`); subclasses render them (`respond`)."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.default = Reply(text="ok")
        self.seen: list[Seen] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                url = urlparse(self.path)
                seen = Seen("POST", url.path, parse_qs(url.query), dict(self.headers), json.loads(raw or b"{}"))
                with stub._lock:
                    stub.seen.append(seen)
                    reply = stub.script.popleft() if stub.script else stub.default
                if reply.hang:
                    stub.released.wait(reply.hang)
                if reply.status != 200:
                    self.send_json(reply.status, stub.error_body(reply.status), reply.headers)
                    return
                stub.respond(self, seen, reply)

            def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def send_sse(self, events: list[str]) -> None:
                data = "".join(events).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.handler = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, handler: Any, seen: Seen, reply: Reply) -> None:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        return {"error": {"message": f"stub error {status}", "type": "stub_error", "code": status}}

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def sse(data: Any, event: str | None = None) -> str:
    """One server-sent event: optional `event:` line, JSON (or a raw string) data, blank line."""
    body = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "") + f"data: {body}\n\n"

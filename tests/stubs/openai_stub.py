"""A local HTTP server speaking the OpenAI embeddings API, so the real openai SDK can be tested offline.

Vectors are sums of per-word pseudo-random Gaussian vectors (seeded by the word): deterministic, cheap,
without ties, and texts sharing words are close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")


def hashed_vector(text: str, dimension: int) -> list[float]:
    vector = np.zeros(dimension, dtype=np.float64)
    for word in _WORD.findall(text.lower()):
        seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vector += np.random.default_rng(seed).standard_normal(dimension)
    norm = np.linalg.norm(vector)
    if norm == 0:
        vector[0] = 1.0
        norm = 1.0
    return (vector / norm).tolist()


def _base64(vector: list[float]) -> str:
    """The wire format the SDK asks for by default: little-endian float32, base64-encoded."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


class OpenAIStub:
    """Serves POST /v1/embeddings on 127.0.0.1; counts requests and texts; can be slowed down or broken."""

    def __init__(self, default_dimension: int = 64, delay: float = 0.0) -> None:
        self.default_dimension = default_dimension
        self.delay = delay
        self.fail = False
        self.refuse: set[str] = set()
        """Words that make a request fail with 400, as OpenAI refuses an input (too long, flagged)."""
        self.requests = 0
        self.texts = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                stub.requests += 1
                if stub.fail:
                    self._send(500, {"error": {"message": "stub failure", "type": "server_error"}})
                    return
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                if any(word in text for text in inputs for word in stub.refuse):
                    self._send(400, {"error": {"message": "input refused", "type": "invalid_request_error"}})
                    return
                stub.texts += len(inputs)
                if stub.delay:
                    time.sleep(stub.delay)
                dimension = int(body.get("dimensions") or stub.default_dimension)
                data = [
                    {"object": "embedding", "index": i, "embedding": hashed_vector(t, dimension)}
                    for i, t in enumerate(inputs)
                ]
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": data,
                        "model": body["model"],
                        "usage": {"prompt_tokens": 0, "total_tokens": 0},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

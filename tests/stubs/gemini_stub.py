"""A local server speaking the Gemini API: `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`,
with `functionCall` parts and usage metadata."""

from __future__ import annotations

from typing import Any

from tests.stubs.openai_chat import pieces
from tests.stubs.scripted import Reply, ScriptedServer, Seen, sse

STATUS_NAMES = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}


class GeminiStub(ScriptedServer):
    """POST /v1beta/models/{model}:generateContent and :streamGenerateContent."""

    @property
    def base_url(self) -> str:
        return self.origin

    def error_body(self, status: int) -> Any:
        return {
            "error": {"code": status, "message": f"stub error {status}", "status": STATUS_NAMES.get(status, "UNKNOWN")}
        }

    def usage(self, reply: Reply) -> dict[str, Any]:
        return {
            "promptTokenCount": reply.input_tokens,
            "candidatesTokenCount": reply.output_tokens,
            "totalTokenCount": reply.input_tokens + reply.output_tokens,
            "cachedContentTokenCount": reply.cached_tokens,
        }

    def respond(self, handler: Any, seen: Seen, reply: Reply) -> None:
        model = seen.path.rsplit("/", 1)[-1].split(":")[0]
        calls = [{"functionCall": {"name": name, "args": args}} for name, args in reply.tool_calls]

        def chunk(parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
            body: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
            if last:
                candidate["finishReason"] = "STOP"
                body["usageMetadata"] = self.usage(reply)
            return body

        if not seen.path.endswith(":streamGenerateContent"):
            parts = ([{"text": reply.text}] if reply.text else []) + calls
            handler.send_json(200, chunk(parts, last=True))
            return
        if reply.malformed:
            handler.send_sse([sse(chunk([{"text": "a"}], last=False)), "data: {broken\n\n"])
            return
        bodies = [chunk([{"text": part}], last=False) for part in pieces(reply.text)] if reply.text else []
        bodies += [chunk([call], last=False) for call in calls]
        bodies.append(chunk([], last=True))
        handler.send_sse([sse(b) for b in bodies])

"""A local server speaking OpenAI chat completions (and Azure OpenAI's deployment paths with `api-version`).

Plain answers, SSE streams ending with `data: [DONE]` and a usage chunk, tool-call arguments split over several
chunks, `json_schema` response formats (the scripted text is sent as is).
"""

from __future__ import annotations

import json
from typing import Any

from tests.stubs.scripted import Reply, ScriptedServer, Seen, sse


def pieces(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class OpenAIChatStub(ScriptedServer):
    """POST /v1/chat/completions and /openai/deployments/{deployment}/chat/completions."""

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def usage(self, reply: Reply) -> dict[str, Any]:
        return {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        }

    def model_of(self, seen: Seen) -> str:
        if seen.path.startswith("/openai/deployments/"):
            return seen.path.split("/")[3]
        return str(seen.body.get("model"))

    def respond(self, handler: Any, seen: Seen, reply: Reply) -> None:
        model = self.model_of(seen)
        finish = "tool_calls" if reply.tool_calls else "stop"
        calls = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            for i, (name, args) in enumerate(reply.tool_calls)
        ]
        if not seen.body.get("stream"):
            message = {"role": "assistant", "content": reply.text or None, "tool_calls": calls or None}
            handler.send_json(
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": self.usage(reply),
                },
            )
            return

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            return sse(
                {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [choice]}
            )

        events = [chunk({"role": "assistant", "content": ""})]
        if reply.malformed:
            handler.send_sse([*events, "data: {not json\n\n", "data: [DONE]\n\n"])
            return
        events += [chunk({"content": piece}) for piece in pieces(reply.text) if reply.text]
        for i, call in enumerate(calls):
            head = {"index": i, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"]}}
            events.append(chunk({"tool_calls": [{**head, "function": {**head["function"], "arguments": ""}}]}))
            for part in pieces(call["function"]["arguments"], 4):
                events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
        events.append(chunk({}, finish))
        usage = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": []}
        events.append(sse({**usage, "usage": self.usage(reply)}))
        events.append("data: [DONE]\n\n")
        handler.send_sse(events)

"""A local server speaking Anthropic's messages API: plain answers, the SSE event sequence (message_start,
content_block_start/delta/stop with text_delta and input_json_delta, message_delta, message_stop) and `tool_use`.

When the request forces a tool (structured output) and the scripted text is a JSON object, the stub answers with
that object as the forced tool's input, as Claude does.
"""

from __future__ import annotations

import json
from typing import Any

from tests.stubs.openai_chat import pieces
from tests.stubs.scripted import Reply, ScriptedServer, Seen, sse


class AnthropicStub(ScriptedServer):
    """POST /v1/messages."""

    @property
    def base_url(self) -> str:
        return self.origin

    def error_body(self, status: int) -> Any:
        kind = "rate_limit_error" if status == 429 else "api_error"
        return {"type": "error", "error": {"type": kind, "message": f"stub error {status}"}}

    def blocks(self, seen: Seen, reply: Reply) -> list[dict[str, Any]]:
        forced = seen.body.get("tool_choice") or {}
        calls = list(reply.tool_calls)
        text = reply.text
        if forced.get("type") == "tool" and not calls and text:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict):
                calls, text = [(forced["name"], value)], ""
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [
            {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": args}
            for i, (name, args) in enumerate(calls)
        ]
        return blocks

    def respond(self, handler: Any, seen: Seen, reply: Reply) -> None:
        blocks = self.blocks(seen, reply)
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        usage = {
            "input_tokens": reply.input_tokens - reply.cached_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cached_tokens,
            "cache_creation_input_tokens": 0,
        }
        message = {
            "id": "msg_stub",
            "type": "message",
            "role": "assistant",
            "model": seen.body.get("model"),
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        if not seen.body.get("stream"):
            handler.send_json(200, message)
            return
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        events = [sse({"type": "message_start", "message": start}, "message_start"), sse({"type": "ping"}, "ping")]
        if reply.malformed:
            handler.send_sse([*events, "event: content_block_delta\ndata: {broken\n\n"])
            return
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                opened, deltas = (
                    {"type": "text", "text": ""},
                    [{"type": "text_delta", "text": part} for part in pieces(block["text"])],
                )
            else:
                opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": p} for p in pieces(json.dumps(block["input"]), 4)
                ]
            events.append(
                sse({"type": "content_block_start", "index": index, "content_block": opened}, "content_block_start")
            )
            events += [
                sse({"type": "content_block_delta", "index": index, "delta": d}, "content_block_delta") for d in deltas
            ]
            events.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
        delta = {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}}
        events.append(sse({**delta, "usage": {"output_tokens": reply.output_tokens}}, "message_delta"))
        events.append(sse({"type": "message_stop"}, "message_stop"))
        handler.send_sse(events)

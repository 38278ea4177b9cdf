"""Anthropic messages with the `anthropic` SDK: the system prompt apart, `tool_use`/`tool_result` blocks,
`input_json_delta` streaming, and structured output as a forced tool whose input is the answer.

The SDK is imported on the first call (about 3.9 s and 80 MB measured on this machine), never at startup.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from agentmem.application.llm import (
    FinishReason,
    LLMAnswer,
    LLMRequest,
    Message,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDone,
    Usage,
)
from agentmem.infrastructure.llm.base import Failure, stainless_failure, tool_call

FINISH: dict[str | None, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
DEFAULT_MAX_TOKENS = 4096
"""Anthropic requires a max_tokens; this one when the request gives none."""


def messages_param(messages: tuple[Message, ...]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt, and the turns with tool results merged into the user turn that follows a tool call."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
            if turns and turns[-1]["role"] == "user" and isinstance(turns[-1]["content"], list):
                turns[-1]["content"].append(block)
            else:
                turns.append({"role": "user", "content": [block]})
        elif message.role == "assistant" and message.tool_calls:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in message.tool_calls
            ]
            turns.append({"role": "assistant", "content": blocks})
        else:
            turns.append({"role": message.role, "content": message.content})
    return system, turns


def tool_choice_param(choice: str) -> dict[str, Any]:
    return (
        {"type": {"auto": "auto", "required": "any", "none": "none"}[choice]}
        if choice
        in (
            "auto",
            "required",
            "none",
        )
        else {"type": "tool", "name": choice}
    )


def usage_of(usage: Any) -> Usage:
    cached = getattr(usage, "cache_read_input_tokens", 0) or 0
    written = getattr(usage, "cache_creation_input_tokens", 0) or 0
    return Usage(
        (getattr(usage, "input_tokens", 0) or 0) + cached + written, getattr(usage, "output_tokens", 0) or 0, cached
    )


class AnthropicMessages:
    """The messages API; one lazily built async client."""

    provider = "anthropic"

    def __init__(self, model: str, *, api_key: str | None, base_url: str | None = None) -> None:
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import anthropic

            self._client = anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.base_url, max_retries=0)
        return self._client

    def params(self, request: LLMRequest, time_limit: float) -> dict[str, Any]:
        system, turns = messages_param(request.messages)
        params: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": turns,
            "max_tokens": request.max_output_tokens or DEFAULT_MAX_TOKENS,
            "timeout": time_limit,
        }
        if system:
            params["system"] = system
        tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools]
        choice = tool_choice_param(request.tool_choice) if tools else None
        if request.output is not None:
            description = "Give your answer by calling this tool; its input is the answer."
            tools.append(
                {"name": request.output.name, "description": description, "input_schema": request.output.schema}
            )
            choice = {"type": "tool", "name": request.output.name}
        if tools:
            params["tools"] = tools
            params["tool_choice"] = choice
        if request.temperature is not None:  # no longer a parameter of this SDK: sent as given, for models that take it
            params["extra_body"] = {"temperature": request.temperature}
        if request.stop:
            params["stop_sequences"] = list(request.stop)
        return params

    def answer(
        self, request: LLMRequest, text: str, calls: list[ToolCall], stop: str | None, usage: Usage, model: str
    ) -> LLMAnswer:
        """The answer; with structured output, the forced tool's input becomes the text."""
        finish = FINISH.get(stop, "stop")
        if request.output is not None:
            answer_calls = [c for c in calls if c.name == request.output.name]
            if answer_calls:
                text = json.dumps(answer_calls[0].arguments)
                calls = [c for c in calls if c.name != request.output.name]
                finish = "stop"
        return LLMAnswer(text, tuple(calls), finish, usage, self.provider, model, 0.0)

    async def send(self, request: LLMRequest, time_limit: float) -> LLMAnswer:
        message = await self.client().messages.create(**self.params(request, time_limit))
        text = "".join(b.text for b in message.content if b.type == "text")
        calls = [tool_call(b.id, b.name, b.input, i) for i, b in enumerate(message.content) if b.type == "tool_use"]
        return self.answer(
            request, text, calls, message.stop_reason, usage_of(message.usage), message.model or self.model
        )

    async def send_stream(self, request: LLMRequest, time_limit: float) -> AsyncGenerator[StreamEvent, None]:
        params = self.params(request, time_limit)
        stream = await self.client().messages.create(**params, stream=True)
        text: list[str] = []
        blocks: dict[int, tuple[str, str, list[str]]] = {}
        calls: list[ToolCall] = []
        usage, stop, model = Usage(), None, self.model
        structured = request.output.name if request.output is not None else None
        try:
            async for event in stream:
                if event.type == "message_start":
                    usage, model = usage_of(event.message.usage), event.message.model or model
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    blocks[event.index] = (event.content_block.id, event.content_block.name, [])
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
                    yield TextDelta(event.delta.text)
                elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                    blocks[event.index][2].append(event.delta.partial_json)
                elif event.type == "content_block_stop" and event.index in blocks:
                    call_id, name, parts = blocks.pop(event.index)
                    call = tool_call(call_id, name, "".join(parts), len(calls))
                    calls.append(call)
                    if name != structured:
                        yield ToolCallDone(call)
                elif event.type == "message_delta":
                    stop = event.delta.stop_reason or stop
                    usage = Usage(usage.input_tokens, event.usage.output_tokens or 0, usage.cached_tokens)
        finally:
            await stream.close()
        yield StreamEnd(self.answer(request, "".join(text), calls, stop, usage, model))

    def failure(self, error: BaseException) -> Failure | None:
        import anthropic

        return stainless_failure(anthropic, error)

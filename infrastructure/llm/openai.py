"""OpenAI chat completions with the `openai` SDK: OpenAI, Azure OpenAI (deployment + api-version) and any
OpenAI-compatible base URL (Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter).

The SDK is imported on the first call (about 1.9 s and 50 MB measured on this machine), never at startup.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from agentmem.application.llm import (
    FinishReason,
    LLMAnswer,
    LLMRequest,
    Message,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCallDone,
    Usage,
)
from agentmem.infrastructure.llm.base import Failure, stainless_failure, tool_call

FINISH: dict[str | None, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
DEFAULT_AZURE_API_VERSION = "2024-10-21"


def message_param(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def tool_choice_param(choice: str) -> Any:
    if choice in ("auto", "required", "none"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def usage_of(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0, getattr(details, "cached_tokens", 0) or 0)


@dataclass
class _PartialCall:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIChat:
    """Chat completions for `openai`, `azure_openai` and `openai_compatible`; one lazily built async client."""

    def __init__(
        self,
        provider: str,
        model: str,
        *,
        api_key: str | None,
        base_url: str | None = None,
        api_version: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.api_key = api_key
        self.base_url = base_url
        self.api_version = api_version
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import openai

            if self.provider == "azure_openai":
                self._client = openai.AsyncAzureOpenAI(
                    azure_endpoint=self.base_url or "",
                    api_key=self.api_key,
                    api_version=self.api_version or DEFAULT_AZURE_API_VERSION,
                    max_retries=0,
                )
            else:
                self._client = openai.AsyncOpenAI(
                    api_key=self.api_key or "not-needed", base_url=self.base_url, max_retries=0
                )
        return self._client

    def params(self, request: LLMRequest, time_limit: float) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model or self.model,
            "messages": [message_param(m) for m in request.messages],
            "timeout": time_limit,
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
            params["tool_choice"] = tool_choice_param(request.tool_choice)
        if request.output is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.output.name, "schema": request.output.schema, "strict": True},
            }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_output_tokens is not None:
            limit = "max_tokens" if self.provider == "openai_compatible" else "max_completion_tokens"
            params[limit] = request.max_output_tokens
        if request.stop:
            params["stop"] = list(request.stop)
        return params

    async def send(self, request: LLMRequest, time_limit: float) -> LLMAnswer:
        completion = await self.client().chat.completions.create(**self.params(request, time_limit))
        if not completion.choices:
            raise ValueError("the answer has no choices")
        choice = completion.choices[0]
        calls = tuple(
            tool_call(c.id, c.function.name, c.function.arguments, i)
            for i, c in enumerate(choice.message.tool_calls or ())
        )
        return LLMAnswer(
            text=choice.message.content or "",
            tool_calls=calls,
            finish_reason=FINISH.get(choice.finish_reason, "stop"),
            usage=usage_of(completion.usage),
            provider=self.provider,
            model=completion.model or self.model,
            latency_ms=0.0,
        )

    async def send_stream(self, request: LLMRequest, time_limit: float) -> AsyncGenerator[StreamEvent, None]:
        params = self.params(request, time_limit)
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
        stream = await self.client().chat.completions.create(**params)
        text: list[str] = []
        partial: dict[int, _PartialCall] = {}
        finish: str | None = None
        usage = Usage()
        model = self.model
        try:
            async for chunk in stream:
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = usage_of(chunk.usage)
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for piece in delta.tool_calls or ():
                        call = partial.setdefault(piece.index, _PartialCall())
                        call.id = piece.id or call.id
                        if piece.function is not None:
                            call.name += piece.function.name or ""
                            call.arguments.append(piece.function.arguments or "")
                    finish = choice.finish_reason or finish
        finally:
            await stream.close()
        calls = tuple(tool_call(c.id, c.name, "".join(c.arguments), i) for i, c in sorted(partial.items()))
        for call in calls:
            yield ToolCallDone(call)
        answer = LLMAnswer("".join(text), calls, FINISH.get(finish, "stop"), usage, self.provider, model, 0.0)
        yield StreamEnd(answer)

    def failure(self, error: BaseException) -> Failure | None:
        import openai

        return stainless_failure(openai, error)

"""The language-model port: a provider-neutral request, answer and stream, and the errors every adapter raises.

Extraction, agent chat and block rewrites ask `LanguageModels.bind(context, purpose)` for a `LanguageModel`; the
binding meters every call for the tenant and applies the organization's token quota. Adapters (OpenAI, Azure
OpenAI, Anthropic, Gemini, any OpenAI-compatible server) live in `agentmem.infrastructure.llm` and translate
these types to and from each SDK; nothing here knows a provider.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from agentmem.domain.base import Context
from agentmem.domain.errors import LimitExceeded, Unavailable

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
Purpose = Literal["chat", "extraction", "rewrite", "check"]
TOOL_CHOICES = ("auto", "required", "none")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asks for: its id (echoed by the tool result), the tool's name and parsed arguments."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Message:
    """One turn: system, user, assistant (text and/or tool calls) or a tool result (`tool_call_id`, `name`)."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: tuple[ToolCall, ...] = ()) -> Message:
        return cls("assistant", content, tool_calls)

    @classmethod
    def tool_result(cls, call: ToolCall, content: str) -> Message:
        return cls("tool", content, tool_call_id=call.id, name=call.name)


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model may call; `parameters` is a JSON schema of an object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """Structured output: the answer's text must be JSON satisfying `schema` (parsed into `LLMAnswer.data`)."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """What to ask: messages, optional tools and structured output, sampling limits, and a monotonic deadline.

    `tool_choice` is "auto", "required", "none" or the name of one of `tools`. `deadline` is a `time.monotonic()`
    instant (see `deadline_in`); retries and rate-limit waits never pass it. `model` overrides the configured
    model of the same provider.
    """

    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: str = "auto"
    output: OutputSchema | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    stop: tuple[str, ...] = ()
    deadline: float | None = None
    model: str | None = None

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


def deadline_in(seconds: float) -> float:
    """The deadline `seconds` from now, for `LLMRequest.deadline`."""
    return time.monotonic() + seconds


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one call consumed; `cached_tokens` are input tokens served from the provider's prompt cache."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class LLMAnswer:
    """The model's answer; `data` is the parsed JSON when the request asked for structured output."""

    text: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: FinishReason
    usage: Usage
    provider: str
    model: str
    latency_ms: float
    data: Any = None
    retries: int = 0


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text, as it arrives."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A tool call, assembled whole from the provider's argument deltas."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The last event of a stream: the whole answer with its usage and finish reason."""

    answer: LLMAnswer


StreamEvent = TextDelta | ToolCallDone | StreamEnd


class LanguageModel(Protocol):
    """A configured model of one provider; `stream` ends with exactly one `StreamEnd`."""

    provider: str
    model: str

    async def complete(self, request: LLMRequest) -> LLMAnswer: ...

    def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]: ...


class LanguageModels(Protocol):
    """Where use cases get a model: bound to the caller's tenant and purpose, metered, within the token quota.

    `agent_llm` is an agent's own `llm` setting ({"provider", "model", "temperature"?}); it picks that provider's
    model with that provider's credentials. Raises `LanguageModelNotConfigured` when there is no model to use.
    """

    def bind(
        self,
        context: Context,
        purpose: Purpose,
        agent_llm: Mapping[str, Any] | None = None,
        agent_id: str | None = None,
    ) -> LanguageModel: ...


class LanguageModelError(Unavailable):
    """The model could not give a usable answer (provider down, refused, timed out, or invalid output)."""


class LanguageModelNotConfigured(LanguageModelError):
    """No language model is configured; the message names the setting to set."""

    def __init__(self, message: str | None = None, setting: str = "AGENTMEM_LLM") -> None:
        super().__init__(
            message or f"no language model is configured: set {setting}=<provider>:<model> (e.g. openai:gpt-4o-mini)",
            setting=setting,
        )


class LanguageModelTimeout(LanguageModelError):
    """The call did not finish before its deadline (including retries)."""


class InvalidModelOutput(LanguageModelError):
    """The answer did not satisfy the requested JSON schema, even after one repair attempt."""


class LanguageModelRateLimited(LimitExceeded):
    """The provider's or our own requests/tokens-per-minute limit is spent; `retry_after` says when to retry."""


class TokenQuotaExceeded(LimitExceeded):
    """The organization's daily token quota is spent."""

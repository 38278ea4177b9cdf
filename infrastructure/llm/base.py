"""What every provider adapter implements, and how its failures are told apart (retry or give up)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

from agentmem.application.llm import InvalidModelOutput, LLMRequest, StreamEvent, ToolCall

FailureKind = Literal["rate_limited", "timeout", "unavailable", "rejected", "malformed"]
RETRYABLE_STATUS = frozenset({408, 429})
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one attempt failed: the kind, whether another attempt may succeed, and the provider's Retry-After."""

    kind: FailureKind
    message: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None


class ProviderAdapter(Protocol):
    """One provider's SDK behind the port's types; `time_limit` bounds one attempt (seconds)."""

    provider: str
    model: str

    def client(self) -> Any:
        """The SDK's client, built (and the SDK imported) on first use: seconds the first time, so off the loop."""
        ...

    async def send(self, request: LLMRequest, time_limit: float) -> Any:
        """The provider's answer as an `LLMAnswer` (latency and retries are filled in by the caller)."""
        ...

    def send_stream(self, request: LLMRequest, time_limit: float) -> AsyncGenerator[StreamEvent, None]: ...

    def failure(self, error: BaseException) -> Failure | None:
        """What an exception of this provider's SDK means, or None when it is not one of its failures."""
        ...


def status_failure(status: int, message: str, headers: Mapping[str, str] | None) -> Failure:
    """The failure an HTTP status stands for: 429/408/5xx are retried (honouring Retry-After), other 4xx never."""
    retry_after = retry_after_seconds(headers or {})
    if status == 429:
        return Failure("rate_limited", message, True, status, retry_after)
    if status in RETRYABLE_STATUS or status >= 500:
        return Failure("unavailable", message, True, status, retry_after)
    return Failure("rejected", message, False, status)


def stainless_failure(sdk: Any, error: BaseException) -> Failure | None:
    """The failure an `openai` or `anthropic` SDK error stands for (both SDKs share one error hierarchy)."""
    if isinstance(error, sdk.APITimeoutError):
        return Failure("timeout", "no answer within the timeout", True)
    if isinstance(error, sdk.APIConnectionError):
        return Failure("unavailable", f"connection failed: {error}", True)
    if isinstance(error, sdk.APIStatusError):
        return status_failure(error.status_code, error.message, error.response.headers)
    if isinstance(error, sdk.APIResponseValidationError):
        return Failure("malformed", f"malformed answer: {error}", False)
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), when given and sane."""
    raw_ms = headers.get("retry-after-ms")
    try:
        if raw_ms is not None:
            return min(max(float(raw_ms) / 1000, 0.0), MAX_RETRY_AFTER)
        raw = headers.get("retry-after")
        if raw is None:
            return None
        if raw.strip().replace(".", "", 1).isdigit():
            return min(float(raw), MAX_RETRY_AFTER)
        from datetime import UTC, datetime

        return min(max((parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds(), 0.0), MAX_RETRY_AFTER)
    except (TypeError, ValueError, OverflowError):
        return None


def parse_arguments(name: str, raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A tool call's arguments as a dict; InvalidModelOutput when the model sent something else than a JSON object."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise InvalidModelOutput(f"the model called {name} with arguments that are not JSON: {raw[:200]!r}") from None
    if not isinstance(value, dict):
        raise InvalidModelOutput(f"the model called {name} with arguments that are not a JSON object")
    return value


def tool_call(call_id: str | None, name: str, raw: str | Mapping[str, Any] | None, index: int) -> ToolCall:
    """A whole tool call; providers that give no id (Gemini) get a stable one from the position."""
    return ToolCall(id=call_id or f"call_{index}", name=name, arguments=parse_arguments(name, raw))


def estimated_tokens(request: LLMRequest) -> int:
    """A rough token count for rate limiting before the call: 4 characters a token, plus the output budget."""
    chars = sum(len(m.content) + sum(len(json.dumps(c.arguments)) for c in m.tool_calls) for m in request.messages)
    chars += sum(len(t.description) + len(json.dumps(t.parameters)) for t in request.tools)
    return chars // 4 + (request.max_output_tokens or 256)


TRANSPORT_MODULES = ("httpx", "httpx2", "httpcore")
RETRYABLE_TRANSPORT = ("TimeoutException", "TransportError", "NetworkError", "RemoteProtocolError")


def transport_failure(error: BaseException) -> Failure | None:
    """A timeout or dropped connection of httpx (or its fork httpx2), which SDKs without wrappers let through."""
    for cls in type(error).__mro__:
        if cls.__module__.split(".")[0] not in TRANSPORT_MODULES:
            continue
        if cls.__name__ == "TimeoutException":
            return Failure("timeout", "no answer within the timeout", True)
        if cls.__name__ in RETRYABLE_TRANSPORT:
            return Failure("unavailable", f"connection failed: {error}", True)
    return None

"""Any adapter made dependable: retries with backoff, deadlines, concurrency and rate limits, structured output.

Retries: exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and Jitter"), or the
provider's Retry-After when it sends one; only on 429, 408, 5xx, timeouts and dropped connections; never past the
request's deadline. A stream is retried only before its first event (after that the caller holds part of it).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import replace
from typing import Protocol, TypeVar

from agentmem.application.llm import (
    InvalidModelOutput,
    LanguageModelError,
    LanguageModelRateLimited,
    LanguageModelTimeout,
    LLMAnswer,
    LLMRequest,
    Message,
    StreamEnd,
    StreamEvent,
    Usage,
)
from agentmem.domain.errors import AgentMemError
from agentmem.infrastructure.llm.base import Failure, ProviderAdapter, estimated_tokens
from agentmem.infrastructure.llm.structured import schema_problem

BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0
T = TypeVar("T")
Events = AsyncGenerator[StreamEvent, None]


class RateGate(Protocol):
    """Requests and tokens per minute per provider, shared by every process."""

    async def admit(self, provider: str, tokens: int, deadline: float | None) -> None:
        """Waits (bounded by the deadline) for room in this minute, or raises LanguageModelRateLimited."""
        ...

    async def settle(self, provider: str, tokens: int) -> None:
        """Corrects the minute's token count by `tokens` (the real usage minus the estimate)."""
        ...


def backoff(attempt: int) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


class ResilientModel:
    """A `LanguageModel` over one adapter: the retry, deadline, limit and structured-output rules in one place."""

    def __init__(
        self,
        adapter: ProviderAdapter,
        *,
        timeout: float,
        max_retries: int,
        concurrency: asyncio.Semaphore,
        gate: RateGate | None = None,
    ) -> None:
        self.adapter = adapter
        self.provider = adapter.provider
        self.model = adapter.model
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = concurrency
        self.gate = gate
        self._client_ready = False

    async def complete(self, request: LLMRequest) -> LLMAnswer:
        started = time.monotonic()
        answer, retries = await self._attempts(request, self.adapter.send)
        await self._settle(answer, request)
        if request.output is not None:
            answer, retries = await self._structured(request, answer, retries)
        return replace(answer, latency_ms=(time.monotonic() - started) * 1000, retries=retries)

    async def stream(self, request: LLMRequest) -> AsyncGenerator[StreamEvent, None]:
        started = time.monotonic()
        (events, first), retries = await self._attempts(request, self._open_stream)
        try:
            event: StreamEvent | None = first
            while event is not None:
                if isinstance(event, StreamEnd):
                    answer = replace(event.answer, latency_ms=(time.monotonic() - started) * 1000, retries=retries)
                    await self._settle(answer, request)
                    yield StreamEnd(answer)
                    return
                yield event
                event = await self._next(events, request)
            raise LanguageModelError(f"{self.provider} ended the stream without a final event")
        finally:
            await events.aclose()

    async def _open_stream(self, request: LLMRequest, time_limit: float) -> tuple[Events, StreamEvent | None]:
        """Opens a stream and reads its first event (so a failure to start can still be retried)."""
        events = self.adapter.send_stream(request, time_limit)
        try:
            return events, await anext(events, None)
        except BaseException:
            await events.aclose()
            raise

    async def _next(self, events: Events, request: LLMRequest) -> StreamEvent | None:
        try:
            async with asyncio.timeout(self._attempt_timeout(request)):
                return await anext(events, None)
        except AgentMemError:
            raise
        except Exception as error:
            raise self._error(self._failure(error), 0) from error

    async def _attempts(self, request: LLMRequest, call: Callable[[LLMRequest, float], Awaitable[T]]) -> tuple[T, int]:
        """Calls until an answer, a failure not worth retrying, the last attempt, or the deadline; and the retries."""
        if not self._client_ready:  # importing an SDK takes 2-4 s: not on the event loop, not in an attempt's time
            await asyncio.to_thread(self.adapter.client)
            self._client_ready = True
        attempt = 0
        while True:
            try:
                return await self._attempt(request, call), attempt
            except AgentMemError:
                raise
            except Exception as error:
                failure = self._failure(error)
                delay = failure.retry_after if failure.retry_after is not None else backoff(attempt)
                left = request.seconds_left()
                if not failure.retryable or attempt >= self.max_retries or (left is not None and delay >= left):
                    raise self._error(failure, attempt) from error
                attempt += 1
                await asyncio.sleep(delay)

    async def _attempt(self, request: LLMRequest, call: Callable[[LLMRequest, float], Awaitable[T]]) -> T:
        if self.gate is not None:
            await self.gate.admit(self.provider, estimated_tokens(request), request.deadline)
        time_limit = self._attempt_timeout(request)
        async with asyncio.timeout(time_limit), self.concurrency:
            return await call(request, time_limit)

    async def _settle(self, answer: LLMAnswer, request: LLMRequest) -> None:
        """Tells the rate gate how many tokens the call really used (it counted an estimate)."""
        if self.gate is not None:
            await self.gate.settle(self.provider, _total(answer.usage) - estimated_tokens(request))

    def _attempt_timeout(self, request: LLMRequest) -> float:
        left = request.seconds_left()
        if left is not None and left <= 0:
            raise LanguageModelTimeout(f"{self.provider} call passed its deadline")
        return self.timeout if left is None else min(self.timeout, left)

    def _failure(self, error: BaseException) -> Failure:
        known = self.adapter.failure(error)
        if known is not None:
            return known
        if isinstance(error, TimeoutError):
            return Failure("timeout", "no answer within the timeout", True)
        if isinstance(error, ValueError):
            return Failure("malformed", f"malformed answer: {error}", False)
        return Failure("unavailable", f"{type(error).__name__}: {error}", False)

    def _error(self, failure: Failure, retries: int) -> AgentMemError:
        where = f"{self.provider} ({self.model})"
        status = f" HTTP {failure.status}" if failure.status else ""
        message = f"{where} failed{status} after {retries + 1} attempt(s): {failure.message}"
        if failure.kind == "rate_limited":
            retry_after = max(1, round(failure.retry_after)) if failure.retry_after else None
            return LanguageModelRateLimited(message, retry_after, retries=retries)
        if failure.kind == "timeout":
            return LanguageModelTimeout(message, retries=retries)
        return LanguageModelError(message, retries=retries)

    async def _structured(self, request: LLMRequest, answer: LLMAnswer, retries: int) -> tuple[LLMAnswer, int]:
        """Parses and validates the JSON answer; one repair attempt when it is invalid, then InvalidModelOutput."""
        assert request.output is not None
        problem, data = schema_problem(answer.text, request.output.schema)
        if problem is None:
            return replace(answer, data=data), retries
        repair = replace(
            request,
            messages=(
                *request.messages,
                Message.assistant(answer.text),
                Message.user(
                    f"That answer is invalid: {problem}. Answer again with only a JSON value that satisfies the "
                    f"schema {json.dumps(request.output.schema)}."
                ),
            ),
        )
        repaired, more = await self._attempts(repair, self.adapter.send)
        await self._settle(repaired, repair)
        usage = answer.usage + repaired.usage
        problem, data = schema_problem(repaired.text, request.output.schema)
        if problem is not None:
            raise InvalidModelOutput(
                f"{self.provider} ({self.model}) answered twice without satisfying the schema "
                f"{request.output.name!r}: {problem}",
                retries=retries + more,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
            )
        return replace(repaired, usage=usage, data=data), retries + more


def _total(usage: Usage) -> int:
    return usage.input_tokens + usage.output_tokens

"""Where use cases get a language model: bound to a tenant and a purpose, metered, within the daily token quota.

Every call, answered or failed, becomes a `ModelCall` event (tenant, actor, purpose, agent, provider, model, tokens,
latency, retries, outcome, cost) that the `llm_usage` read model sums. Recording takes one event-store append
(measured in the note of issue 13, next to the model's own latency of hundreds of milliseconds).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from agentmem.application.llm import (
    InvalidModelOutput,
    LanguageModel,
    LanguageModelRateLimited,
    LanguageModelTimeout,
    LLMAnswer,
    LLMRequest,
    Purpose,
    StreamEnd,
    StreamEvent,
    TokenQuotaExceeded,
    Usage,
)
from agentmem.application.metrics import LLM_CALLS, LLM_SECONDS, LLM_TOKENS
from agentmem.application.telemetry import span
from agentmem.application.usage import UsageApplication
from agentmem.domain.base import Context
from agentmem.domain.errors import AgentMemError
from agentmem.domain.model_call import CallFacts

QUOTA_CACHE_SECONDS = 30.0
"""How long an organization's token quota is trusted before it is read again (quota edits apply within this)."""


class ModelCatalog(Protocol):
    """The configured models; `model()` without arguments is the default (LanguageModelNotConfigured if none)."""

    def model(self, provider: str | None = None, model: str | None = None) -> LanguageModel: ...

    def configured(self) -> tuple[str, str] | None:
        """The default provider and model (AGENTMEM_LLM), None when there is none."""
        ...


class TokenBudget(Protocol):
    """Tokens each organization used today (UTC), shared by every process."""

    async def used_today(self, tenant_id: str) -> int: ...

    async def add(self, tenant_id: str, tokens: int) -> None: ...


class Prices(Protocol):
    """What a call cost in US dollars, when the model's price is known."""

    def cost(self, provider: str, model: str, usage: Usage) -> float | None: ...


def outcome_of(error: BaseException) -> str:
    if isinstance(error, LanguageModelRateLimited):
        return "rate_limited"
    if isinstance(error, LanguageModelTimeout):
        return "timeout"
    if isinstance(error, InvalidModelOutput):
        return "invalid_output"
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return "cancelled"
    return "error"


def seconds_to_midnight() -> int:
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


class MeteredModels:
    """Implements the `LanguageModels` port: binds the catalog's models to a caller and meters their calls."""

    def __init__(
        self,
        catalog: ModelCatalog,
        usage: UsageApplication,
        budget: TokenBudget,
        prices: Prices,
        daily_quota: Callable[[str], int | None],
    ) -> None:
        self.catalog = catalog
        self.usage = usage
        self.budget = budget
        self.prices = prices
        self.daily_quota = daily_quota
        self._quotas: dict[str, tuple[float, int | None]] = {}

    def bind(
        self,
        context: Context,
        purpose: Purpose,
        agent_llm: Mapping[str, Any] | None = None,
        agent_id: str | None = None,
    ) -> LanguageModel:
        """The default model, or the agent's own (`{"provider", "model", "temperature"?}`), metered for `context`."""
        llm = agent_llm or {}
        inner = self.catalog.model(llm.get("provider"), llm.get("model"))
        return MeteredModel(self, inner, context, purpose, agent_id, llm.get("temperature"))

    async def check_quota(self, tenant_id: str) -> None:
        cached = self._quotas.get(tenant_id)
        if cached is None or cached[0] < time.monotonic():
            cap = await asyncio.to_thread(self.daily_quota, tenant_id)
            cached = self._quotas[tenant_id] = (time.monotonic() + QUOTA_CACHE_SECONDS, cap)
        cap = cached[1]
        if cap is not None and await self.budget.used_today(tenant_id) >= cap:
            raise TokenQuotaExceeded(
                f"this organization's language-model quota of {cap} tokens a day is spent", seconds_to_midnight()
            )

    async def record(self, context: Context, facts: CallFacts) -> int:
        """Counts the tokens against today's quota and appends the call; returns its log position."""
        tokens = facts.input_tokens + facts.output_tokens
        if tokens:
            await self.budget.add(context.tenant_id, tokens)
        return await asyncio.to_thread(self.usage.record_call, facts, context)


class MeteredModel:
    """One model bound to a caller: checks the quota, applies the agent's temperature, records each call."""

    def __init__(
        self,
        models: MeteredModels,
        inner: LanguageModel,
        context: Context,
        purpose: Purpose,
        agent_id: str | None,
        temperature: float | None,
    ) -> None:
        self.models = models
        self.inner = inner
        self.provider = inner.provider
        self.model = inner.model
        self.context = context
        self.purpose = purpose
        self.agent_id = agent_id
        self.temperature = temperature
        self.position: int | None = None
        """The log position of the last recorded call (the `min_position` that shows it in GET /v1/usage)."""

    def _prepared(self, request: LLMRequest) -> LLMRequest:
        if request.temperature is None and self.temperature is not None:
            return replace(request, temperature=self.temperature)
        return request

    async def complete(self, request: LLMRequest) -> LLMAnswer:
        attributes = {
            "gen_ai.system": self.provider,
            "gen_ai.request.model": self.model,
            "agentmem.purpose": self.purpose,
        }
        with span(f"llm {self.purpose}", attributes) as traced:
            await self.models.check_quota(self.context.tenant_id)
            started = time.monotonic()
            try:
                answer = await self.inner.complete(self._prepared(request))
            except BaseException as error:
                await self._failed(error, started)
                raise
            traced.set("gen_ai.usage.input_tokens", answer.usage.input_tokens)
            traced.set("gen_ai.usage.output_tokens", answer.usage.output_tokens)
            traced.set("agentmem.retries", answer.retries)
            await self._answered(answer)
            return answer

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        await self.models.check_quota(self.context.tenant_id)
        started = time.monotonic()
        events = self.inner.stream(self._prepared(request))
        answered = False
        try:
            async for event in events:
                if isinstance(event, StreamEnd):
                    await self._answered(event.answer)
                    answered = True
                yield event
        except BaseException as error:
            if not answered:  # a caller that stops reading after the final event has used a whole call
                await self._failed(error, started)
            raise
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()

    async def _answered(self, answer: LLMAnswer) -> None:
        await self._record(answer.model, answer.usage, answer.latency_ms, answer.retries, "ok")

    async def _failed(self, error: BaseException, started: float) -> None:
        details = error.details if isinstance(error, AgentMemError) else {}
        usage = Usage(details.get("input_tokens", 0), details.get("output_tokens", 0))
        latency = (time.monotonic() - started) * 1000
        await asyncio.shield(self._record(self.model, usage, latency, details.get("retries", 0), outcome_of(error)))

    async def _record(self, model: str, usage: Usage, latency_ms: float, retries: int, outcome: str) -> None:
        labels = {"provider": self.provider, "model": model, "purpose": self.purpose}
        LLM_CALLS.inc(**labels, outcome=outcome)
        LLM_SECONDS.observe(latency_ms / 1000, **labels)
        LLM_TOKENS.inc(usage.input_tokens, **labels, kind="input")
        LLM_TOKENS.inc(usage.output_tokens, **labels, kind="output")
        facts = CallFacts(
            purpose=self.purpose,
            provider=self.provider,
            model=model,
            agent_id=self.agent_id,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens,
            latency_ms=round(latency_ms, 3),
            retries=retries,
            outcome=outcome,
            cost_usd=self.models.prices.cost(self.provider, model, usage),
        )
        self.position = await self.models.record(self.context, facts)

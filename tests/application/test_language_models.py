"""Metered models: an agent's own provider and temperature, and every call (answered or failed) recorded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import pytest
from redis.asyncio import Redis

from agentmem.application.language_models import MeteredModels
from agentmem.application.llm import LanguageModelError, LLMRequest, Message, StreamEnd
from agentmem.domain.base import Context
from agentmem.domain.model_call import ModelCall
from agentmem.infrastructure.llm.catalog import ProviderCatalog
from agentmem.infrastructure.llm.limits import RedisTokenBudget
from agentmem.infrastructure.llm.prices import DEFAULT_PRICES, PriceTable
from agentmem.infrastructure.settings import LLMSettings
from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.metrics import scrape, value
from tests.stubs.anthropic_stub import AnthropicStub
from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply

HELLO = LLMRequest((Message.user("hello"),))


@pytest.fixture
def stubs() -> Iterator[tuple[OpenAIChatStub, AnthropicStub]]:
    with OpenAIChatStub() as openai_stub, AnthropicStub() as anthropic_stub:
        yield openai_stub, anthropic_stub


@pytest.fixture
def models(container: Container, stubs: tuple[OpenAIChatStub, AnthropicStub]) -> Iterator[MeteredModels]:
    openai_stub, anthropic_stub = stubs
    settings = LLMSettings(
        provider="openai",
        model="gpt-4o-mini",
        api_keys={"openai": "k", "anthropic": "k"},
        base_urls={"openai": openai_stub.base_url, "anthropic": anthropic_stub.origin},
        max_retries=0,
    )
    redis = Redis.from_url(container.settings.redis_url or "")
    yield MeteredModels(
        ProviderCatalog(settings), container.usage, RedisTokenBudget(redis), PriceTable(DEFAULT_PRICES), lambda _: None
    )


def recorded(container: Container, position: int | None) -> Any:
    assert position is not None
    notification = container.usage.recorder.select_notifications(start=position, limit=1)[0]
    event = container.usage.mapper.to_domain_event(notification)
    assert isinstance(event, ModelCall.Created)
    return event


def context() -> Context:
    return Context(tenant_id=f"t-{uuid.uuid4().hex[:8]}", actor_id="user:1", request_id="r-1")


async def test_a_call_is_recorded_with_tokens_cost_and_purpose(
    models: MeteredModels, container: Container, stubs: Any
) -> None:
    stubs[0].add(Reply(text="hi", input_tokens=1000, output_tokens=500, cached_tokens=200))
    model = models.bind(context(), "extraction")
    await model.complete(HELLO)
    event = recorded(container, getattr(model, "position", None))
    assert (event.purpose, event.provider, event.model, event.outcome) == ("extraction", "openai", "gpt-4o-mini", "ok")
    assert (event.input_tokens, event.output_tokens, event.cached_tokens) == (1000, 500, 200)
    assert event.cost_usd == pytest.approx((800 * 0.15 + 200 * 0.075 + 500 * 0.60) / 1e6)


async def test_an_agent_uses_its_own_provider_model_and_temperature(
    models: MeteredModels, container: Container, stubs: Any
) -> None:
    agent_llm = {"provider": "anthropic", "model": "claude-haiku-4-5", "temperature": 0.2}
    model = models.bind(context(), "chat", agent_llm, agent_id="agent-7")
    ends = 0
    async with aclosing(model.stream(HELLO)) as events:
        async for event in events:
            if isinstance(event, StreamEnd):
                ends += 1
                break  # a caller may stop reading at the final event: still one call, answered
    assert ends == 1
    sent = stubs[1].seen[-1].body
    assert (sent["model"], sent["temperature"]) == ("claude-haiku-4-5", 0.2)
    assert stubs[0].seen == []
    event = recorded(container, getattr(model, "position", None))
    assert (event.provider, event.model, event.agent_id, event.purpose, event.outcome) == (
        "anthropic",
        "claude-haiku-4-5",
        "agent-7",
        "chat",
        "ok",
    )


async def test_a_failed_call_is_recorded_with_its_outcome(
    models: MeteredModels, container: Container, stubs: Any
) -> None:
    stubs[0].add(Reply.error(400))
    model = models.bind(context(), "rewrite")
    with pytest.raises(LanguageModelError):
        await model.complete(HELLO)
    event = recorded(container, getattr(model, "position", None))
    assert (event.outcome, event.input_tokens, event.purpose) == ("error", 0, "rewrite")


async def test_calls_tokens_time_and_failures_are_counted_by_provider_model_and_purpose(
    models: MeteredModels, stubs: Any, admin: ApiClient
) -> None:
    before = scrape(admin)
    stubs[0].add(Reply(text="hi", input_tokens=30, output_tokens=7))
    await models.bind(context(), "extraction").complete(HELLO)
    stubs[0].add(Reply.error(400))
    with pytest.raises(LanguageModelError):
        await models.bind(context(), "extraction").complete(HELLO)
    after = scrape(admin)
    call = {"provider": "openai", "model": "gpt-4o-mini", "purpose": "extraction"}

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **call, **labels) - value(before, name, **call, **labels)

    assert moved("agentmem_llm_calls_total", outcome="ok") == 1
    assert moved("agentmem_llm_calls_total", outcome="error") == 1
    assert moved("agentmem_llm_tokens_total", kind="input") == 30
    assert moved("agentmem_llm_tokens_total", kind="output") == 7
    assert moved("agentmem_llm_call_seconds_count") == 2

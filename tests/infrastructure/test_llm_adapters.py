"""Each provider's adapter, through its real SDK, against a local server speaking that provider's wire protocol."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from agentmem.application.llm import (
    InvalidModelOutput,
    LanguageModel,
    LanguageModelError,
    LanguageModelNotConfigured,
    LanguageModelRateLimited,
    LanguageModelTimeout,
    LLMRequest,
    Message,
    OutputSchema,
    StreamEnd,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDone,
    deadline_in,
)
from agentmem.infrastructure.llm.catalog import ProviderCatalog
from agentmem.infrastructure.settings import LLMSettings
from tests.stubs.anthropic_stub import AnthropicStub
from tests.stubs.gemini_stub import GeminiStub
from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply, ScriptedServer

PROVIDERS = ["openai", "azure_openai", "openai_compatible", "anthropic", "gemini"]
STUBS: dict[str, type[ScriptedServer]] = {
    "openai": OpenAIChatStub,
    "azure_openai": OpenAIChatStub,
    "openai_compatible": OpenAIChatStub,
    "anthropic": AnthropicStub,
    "gemini": GeminiStub,
}
WEATHER = Tool(
    "weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
PERSON = OutputSchema(
    "person",
    {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    },
)
HELLO = LLMRequest((Message.system("Be brief."), Message.user("Say hello")))


def model_for(provider: str, stub: Any, **overrides: Any) -> LanguageModel:
    base_url = stub.base_url if provider in ("openai", "openai_compatible") else stub.origin
    settings = LLMSettings(
        provider=provider,
        model="m-1",
        api_keys={provider: "test-key"},
        base_urls={provider: base_url},
        api_version="2024-10-21",
        timeout=overrides.pop("timeout", 5.0),
        max_retries=overrides.pop("max_retries", 2),
    )
    return ProviderCatalog(settings).model()


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stub(provider: str) -> Iterator[Any]:
    with STUBS[provider]() as server:
        yield server


async def test_a_plain_answer_has_text_usage_and_the_provider(provider: str, stub: Any) -> None:
    stub.add(Reply(text="Hello there", input_tokens=21, output_tokens=3, cached_tokens=5))
    answer = await model_for(provider, stub).complete(HELLO)
    assert answer.text == "Hello there"
    assert answer.finish_reason == "stop"
    assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.usage.cached_tokens) == (21, 3, 5)
    assert (answer.provider, answer.retries) == (provider, 0)
    assert answer.latency_ms > 0


async def test_the_system_prompt_reaches_each_provider_its_own_way(provider: str, stub: Any) -> None:
    await model_for(provider, stub).complete(HELLO)
    body = stub.seen[-1].body
    if provider == "anthropic":
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": "Say hello"}]
    elif provider == "gemini":
        assert body["systemInstruction"]["parts"][0]["text"] == "Be brief."
    else:
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_azure_calls_the_deployment_with_the_api_version() -> None:
    with OpenAIChatStub() as stub:
        await model_for("azure_openai", stub).complete(HELLO)
    seen = stub.seen[-1]
    assert seen.path == "/openai/deployments/m-1/chat/completions"
    assert seen.query["api-version"] == ["2024-10-21"]
    assert seen.headers["api-key"] == "test-key"


async def test_a_tool_call_comes_back_parsed(provider: str, stub: Any) -> None:
    stub.add(Reply.calls(("weather", {"city": "Porto"})))
    request = LLMRequest((Message.user("Weather in Porto?"),), tools=(WEATHER,), tool_choice="required")
    answer = await model_for(provider, stub).complete(request)
    assert answer.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [("weather", {"city": "Porto"})]


async def test_a_tool_result_goes_back_to_the_model(provider: str, stub: Any) -> None:
    call = ToolCall("call_0", "weather", {"city": "Porto"})
    request = LLMRequest(
        (Message.user("Weather?"), Message.assistant("", (call,)), Message.tool_result(call, "sunny")),
        tools=(WEATHER,),
    )
    answer = await model_for(provider, stub).complete(request)
    assert answer.text == "ok"
    sent = str(stub.seen[-1].body)
    assert "sunny" in sent
    assert "Porto" in sent


async def test_a_stream_yields_text_then_whole_tool_calls_then_the_end(provider: str, stub: Any) -> None:
    stub.add(Reply(text="It is sunny in Porto today", tool_calls=[("weather", {"city": "Porto", "days": 3})]))
    events = [e async for e in model_for(provider, stub).stream(LLMRequest((Message.user("hi"),), tools=(WEATHER,)))]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    calls = [e.call for e in events if isinstance(e, ToolCallDone)]
    assert len(deltas) > 1
    assert "".join(deltas) == "It is sunny in Porto today"
    assert [(c.name, c.arguments) for c in calls] == [("weather", {"city": "Porto", "days": 3})]
    assert isinstance(events[-1], StreamEnd)
    end = events[-1].answer
    assert end.text == "It is sunny in Porto today"
    assert end.finish_reason == "tool_calls"
    assert (end.usage.input_tokens, end.usage.output_tokens) == (11, 7)


async def test_structured_output_uses_the_native_mechanism_and_parses(provider: str, stub: Any) -> None:
    stub.add(Reply.json({"name": "Ana", "age": 31}))
    answer = await model_for(provider, stub).complete(LLMRequest((Message.user("Ana, 31"),), output=PERSON))
    assert answer.data == {"name": "Ana", "age": 31}
    body = stub.seen[-1].body
    if provider == "anthropic":
        assert body["tool_choice"] == {"type": "tool", "name": "person"}
    elif provider == "gemini":
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert body["generationConfig"]["responseJsonSchema"] == PERSON.schema
    else:
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True


async def test_invalid_structured_output_is_repaired_once(provider: str, stub: Any) -> None:
    stub.add(Reply(text='{"name": "Ana", "age": "thirty'), Reply.json({"name": "Ana", "age": 30}))
    answer = await model_for(provider, stub).complete(LLMRequest((Message.user("Ana"),), output=PERSON))
    assert answer.data == {"name": "Ana", "age": 30}
    assert len(stub.seen) == 2
    assert "invalid" in str(stub.seen[1].body)
    assert answer.usage.input_tokens == 22


async def test_structured_output_invalid_twice_is_a_clear_error(provider: str, stub: Any) -> None:
    stub.add(Reply.json({"name": "Ana"}), Reply.json({"age": 3}))
    with pytest.raises(InvalidModelOutput, match="twice without satisfying the schema 'person'"):
        await model_for(provider, stub).complete(LLMRequest((Message.user("Ana"),), output=PERSON))
    assert len(stub.seen) == 2


async def test_429_with_retry_after_then_success_is_one_retry(provider: str, stub: Any) -> None:
    stub.add(Reply.error(429, retry_after="0"), Reply(text="fine"))
    started = time.monotonic()
    answer = await model_for(provider, stub).complete(HELLO)
    assert (answer.text, answer.retries, len(stub.seen)) == ("fine", 1, 2)
    assert time.monotonic() - started < 5  # Retry-After 0 honoured instead of a long backoff


async def test_500_then_success_is_retried(provider: str, stub: Any) -> None:
    stub.add(Reply.error(500), Reply.error(503), Reply(text="back"))
    answer = await model_for(provider, stub).complete(HELLO)
    assert (answer.text, answer.retries) == ("back", 2)


async def test_other_4xx_are_never_retried(provider: str, stub: Any) -> None:
    stub.add(Reply.error(400))
    with pytest.raises(LanguageModelError, match="HTTP 400 after 1 attempt"):
        await model_for(provider, stub).complete(HELLO)
    assert len(stub.seen) == 1


async def test_429_past_the_last_attempt_is_rate_limited_with_retry_after(provider: str, stub: Any) -> None:
    stub.add(Reply.error(429, retry_after="0"), Reply.error(429, retry_after="7"))
    with pytest.raises(LanguageModelRateLimited) as raised:
        await model_for(provider, stub, max_retries=1).complete(HELLO)
    assert raised.value.retry_after == 7
    assert raised.value.details["retries"] == 1


async def test_a_retry_after_beyond_the_deadline_fails_at_once(provider: str, stub: Any) -> None:
    stub.add(Reply.error(429, retry_after="30"))
    request = LLMRequest(HELLO.messages, deadline=deadline_in(2.0))
    started = time.monotonic()
    with pytest.raises(LanguageModelRateLimited):
        await model_for(provider, stub).complete(request)
    assert time.monotonic() - started < 2.0
    assert len(stub.seen) == 1


async def test_a_hung_server_times_out(provider: str, stub: Any) -> None:
    stub.add(Reply(text="late", hang=30))
    with pytest.raises(LanguageModelTimeout, match="timeout"):
        await model_for(provider, stub, timeout=0.5, max_retries=0).complete(HELLO)


async def test_a_timeout_is_retried_within_the_deadline(provider: str, stub: Any) -> None:
    stub.add(Reply(text="late", hang=30), Reply(text="in time"))
    answer = await model_for(provider, stub, timeout=0.5, max_retries=1).complete(HELLO)
    assert (answer.text, answer.retries) == ("in time", 1)


async def test_a_malformed_stream_chunk_is_a_clear_error(provider: str, stub: Any) -> None:
    stub.add(Reply(text="hello", malformed=True))
    with pytest.raises(LanguageModelError, match="malformed answer"):
        async with asyncio.timeout(10):
            _ = [e async for e in model_for(provider, stub, max_retries=0).stream(HELLO)]


async def test_a_missing_key_names_the_variable_to_set() -> None:
    with pytest.raises(LanguageModelNotConfigured, match="ANTHROPIC_API_KEY"):
        ProviderCatalog(LLMSettings(provider="anthropic", model="claude-haiku-4-5")).model()
    with pytest.raises(LanguageModelNotConfigured, match="AGENTMEM_LLM_BASE_URL"):
        ProviderCatalog(LLMSettings(provider="openai_compatible", model="llama3")).model()
    with pytest.raises(LanguageModelNotConfigured, match="AGENTMEM_LLM="):
        ProviderCatalog(LLMSettings()).model()

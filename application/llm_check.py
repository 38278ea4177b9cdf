"""The check a user runs when wiring up a provider: one tiny answer, one stream, one tool call."""

from __future__ import annotations

import time
from dataclasses import dataclass

from agentmem.application.llm import (
    LanguageModel,
    LLMAnswer,
    LLMRequest,
    Message,
    StreamEnd,
    TextDelta,
    Tool,
    deadline_in,
)
from agentmem.domain.errors import AgentMemError

CHECK_SECONDS = 60.0
CLOCK_TOOL = Tool(
    "get_time",
    "The current time in a time zone.",
    {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
)


@dataclass(frozen=True, slots=True)
class Probe:
    """One check: whether it worked, how long it took, the tokens it used, and what came back (or went wrong)."""

    name: str
    ok: bool
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    detail: str = ""


def _probe(name: str, answer: LLMAnswer, ok: bool, detail: str) -> Probe:
    usage = answer.usage
    return Probe(name, ok, round(answer.latency_ms, 1), usage.input_tokens, usage.output_tokens, answer.retries, detail)


def _hello() -> LLMRequest:
    return LLMRequest(
        (Message.user("Answer with the single word: ready"),), max_output_tokens=16, deadline=deadline_in(CHECK_SECONDS)
    )


async def _complete(model: LanguageModel) -> Probe:
    answer = await model.complete(_hello())
    return _probe("complete", answer, bool(answer.text.strip()), answer.text.strip()[:80])


async def _stream(model: LanguageModel) -> Probe:
    pieces, end = 0, None
    async for event in model.stream(_hello()):
        pieces += isinstance(event, TextDelta)
        end = event.answer if isinstance(event, StreamEnd) else end
    if end is None:
        return Probe("stream", False, 0.0, detail="the stream ended without a final event")
    return _probe("stream", end, pieces > 0, f"{pieces} text deltas: {end.text.strip()[:60]}")


async def _tool_call(model: LanguageModel) -> Probe:
    request = LLMRequest(
        (Message.user("What time is it in Lisbon? Use the tool."),),
        tools=(CLOCK_TOOL,),
        tool_choice=CLOCK_TOOL.name,
        max_output_tokens=64,
        deadline=deadline_in(CHECK_SECONDS),
    )
    answer = await model.complete(request)
    calls = [f"{c.name}({c.arguments})" for c in answer.tool_calls]
    return _probe("tool_call", answer, bool(calls), ", ".join(calls) or "no tool call")


async def check_model(model: LanguageModel) -> list[Probe]:
    """Runs the three probes in turn; a failing one is reported and the next still runs."""
    probes: list[Probe] = []
    for name, probe in (("complete", _complete), ("stream", _stream), ("tool_call", _tool_call)):
        started = time.monotonic()
        try:
            probes.append(await probe(model))
        except AgentMemError as error:
            elapsed = round((time.monotonic() - started) * 1000, 1)
            probes.append(Probe(name, False, elapsed, retries=error.details.get("retries", 0), detail=str(error)))
    return probes

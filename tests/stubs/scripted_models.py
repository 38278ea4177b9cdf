"""A scripted double at the language-model port: each call takes the next `Turn` (text pieces, tool calls, a failure
mid-stream, a pause until the test releases it); every request is kept for the test to read."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentmem.application.llm import (
    LanguageModelError,
    LanguageModelNotConfigured,
    LLMAnswer,
    LLMRequest,
    StreamEnd,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDone,
    Usage,
)
from agentmem.domain.base import Context


@dataclass
class Turn:
    """One scripted answer: `text` in `pieces`, then tool calls; `fail_after` pieces it raises a model error;
    `hold` (a threading.Event) pauses it after its first piece until the test sets it; `delay` before each piece."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pieces: int = 3
    fail_after: int | None = None
    hold: threading.Event | None = None
    delay: float = 0.0
    usage: Usage = field(default_factory=lambda: Usage(20, 5))

    @classmethod
    def call(cls, name: str, **arguments: Any) -> Turn:
        return cls(calls=[(name, arguments)])

    def chunks(self) -> list[str]:
        if not self.text:
            return []
        size = max(1, -(-len(self.text) // self.pieces))
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]


class ScriptedModel:
    """One bound model: answers from the shared script."""

    provider = "scripted"
    model = "scripted-1"

    def __init__(self, models: ScriptedModels, context: Context, purpose: str) -> None:
        self.models = models
        self.context = context
        self.purpose = purpose

    def _next(self, request: LLMRequest) -> Turn:
        with self.models.lock:
            self.models.requests.append((self.purpose, request))
            return self.models.script.popleft() if self.models.script else Turn(text=self.models.default)

    def _answer(self, turn: Turn, number: int) -> LLMAnswer:
        calls = tuple(ToolCall(f"call_{number}_{i}", n, a) for i, (n, a) in enumerate(turn.calls))
        finish = "tool_calls" if calls else "stop"
        return LLMAnswer(turn.text, calls, finish, turn.usage, self.provider, self.model, 1.0)  # type: ignore[arg-type]

    async def complete(self, request: LLMRequest) -> LLMAnswer:
        turn = self._next(request)
        if turn.fail_after is not None:
            raise LanguageModelError("scripted failure")
        return self._answer(turn, len(self.models.requests))

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:
        turn = self._next(request)
        number = len(self.models.requests)
        for index, piece in enumerate(turn.chunks()):
            if turn.fail_after is not None and index >= turn.fail_after:
                raise LanguageModelError("the scripted model broke off mid-stream")
            if turn.delay:
                await asyncio.sleep(turn.delay)
            yield TextDelta(piece)
            if index == 0 and turn.hold is not None:
                await asyncio.to_thread(turn.hold.wait, 30)
        if turn.fail_after is not None:
            raise LanguageModelError("the scripted model broke off mid-stream")
        answer = self._answer(turn, number)
        for call in answer.tool_calls:
            yield ToolCallDone(call)
        yield StreamEnd(answer)


class ScriptedModels:
    """The `LanguageModels` port, scripted; `configured = False` makes every bind fail as with no AGENTMEM_LLM."""

    def __init__(self) -> None:
        self.script: deque[Turn] = deque()
        self.requests: list[tuple[str, LLMRequest]] = []
        self.default = "ok"
        self.configured = True
        self.lock = threading.Lock()

    def add(self, *turns: Turn) -> None:
        with self.lock:
            self.script.extend(turns)

    def bind(
        self,
        context: Context,
        purpose: str,
        agent_llm: Mapping[str, Any] | None = None,  # noqa: ARG002
        agent_id: str | None = None,  # noqa: ARG002
    ) -> ScriptedModel:
        if not self.configured:
            raise LanguageModelNotConfigured()
        return ScriptedModel(self, context, purpose)

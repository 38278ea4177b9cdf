"""A scripted double at the language-model port: answers in order from a script, or by a rule, and records requests.

A reply is a JSON value (the structured answer), a raw string (what a careless model might send), an exception
to raise, or a function of the request returning one of these.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from agentmem.application.llm import LLMAnswer, LLMRequest, StreamEvent, Usage

Reply = Any
Rule = Callable[[LLMRequest], Reply]


class ScriptedModel:
    """Implements the `LanguageModel` port from a script of replies (then `rule`, if set)."""

    provider = "scripted"
    model = "scripted-1"

    def __init__(self, *replies: Reply, rule: Rule | None = None) -> None:
        self.script: deque[Reply] = deque(replies)
        self.rule = rule
        self.requests: list[LLMRequest] = []
        self._lock = threading.Lock()

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def asked(self, output: str) -> list[LLMRequest]:
        """The requests that asked for structured output `output` (facts, decisions, actions, block_value)."""
        return [r for r in self.requests if r.output is not None and r.output.name == output]

    async def complete(self, request: LLMRequest) -> LLMAnswer:
        with self._lock:
            self.requests.append(request)
            if self.script:
                reply = self.script.popleft()
            elif self.rule is not None:
                reply = self.rule
            else:
                raise AssertionError(
                    f"the script ran out at a {request.output.name if request.output else 'text'} call"
                )
        if callable(reply):
            reply = reply(request)
        if isinstance(reply, BaseException):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply)
        data = None if isinstance(reply, str) else reply
        return LLMAnswer(text, (), "stop", Usage(10, 5), self.provider, self.model, 1.0, data=data)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamEvent]:  # pragma: no cover - jobs never stream
        raise NotImplementedError(request)
        yield


class ScriptedCatalog:
    """Implements the `ModelCatalog` port with one scripted model for every provider."""

    def __init__(self, model: ScriptedModel) -> None:
        self.scripted = model

    def configured(self) -> tuple[str, str]:
        return self.scripted.provider, self.scripted.model

    def model(self, provider: str | None = None, model: str | None = None) -> ScriptedModel:  # noqa: ARG002
        return self.scripted


@contextlib.contextmanager
def scripted(container: Any, model: ScriptedModel) -> Iterator[ScriptedModel]:
    """Gives the container's language models the scripted one until the block ends."""
    previous = container.language_models.catalog
    container.language_models.catalog = ScriptedCatalog(model)
    try:
        yield model
    finally:
        container.language_models.catalog = previous


def facts(*items: tuple[str, list[int]] | dict[str, Any]) -> dict[str, Any]:
    """An extraction answer: (text, source indexes) pairs as semantic facts without validity, or full dicts."""
    return {
        "facts": [
            item
            if isinstance(item, dict)
            else {
                "text": item[0],
                "memory_type": "semantic",
                "source_messages": item[1],
                "valid_from": None,
                "valid_to": None,
            }
            for item in items
        ]
    }


def decisions(*items: tuple[int, str, int | None, str | None]) -> dict[str, Any]:
    """A decision answer: (fact, event, memory handle, text) per fact."""
    return {"decisions": [{"fact": f, "event": e, "memory": m, "text": t} for f, e, m, t in items]}


def shown(request: LLMRequest) -> dict[str, int]:
    """The memory handles a decision or consolidation request showed, by text: {"Ana lives in Lisbon": 1}."""
    found: dict[str, int] = {}
    for line in request.messages[-1].content.splitlines():
        if line.startswith("["):
            handle, _, rest = line[1:].partition("] ")
            found[rest.rsplit(" (", 1)[0]] = int(handle)
    return found

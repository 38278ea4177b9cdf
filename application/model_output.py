"""What jobs ask the model for (JSON schemas) and how its answers are checked before anything is written.

A model's answer is untrusted input. Adapters validate structured output against the schema already; this
module checks it again (a scripted or lenient adapter may not) and checks what a schema cannot say: message
indexes that exist, dates that parse and are in order, one decision per fact. A malformed answer raises
InvalidModelOutput (the attempt fails and is retried); a decision naming a memory handle that was never shown
is refused on its own and recorded as refused, never applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from agentmem.application.llm import InvalidModelOutput, LLMAnswer
from agentmem.domain.memory import MAX_TEXT_CHARS, MEMORY_TYPES

EVENTS = ("ADD", "UPDATE", "DELETE", "NONE")
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}


def _object(**properties: Any) -> dict[str, Any]:
    """A strict object schema (every property required, no others), as OpenAI's strict mode wants."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


FACTS_SCHEMA = _object(
    facts={
        "type": "array",
        "items": _object(
            text={"type": "string"},
            memory_type={"type": "string", "enum": list(MEMORY_TYPES)},
            source_messages={"type": "array", "items": {"type": "integer"}},
            valid_from=_NULLABLE_STRING,
            valid_to=_NULLABLE_STRING,
        ),
    }
)
DECISIONS_SCHEMA = _object(
    decisions={
        "type": "array",
        "items": _object(
            fact={"type": "integer"},
            event={"type": "string", "enum": list(EVENTS)},
            memory=_NULLABLE_INT,
            text=_NULLABLE_STRING,
        ),
    }
)
ACTIONS_SCHEMA = _object(
    actions={
        "type": "array",
        "items": _object(
            event={"type": "string", "enum": ["UPDATE", "DELETE"]},
            memory={"type": "integer"},
            text=_NULLABLE_STRING,
            reason={"type": "string"},
        ),
    }
)
REWRITE_SCHEMA = _object(value={"type": "string"})


@dataclass(frozen=True, slots=True)
class Fact:
    """A candidate fact the model extracted: its text, type, source message indexes and validity."""

    text: str
    memory_type: str
    sources: tuple[int, ...]
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored memory shown to the model under a short handle, at the version the model saw."""

    handle: int
    memory_id: UUID
    version: int
    text: str
    memory_type: str


@dataclass(slots=True)
class Decision:
    """What to do with one fact (or, in consolidation, one memory), and what came of it."""

    event: str
    fact: int | None = None
    handle: int | None = None
    memory_id: UUID | None = None
    old_text: str | None = None
    new_text: str | None = None
    status: str = "planned"
    reason: str | None = None
    sources: tuple[int, ...] = field(default_factory=tuple)

    def refuse(self, reason: str) -> None:
        self.status, self.reason = "refused", reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "fact": self.fact,
            "memory_id": str(self.memory_id) if self.memory_id else None,
            "old_text": self.old_text,
            "new_text": self.new_text,
            "status": self.status,
            "reason": self.reason,
            "source_messages": list(self.sources),
        }


def answer_data(answer: LLMAnswer, schema: dict[str, Any]) -> Any:
    """The answer's JSON, checked against `schema` (InvalidModelOutput naming the first problem)."""
    data = answer.data
    if data is None:
        try:
            data = json.loads(answer.text)
        except ValueError as error:
            raise InvalidModelOutput(f"the model's answer is not valid JSON ({error})") from None
    from jsonschema import validators  # imported on the first structured answer only (0.45 s)

    problem = next(iter(validators.validator_for(schema)(schema).iter_errors(data)), None)
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "the top level"
        raise InvalidModelOutput(f"the model's answer does not fit the schema at {where}: {problem.message}"[:500])
    return data


def parse_instant(value: str | None, where: str) -> datetime | None:
    """An ISO-8601 date or instant from the model (UTC when it names no zone)."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidModelOutput(f"{where} is not an ISO-8601 date: {value[:40]!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_facts(data: dict[str, Any], message_count: int) -> list[Fact]:
    """Facts from an extraction answer; a repeated text is one fact with the sources of both."""
    facts: dict[str, Fact] = {}
    for index, item in enumerate(data["facts"]):
        where = f"facts[{index}]"
        text = item["text"].strip()
        if not text or len(text) > MAX_TEXT_CHARS:
            raise InvalidModelOutput(f"{where}.text must hold 1 to {MAX_TEXT_CHARS} characters")
        sources = tuple(sorted(set(item["source_messages"])))
        if any(not 0 <= s < message_count for s in sources):
            raise InvalidModelOutput(f"{where}.source_messages names a message outside 0..{message_count - 1}")
        valid_from = parse_instant(item["valid_from"], f"{where}.valid_from")
        valid_to = parse_instant(item["valid_to"], f"{where}.valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise InvalidModelOutput(f"{where}.valid_to is before its valid_from")
        key = " ".join(text.lower().split())
        earlier = facts.get(key)
        if earlier is None:
            facts[key] = Fact(text, item["memory_type"], sources, valid_from, valid_to)
        else:  # the first statement of a fact wins; it gains the later one's sources
            facts[key] = replace(earlier, sources=tuple(sorted({*earlier.sources, *sources})))
    return list(facts.values())


def parse_decisions(data: dict[str, Any], facts: list[Fact], candidates: dict[int, Candidate]) -> list[Decision]:
    """One decision per fact, in fact order; a decision naming an unknown handle is refused, not applied."""
    decisions: dict[int, Decision] = {}
    for index, item in enumerate(data["decisions"]):
        number = item["fact"]
        if not 0 <= number < len(facts):
            raise InvalidModelOutput(f"decisions[{index}].fact names no fact (0..{len(facts) - 1})")
        if number in decisions:
            raise InvalidModelOutput(f"decisions[{index}] decides fact {number} a second time")
        fact = facts[number]
        decision = Decision(item["event"], fact=number, handle=item["memory"], sources=fact.sources)
        decision.new_text = (item["text"] or "").strip() or None
        if decision.event == "ADD":
            decision.new_text = fact.text
        _resolve(decision, candidates)
        decisions[number] = decision
    missing = [n for n in range(len(facts)) if n not in decisions]
    if missing:
        raise InvalidModelOutput(f"the model gave no decision for facts {missing}")
    return [decisions[n] for n in range(len(facts))]


def parse_actions(data: dict[str, Any], candidates: dict[int, Candidate]) -> list[Decision]:
    """Consolidation actions; unknown handles and a second action on one memory are refused."""
    actions: list[Decision] = []
    seen: set[int] = set()
    for item in data["actions"]:
        decision = Decision(item["event"], handle=item["memory"], reason=item["reason"].strip()[:500] or None)
        decision.new_text = (item["text"] or "").strip() or None
        _resolve(decision, candidates)
        if decision.status == "planned" and decision.handle in seen:
            decision.refuse(f"memory [{decision.handle}] already has an action")
        seen.add(item["memory"])
        actions.append(decision)
    return actions


def _resolve(decision: Decision, candidates: dict[int, Candidate]) -> None:
    """Turns the decision's handle into the memory it names, or refuses the decision."""
    if decision.event == "ADD":
        decision.handle = None
        return
    if decision.handle is None:
        if decision.event != "NONE":
            decision.refuse(f"{decision.event} names no memory")
        return
    candidate = candidates.get(decision.handle)
    if candidate is None:
        decision.refuse(f"memory [{decision.handle}] was not among the memories shown")
        return
    decision.memory_id = candidate.memory_id
    decision.old_text = candidate.text
    if decision.event == "UPDATE" and (decision.new_text is None or len(decision.new_text) > MAX_TEXT_CHARS):
        decision.refuse(f"UPDATE needs the new text (1 to {MAX_TEXT_CHARS} characters)")
    if decision.event != "UPDATE":
        decision.new_text = None

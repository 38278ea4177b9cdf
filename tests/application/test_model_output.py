"""A model's answers are checked before anything is written: schema, message indexes, dates, one decision per fact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from agentmem.application.llm import InvalidModelOutput, LLMAnswer, Usage
from agentmem.application.model_output import (
    FACTS_SCHEMA,
    Candidate,
    Fact,
    answer_data,
    parse_decisions,
    parse_facts,
)


def answer(text: str, data: object = None) -> LLMAnswer:
    return LLMAnswer(text, (), "stop", Usage(), "p", "m", 1.0, data=data)


def fact(
    text: str, sources: list[int], valid_from: str | None = None, valid_to: str | None = None
) -> dict[str, object]:
    return {
        "text": text,
        "memory_type": "semantic",
        "source_messages": sources,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def test_text_is_parsed_when_the_adapter_gave_no_data_and_checked_against_the_schema() -> None:
    assert answer_data(answer('{"facts": []}'), FACTS_SCHEMA) == {"facts": []}
    with pytest.raises(InvalidModelOutput, match="not valid JSON"):
        answer_data(answer('{"facts": ['), FACTS_SCHEMA)
    with pytest.raises(InvalidModelOutput, match="facts/0"):
        answer_data(answer("", {"facts": [{"text": "x"}]}), FACTS_SCHEMA)


def test_dates_become_utc_instants_and_repeated_facts_merge_their_sources() -> None:
    parsed = parse_facts(
        {"facts": [fact("Ana moved to Porto", [1], "2026-10-01"), fact("ana  moved to porto", [0])]}, 2
    )
    assert parsed == [Fact("Ana moved to Porto", "semantic", (0, 1), datetime(2026, 10, 1, tzinfo=UTC))]
    [dated] = parse_facts({"facts": [fact("Ana moved to Porto", [1], "2026-10-01", "2026-12-01T10:00:00Z")]}, 2)
    assert dated.valid_from == datetime(2026, 10, 1, tzinfo=UTC) and dated.valid_to is not None


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (fact("x", [3]), "source_messages"),
        (fact("  ", [0]), "text"),
        (fact("x", [0], "last month"), "valid_from"),
        (fact("x", [0], "2026-10-01", "2026-01-01"), "before"),
    ],
)
def test_facts_the_conversation_cannot_support_are_invalid_output(bad: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidModelOutput, match=problem):
        parse_facts({"facts": [bad]}, 2)


def test_every_fact_needs_exactly_one_decision() -> None:
    facts = [Fact("a", "semantic", (0,)), Fact("b", "semantic", (0,))]
    one = {"fact": 0, "event": "ADD", "memory": None, "text": None}
    with pytest.raises(InvalidModelOutput, match=r"no decision for facts \[1\]"):
        parse_decisions({"decisions": [one]}, facts, {})
    with pytest.raises(InvalidModelOutput, match="second time"):
        parse_decisions({"decisions": [one, one]}, facts, {})
    with pytest.raises(InvalidModelOutput, match="names no fact"):
        parse_decisions({"decisions": [one | {"fact": 5}]}, facts, {})


def test_handles_resolve_to_the_memories_shown_and_anything_else_is_refused() -> None:
    known = Candidate(1, uuid.uuid4(), 3, "Ana lives in Lisbon", "semantic")
    facts = [Fact("Ana lives in Porto", "semantic", (0,)), Fact("Ana is 30", "semantic", (1,)), Fact("c", "core", ())]
    decided = parse_decisions(
        {
            "decisions": [
                {"fact": 0, "event": "UPDATE", "memory": 1, "text": "Ana lives in Porto"},
                {"fact": 1, "event": "DELETE", "memory": 2, "text": None},
                {"fact": 2, "event": "UPDATE", "memory": 1, "text": None},
            ]
        },
        facts,
        {1: known},
    )
    assert (decided[0].memory_id, decided[0].old_text, decided[0].status) == (known.memory_id, known.text, "planned")
    assert decided[1].status == "refused" and "[2]" in (decided[1].reason or "")
    assert decided[2].status == "refused" and "new text" in (decided[2].reason or "")

"""The run's rules: context once, steps within max_steps, one end."""

from __future__ import annotations

import uuid

import pytest

from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.run import ContextFacts, Run, RunStart, StepFacts

CONTEXT = Context("t-1", "key:1", "r-1")


def started(max_steps: int = 2) -> Run:
    start = RunStart(uuid.uuid4(), "openai", "gpt-4o-mini", "sha256:x", 3, max_steps)
    return Run.begin(uuid.uuid4(), start, CONTEXT)


def step(tokens: int = 10) -> StepFacts:
    return StepFacts("stop", tokens, 2, 0, 100.0, 104.0)


def test_a_run_records_its_context_once_then_steps_within_max_steps() -> None:
    run = started(max_steps=2)
    run.record_context(CONTEXT, ContextFacts("sha256:p", [], [], [0, 4], None))
    with pytest.raises(Exception, match="once"):
        run.record_context(CONTEXT, ContextFacts("sha256:p", [], [], [0, 4], None))
    run.record_step(CONTEXT, step(10))
    run.record_step(CONTEXT, step(5))
    with pytest.raises(InvalidInput):
        run.record_step(CONTEXT, step())
    assert run.usage() == {"input_tokens": 15, "output_tokens": 4, "cached_tokens": 0}


def test_an_ended_run_refuses_more_steps_and_a_second_end() -> None:
    run = started()
    run.cancel(CONTEXT, "cancelled by key:1")
    assert (run.status, run.stop_reason, run.error) == ("cancelled", "cancelled", "cancelled by key:1")
    with pytest.raises(Conflict):
        run.record_step(CONTEXT, step())
    with pytest.raises(Conflict):
        run.complete(CONTEXT, "end_turn")


def test_max_steps_must_be_within_the_limit() -> None:
    with pytest.raises(InvalidInput):
        started(max_steps=0)

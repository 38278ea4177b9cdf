"""Group commit: concurrent writes share transactions, and each caller still gets its own result or error."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from agentmem.application.base import IdempotencyKeyReusedError
from agentmem.application.group_commit import GroupCommit
from agentmem.application.memories import NewMemory
from agentmem.domain.base import Context
from agentmem.runtime.container import Container


def test_callers_arriving_during_a_save_are_saved_together() -> None:
    first_started, release = threading.Event(), threading.Event()
    rounds: list[list[str]] = []

    def save_many(groups: Sequence[Sequence[str]]) -> list[int]:
        rounds.append([e for g in groups for e in g])
        if len(rounds) == 1:
            first_started.set()
            release.wait(5)
        return [len(g) for g in groups]

    commit = GroupCommit(save_many)
    with ThreadPoolExecutor(8) as pool:
        leader = pool.submit(commit.save, ["a"])
        assert first_started.wait(5)
        followers = [pool.submit(commit.save, [f"e{i}", "x"]) for i in range(6)]
        while len(commit._queue) < 6:  # all six are queued behind the running save
            threading.Event().wait(0.001)
        release.set()
        assert leader.result() == 1 and [f.result() for f in followers] == [2] * 6
    assert len(rounds) == 2 and sorted(rounds[1]) == sorted([f"e{i}" for i in range(6)] + ["x"] * 6)


def test_a_failing_group_falls_back_to_one_save_per_caller() -> None:
    def save_many(groups: Sequence[Sequence[str]]) -> list[int]:
        if any("bad" in g for g in groups):
            raise ValueError("bad event")
        return [1] * len(groups)

    commit = GroupCommit(save_many)
    assert commit.save(["good"]) == 1
    with pytest.raises(ValueError, match="bad event"):
        commit.save(["bad"])


def test_many_concurrent_adds_are_all_recorded_once(container: Container, context: Context) -> None:
    texts = [f"concurrent memory {i}" for i in range(64)]
    with ThreadPoolExecutor(16) as pool:
        saved = list(pool.map(lambda t: container.memories.add(NewMemory(text=t), context), texts))
    positions = [s.position for s in saved]
    assert len(set(positions)) == 64
    assert sorted(container.memories.get(s.aggregate.id, context.tenant_id).text for s in saved) == sorted(texts)


def test_an_idempotency_conflict_inside_a_group_reaches_only_its_caller(container: Container, context: Context) -> None:
    container.memories.add(NewMemory(text="original"), context, idempotency_key="shared-key")

    def add(index: int) -> str:
        if index == 0:
            try:
                container.memories.add(NewMemory(text="different"), context, idempotency_key="shared-key")
            except IdempotencyKeyReusedError:
                return "refused"
            return "accepted"
        return container.memories.add(NewMemory(text=f"other {index}"), context).aggregate.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(add, range(8)))
    assert results == ["refused", *[f"other {i}" for i in range(1, 8)]]

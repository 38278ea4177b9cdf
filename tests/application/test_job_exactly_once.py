"""Jobs apply their decisions exactly once: killed mid-way and retried, run twice, run at once, or two at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from agentmem.application.llm import LLMRequest
from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.jobs import job, later, queue, remember, run, texts, user
from tests.scripted_model import ScriptedModel, decisions, facts, scripted, shown

pytestmark = pytest.mark.usefixtures("worker")


class Killed(BaseException):
    """The worker process dying: nothing below the runner catches it."""


class Porto:
    """A model that always extracts "<who> lives in Porto" and says NONE when it is known already, else ADD."""

    def __init__(self, who: str) -> None:
        self.fact = f"{who} lives in Porto"
        self.kill_next_decision = False

    def __call__(self, request: LLMRequest) -> dict[str, Any]:
        assert request.output is not None
        if request.output.name == "facts":
            return facts((self.fact, [0]))
        if self.kill_next_decision:
            self.kill_next_decision = False
            raise Killed
        known = shown(request).get(self.fact)
        return decisions((0, "NONE", known, None)) if known else decisions((0, "ADD", None, None))


@pytest.fixture
def porto(container: Container) -> Iterator[Porto]:
    rule = Porto(user())
    with scripted(container, ScriptedModel(rule=rule)):
        yield rule


def head(http: TestClient, container: Container) -> int:
    return int(http.blocking_portal.call(asyncio.to_thread, container.positions.head))


def test_a_job_killed_mid_way_is_retried_after_its_lease_and_applies_once(
    client: ApiClient, http: TestClient, container: Container, porto: Porto
) -> None:
    who = porto.fact.split()[0]
    remember(client, f"{who} lives in Lisbon", who)
    porto.kill_next_decision = True
    queued = queue(client, "I live in Porto now", user_id=who)

    async def until_killed() -> bool:
        try:
            await container.job_runner.run(UUID(queued["job_id"]))
        except Killed:
            return True
        return False

    assert http.blocking_portal.call(until_killed)
    assert job(client, queued["job_id"])["status"] == "running"
    assert run(http, container, queued["job_id"]) == "running"  # the lease still holds: nobody else takes it

    lease = container.job_policy.lease_seconds
    assert run(http, container, queued["job_id"], later(container, lease + 1)) == "succeeded"
    done = job(client, queued["job_id"])
    assert done["attempts"] == 2 and done["error"] is None
    assert texts(client, who, done["position"]) == [f"{who} lives in Lisbon", porto.fact]


def test_a_job_run_again_after_it_succeeded_writes_nothing(
    client: ApiClient, http: TestClient, container: Container, porto: Porto
) -> None:
    who = porto.fact.split()[0]
    queued = queue(client, "I live in Porto", user_id=who)
    assert run(http, container, queued["job_id"]) == "succeeded"
    before = head(http, container)
    assert run(http, container, queued["job_id"], later(container, 10_000)) == "succeeded"
    assert head(http, container) == before
    assert texts(client, who, job(client, queued["job_id"])["position"]) == [porto.fact]


def test_one_job_run_by_two_workers_at_once_applies_once(
    client: ApiClient, http: TestClient, container: Container, porto: Porto
) -> None:
    who = porto.fact.split()[0]
    queued = queue(client, "I live in Porto", user_id=who)

    async def twice() -> list[str | None]:
        job_id = UUID(queued["job_id"])
        return list(await asyncio.gather(container.job_runner.run(job_id), container.job_runner.run(job_id)))

    outcomes = http.blocking_portal.call(twice)
    assert sorted(outcomes, key=str) == sorted([None, "succeeded"], key=str)
    done = job(client, queued["job_id"])
    assert done["attempts"] == 1
    assert texts(client, who, done["position"]) == [porto.fact]


def test_two_conversations_of_one_user_at_once_decide_one_after_the_other(
    client: ApiClient, http: TestClient, container: Container, porto: Porto
) -> None:
    who = porto.fact.split()[0]
    first = queue(client, "I live in Porto", user_id=who)
    second = queue(client, "Porto is my home", user_id=who)

    async def both() -> list[str | None]:
        runner = container.job_runner
        return list(await asyncio.gather(runner.run(UUID(first["job_id"])), runner.run(UUID(second["job_id"]))))

    assert http.blocking_portal.call(both) == ["succeeded", "succeeded"]
    results = [job(client, queued["job_id"]) for queued in (first, second)]
    events = sorted(d["event"] for r in results for d in r["result"]["decisions"])
    assert events == ["ADD", "NONE"]
    assert texts(client, who, max(r["position"] for r in results)) == [porto.fact]

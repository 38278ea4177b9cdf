"""The job aggregate: attempts, leases, failures with and without a retry, success, and retries on request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.job import Job

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
CONTEXT = Context("tenant", "worker", "request")


def queued(max_attempts: int = 2) -> Job:
    return Job.create(
        id=uuid.uuid4(), context=CONTEXT, kind="extraction", scope={}, params={}, max_attempts=max_attempts
    )


def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


def test_an_attempt_holds_the_job_until_its_lease_ends() -> None:
    job = queued()
    assert job.start(CONTEXT, NOW, minutes(5)) and (job.status, job.attempts) == ("running", 1)
    assert not job.start(CONTEXT, minutes(1), minutes(6))  # another worker: the lease holds
    assert job.attempts == 1


def test_a_failed_attempt_is_queued_again_until_the_attempts_are_spent() -> None:
    job = queued(max_attempts=2)
    job.start(CONTEXT, NOW, minutes(5))
    job.fail(CONTEXT, 1, "model timed out", retry_at=minutes(1))
    assert (job.status, job.error, job.next_attempt_at) == ("queued", "model timed out", minutes(1))
    assert not job.start(CONTEXT, NOW, minutes(5))  # not due yet
    assert job.start(CONTEXT, minutes(1), minutes(6))
    job.fail(CONTEXT, 2, "model timed out again", retry_at=minutes(2))
    assert (job.status, job.next_attempt_at) == ("failed", None)


def test_a_lease_that_ran_out_records_the_interrupted_attempt_before_the_next() -> None:
    job = queued(max_attempts=2)
    job.start(CONTEXT, NOW, minutes(5))
    job.collect_events()
    assert job.start(CONTEXT, minutes(6), minutes(11))
    events = job.collect_events()
    assert [type(e).__name__ for e in events] == ["AttemptFailed", "Started"]
    assert "interrupted" in events[0].reason and job.attempts == 2


def test_an_interrupted_last_attempt_fails_the_job() -> None:
    job = queued(max_attempts=1)
    job.start(CONTEXT, NOW, minutes(5))
    assert not job.start(CONTEXT, minutes(6), minutes(11))
    assert job.status == "failed" and "interrupted" in (job.error or "")


def test_success_ends_the_job_and_only_the_running_attempt_may_end_it() -> None:
    job = queued()
    job.start(CONTEXT, NOW, minutes(5))
    with pytest.raises(Conflict):
        job.succeed(CONTEXT, 2, {})
    job.succeed(CONTEXT, 1, {"added": 1})
    assert job.finished and job.result == {"added": 1}
    assert not job.start(CONTEXT, minutes(10), minutes(15))


def test_only_a_failed_job_can_be_retried_and_it_gets_fresh_attempts() -> None:
    job = queued(max_attempts=1)
    with pytest.raises(Conflict):
        job.request_retry(CONTEXT)
    job.start(CONTEXT, NOW, minutes(5))
    job.fail(CONTEXT, 1, "boom", retry_at=minutes(1))
    job.request_retry(CONTEXT)
    assert (job.status, job.attempt_limit) == ("queued", 2)
    assert job.start(CONTEXT, NOW, minutes(5)) and job.attempts == 2


def test_unknown_kinds_and_zero_attempts_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Job.create(id=uuid.uuid4(), context=CONTEXT, kind="dreaming", scope={}, params={}, max_attempts=1)
    with pytest.raises(InvalidInput):
        Job.create(id=uuid.uuid4(), context=CONTEXT, kind="extraction", scope={}, params={}, max_attempts=0)

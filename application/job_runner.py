"""Runs one attempt of a job: start it in the log, hand it to its kind's handler, record success or failure.

Exactly once: a handler ends by `Attempt.succeed`, which saves the job's Succeeded event and every memory event
the job decided on in one transaction (one eventsourcing save). If another run of the same job got there
first, the job's version is taken and the save fails whole; the job is then found succeeded and nothing else
happens. A failure is recorded with its reason and, while attempts remain, queued again after a backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from agentmem.application import telemetry
from agentmem.application.base import ApplicationError
from agentmem.application.jobs import JobApplication, JobPolicy, JobQueue
from agentmem.application.llm import LanguageModelNotConfigured
from agentmem.application.metrics import JOB_SECONDS, JOBS_FINISHED
from agentmem.domain.base import Context
from agentmem.domain.errors import AgentMemError, Conflict, InvalidInput, LimitExceeded, NotFound
from agentmem.domain.job import Job
from agentmem.projections.jobs import JobRow

log = logging.getLogger("agentmem.jobs")
WORKER_ACTOR = "system:jobs"
FINAL_ERRORS = (LanguageModelNotConfigured, NotFound, InvalidInput)
"""Failures another attempt cannot fix (no model configured, the episode gone, invalid job parameters): the job
fails at once; `POST /v1/jobs/{id}/retry` queues it again once the cause is fixed."""


class ConcurrentChangeError(ApplicationError, Conflict):
    """Memories the job decided on changed before its decisions were saved; the next attempt decides again."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def reason_of(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass
class Attempt:
    """One running attempt of a job: the context its memory events carry, and how it records its result."""

    job: Job
    number: int
    app: JobApplication
    position: int | None = None

    @property
    def context(self) -> Context:
        """Memory events are made on behalf of whoever queued the job, in the request that queued it."""
        return Context(self.job.tenant_id, self.job.created_by, self.job.request_id)

    async def succeed(self, result: dict[str, Any], aggregates: Sequence[Aggregate] = ()) -> int:
        """Saves the result with the aggregates' pending events, atomically; returns the log position."""
        lifecycle = Context(self.job.tenant_id, WORKER_ACTOR, self.job.request_id)
        self.job.succeed(lifecycle, self.number, result)
        position = await asyncio.to_thread(lambda: self.app.try_record(*aggregates, self.job))
        if position is None:
            raise ConcurrentChangeError("memories or the job changed while the job ran; deciding again")
        self.position = position
        return position


class JobHandler(Protocol):
    """Does the work of one kind of job and ends with `attempt.succeed(...)`."""

    async def __call__(self, attempt: Attempt) -> None: ...


class JobRunner:
    """Runs attempts of any tenant's jobs: what the job worker calls for each entry of the queue."""

    def __init__(
        self,
        app: JobApplication,
        handlers: Mapping[str, JobHandler],
        queue: JobQueue,
        policy: JobPolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.app = app
        self.handlers = handlers
        self.queue = queue
        self.policy = policy
        self.clock = clock

    async def run(self, job_id: UUID) -> str | None:
        """Runs the job's next attempt if it is due; returns its status afterwards (None for an unknown id)."""
        job = await asyncio.to_thread(self.app.any_job, job_id)
        if job is None:
            log.warning("job %s is not in the log; dropped", job_id)
            return None
        now = self.clock()
        context = Context(job.tenant_id, WORKER_ACTOR, job.request_id)
        started = job.start(context, now, now + timedelta(seconds=self.policy.lease_seconds))
        if job.pending_events and await asyncio.to_thread(self.app.try_record, job) is None:
            return None  # another worker moved the job first; it runs there
        if not started:
            if job.status == "queued" and job.next_attempt_at is not None:
                await self.queue.enqueue(job.id, job.version, (job.next_attempt_at - now).total_seconds())
            return job.status
        attempt = Attempt(job, job.attempts, self.app)
        parent = await asyncio.to_thread(self.app.trace_of, job.id) if telemetry.tracing() else None
        attributes = {"agentmem.job_kind": job.kind, "agentmem.attempt": attempt.number}
        started_at = time.perf_counter()
        with telemetry.span(f"job {job.kind}", attributes, parent=parent, kind="consumer"):  # the request's trace
            status = await self._attempt(job, attempt)
        outcome = {"succeeded": "succeeded", "queued": "retried", "failed": "failed"}.get(status or "", "superseded")
        JOBS_FINISHED.inc(kind=job.kind, outcome=outcome)
        JOB_SECONDS.observe(time.perf_counter() - started_at, kind=job.kind, outcome=outcome)
        return status

    async def _attempt(self, job: Job, attempt: Attempt) -> str | None:
        try:
            await self.handlers[job.kind](attempt)
            if attempt.position is None:
                raise RuntimeError(f"the {job.kind} handler ended without recording a result")
        except Exception as error:
            if isinstance(error, AgentMemError):
                log.warning("job %s attempt %s failed: %s", job.id, attempt.number, reason_of(error))
            else:
                log.exception("job %s attempt %s failed unexpectedly", job.id, attempt.number)
            return await self._failed(job.id, attempt.number, error)
        return "succeeded"

    async def _failed(self, job_id: UUID, number: int, error: Exception) -> str | None:
        """Records the failure of attempt `number` unless the job moved on; queues the next attempt."""
        job = await asyncio.to_thread(self.app.any_job, job_id)
        if job is None or job.status != "running" or job.attempts != number:
            return None if job is None else job.status
        delay = self.policy.backoff(number)
        if isinstance(error, LimitExceeded) and error.retry_after:
            delay = max(delay, float(error.retry_after))
        retry_at = None if isinstance(error, FINAL_ERRORS) else self.clock() + timedelta(seconds=delay)
        job.fail(Context(job.tenant_id, WORKER_ACTOR, job.request_id), number, reason_of(error), retry_at)
        if await asyncio.to_thread(self.app.try_record, job) is None:
            return None
        if job.status == "queued":
            await self.queue.enqueue(job.id, job.version, delay)
        return job.status

    async def sweep(self, unfinished: Sequence[JobRow]) -> int:
        """Queues again the jobs the queue may have lost (a Redis restart); returns how many it queued."""
        now = self.clock()
        for job in unfinished:
            due = job.next_attempt_at if job.status == "queued" and job.next_attempt_at else now
            await self.queue.enqueue(job.id, job.version, max(0.0, (due - now).total_seconds()))
        return len(unfinished)

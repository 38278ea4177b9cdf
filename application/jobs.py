"""Jobs and the episodes they read: commands and by-id reads on the log, and the ports a job worker needs.

A job's state lives in the log (domain/job.py); the queue (arq on the Redis-compatible server) only says
"run job X now or at T". So the queue may lose an entry (a Redis restart) or hand one out twice (a worker
killed mid-job) without losing or repeating work: the job worker sweeps the jobs read model for queued jobs
the queue forgot, and a job that already succeeded does nothing when run again.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from agentmem.application.base import AgentMemApplication, NotFoundError, Saved
from agentmem.domain.base import Context
from agentmem.domain.episode import Episode
from agentmem.domain.job import Job


class JobNotFoundError(NotFoundError):
    """No such job for this tenant."""


class EpisodeNotFoundError(NotFoundError):
    """No such episode for this tenant."""


class JobQueue(Protocol):
    """Says which job to run when; the log, not the queue, says whether it still needs running."""

    async def enqueue(self, job_id: UUID, version: int, defer_seconds: float = 0.0) -> None:
        """Queues the job as it is at `version` (queuing the same version twice queues it once)."""
        ...


class ScopeLocks(Protocol):
    """Serialises jobs that change one scope's memories (two conversations of one user must not both ADD)."""

    def hold(self, key: str, seconds: float) -> AbstractAsyncContextManager[None]:
        """Waits for and holds the lock on `key` (at most `seconds`; LockTimeout after waiting as long)."""
        ...


class LogHead(Protocol):
    """The position of the last event in the log."""

    def head(self) -> int: ...


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """How jobs run: attempts, backoff between them, how long one attempt may hold a job."""

    max_attempts: int = 3
    retry_seconds: float = 5.0
    lease_seconds: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Seconds before the attempt after `attempt`: doubling from `retry_seconds`, at most ten minutes."""
        return min(self.retry_seconds * 2 ** (attempt - 1), 600.0)


@dataclass(frozen=True, slots=True)
class NewConversation:
    """Messages to remember ({role, content, name?, created_at?}), their scope and metadata."""

    messages: list[dict[str, Any]]
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> dict[str, str | None]:
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}


@dataclass(frozen=True, slots=True)
class Queued:
    """A job as it was queued: with the episode it reads, if any, and the log position of its Created event."""

    job: Job
    episode: Episode | None
    position: int


class JobApplication(AgentMemApplication):
    """Episodes and jobs of every tenant; the job worker loads jobs without a tenant (it serves them all)."""

    aggregate_cache_size = 1_000

    def queue(self, job: Job, episode: Episode | None = None) -> Queued:
        """Records a new job (and the episode it reads) in one transaction."""
        aggregates = [episode, job] if episode is not None else [job]
        return Queued(job, episode, self.record(*aggregates))

    def replay(self, job_id: UUID, episode_id: UUID | None, tenant_id: str) -> Queued | None:
        """The job an idempotent retry of the same request queued before, None if there is none."""
        job = self.load(Job, job_id, tenant_id)
        if job is None or job.episode_id != episode_id:
            return None
        episode = self.load(Episode, episode_id, tenant_id) if episode_id else None
        return Queued(job, episode, self.position_of(job.id, 1))

    def job(self, job_id: UUID, tenant_id: str) -> Job:
        return self.get_live(Job, job_id, tenant_id, JobNotFoundError)

    def episode(self, episode_id: UUID, tenant_id: str) -> Episode:
        return self.get_live(Episode, episode_id, tenant_id, EpisodeNotFoundError)

    def any_job(self, job_id: UUID) -> Job | None:
        """The job of whichever tenant (for the worker), None if absent."""
        try:
            found = self.repository.get(job_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Job) else None

    def any_episode(self, episode_id: UUID) -> Episode | None:
        try:
            found = self.repository.get(episode_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, Episode) else None

    def retry(self, job_id: UUID, context: Context) -> Saved[Job]:
        """Queues a failed job again (JobStateError, a conflict, for any other status)."""

        def retry(job: Job) -> bool:
            job.request_retry(context)
            return True

        return self.change(Job, job_id, context, None, retry, JobNotFoundError)

    def position(self, job: Job) -> int:
        """The log position of the job's latest event (the `min_position` that shows its effects)."""
        return self.position_of(job.id, job.version)

    def try_record(self, *aggregates: Any) -> int | None:
        """Records atomically; None when another writer got there first (an aggregate's version was taken)."""
        try:
            return self.record(*aggregates)
        except IntegrityError:
            return None

"""Jobs on arq over the Redis-compatible server: the queue adapter, scope locks, and the job worker.

An arq entry names a job and the job's version when it was queued (`<job id>:<version>`): queuing the same
state twice queues it once, and every new state (a retry, an attempt that failed) gets an entry of its own.
Entries carry only the job id, as JSON: the job itself is read from the log. Once a minute the worker sweeps
the jobs read model for jobs queued longer than a minute, or running past their lease, and queues them again
(a Redis restart may have lost their entries); a job that needs nothing more does nothing when it runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from arq.connections import ArqRedis
from arq.cron import cron
from arq.worker import Worker, func
from redis.asyncio import Redis
from redis.exceptions import LockError

from agentmem.application.job_runner import JobRunner
from agentmem.domain.errors import Unavailable
from agentmem.infrastructure.settings import Settings
from agentmem.projections.jobs import JobQueries

log = logging.getLogger("agentmem.jobs")
RUN_JOB = "run_job"
SWEEP_GRACE = 60.0
"""Seconds a queued job may wait for a worker, beyond its lease a running one may take, before the sweep queues it
again: far above the time a worker takes to pick an entry (0.05 s polls), so the sweep only repairs losses."""
SWEEP_BATCH = 1_000
LOCK_PREFIX = "agentmem:lock:"


class ScopeBusyError(Unavailable):
    """Another job held the scope's lock for as long as this one was willing to wait."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _loads(raw: bytes) -> Any:
    return json.loads(raw)


def arq_redis(redis: Redis, queue_name: str) -> ArqRedis:
    """An arq client on the process's Redis connection pool, reading and writing JSON entries (never pickle)."""
    return ArqRedis(
        redis.connection_pool, job_serializer=_dumps, job_deserializer=_loads, default_queue_name=queue_name
    )


class ArqJobQueue:
    """Implements the `JobQueue` port."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.pool = arq_redis(redis, queue_name)

    async def enqueue(self, job_id: UUID, version: int, defer_seconds: float = 0.0) -> None:
        await self.pool.enqueue_job(
            RUN_JOB, str(job_id), _job_id=f"{job_id}:{version}", _defer_by=defer_seconds if defer_seconds > 0 else None
        )


class RedisScopeLocks:
    """Implements the `ScopeLocks` port with Redis locks that expire on their own if their holder dies."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @contextlib.asynccontextmanager
    async def hold(self, key: str, seconds: float) -> AsyncIterator[None]:
        lock = self.redis.lock(LOCK_PREFIX + key, timeout=seconds, blocking_timeout=seconds, sleep=0.05)
        if not await lock.acquire():
            raise ScopeBusyError(f"another job kept {key} busy for {seconds:.0f} s", retry_after=int(seconds))
        try:
            yield
        finally:
            with contextlib.suppress(LockError):  # expired while held: the job's save decided already
                await lock.release()


def job_worker(
    settings: Settings, runner: JobRunner, queries: JobQueries, redis: Redis, handle_signals: bool = True
) -> Worker:
    """The arq worker `agentmem jobs` runs: attempts of queued jobs, and the sweep once a minute."""

    async def run_job(ctx: dict[str, Any], job_id: str) -> None:  # noqa: ARG001 - arq's signature
        await runner.run(UUID(job_id))

    async def sweep(ctx: dict[str, Any]) -> None:  # noqa: ARG001
        now = datetime.now(UTC)
        lost = await queries.unfinished(
            now - timedelta(seconds=SWEEP_GRACE),
            now - timedelta(seconds=settings.job_timeout + SWEEP_GRACE),
            SWEEP_BATCH,
        )
        if lost:
            log.info("sweep: queued %d jobs again", await runner.sweep(lost))

    return Worker(
        functions=[func(run_job, name=RUN_JOB, timeout=settings.job_timeout + SWEEP_GRACE, max_tries=100)],
        cron_jobs=[cron(sweep, name="sweep", run_at_startup=True)],
        redis_pool=arq_redis(redis, settings.job_queue),
        queue_name=settings.job_queue,
        max_jobs=settings.job_concurrency,
        keep_result=0,
        poll_delay=0.05,
        handle_signals=handle_signals,
        job_serializer=_dumps,
        job_deserializer=_loads,
        log_results=False,
    )

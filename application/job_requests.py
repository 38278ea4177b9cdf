"""What callers ask of jobs: hand in a conversation, consolidate a scope, re-extract an episode, follow and retry jobs.

Queuing is one transaction (the episode and the job's Created event) followed by one Redis call; the model is
only checked to be configured, never called, so the answer takes milliseconds whatever the model's speed. If
the Redis call fails the job is still recorded: the job worker's sweep queues it within a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from agentmem.application.base import IdempotencyKeyReusedError
from agentmem.application.extraction import Extraction, Plan
from agentmem.application.jobs import JobApplication, JobPolicy, JobQueue, NewConversation, Queued
from agentmem.application.llm import LanguageModels
from agentmem.application.memories import idempotent_id
from agentmem.application.prompts import prompt_set
from agentmem.application.reads import Reads
from agentmem.domain.agent import LLM_PROVIDERS
from agentmem.domain.base import Context
from agentmem.domain.episode import Episode
from agentmem.domain.errors import InvalidInput
from agentmem.domain.job import Job
from agentmem.projections.jobs import READ_MODEL, JobPage, JobQueries
from agentmem.projections.queries import ListOrder

log = logging.getLogger("agentmem.jobs")
MAX_WAIT = 30.0
MAX_CONSOLIDATE = 500


@dataclass(frozen=True, slots=True)
class JobState:
    """A job now, and the log position of its latest event."""

    job: Job
    position: int


def model_override(spec: str | None) -> dict[str, str] | None:
    """`provider:model` as the language-model port's override ({"provider", "model"}); None keeps the default."""
    if spec is None:
        return None
    provider, _, model = spec.partition(":")
    if provider not in LLM_PROVIDERS or not model:
        raise InvalidInput(
            "model", f"model must be <provider>:<model> with a provider among {', '.join(LLM_PROVIDERS)}"
        )
    return {"provider": provider, "model": model}


class Jobs:
    """Queues jobs, answers what they did, and retries failed ones; tenant-scoped like every other use case."""

    def __init__(
        self,
        app: JobApplication,
        queue: JobQueue,
        models: LanguageModels,
        extraction: Extraction,
        queries: JobQueries,
        reads: Reads,
        policy: JobPolicy,
    ) -> None:
        self.app = app
        self.queue = queue
        self.models = models
        self.extraction = extraction
        self.queries = queries
        self.reads = reads
        self.policy = policy

    async def add_conversation(
        self, new: NewConversation, context: Context, max_memories: int, idempotency_key: str | None = None
    ) -> Queued:
        """Records the episode and its extraction job, then queues the job (503 first when no model is set)."""
        params = self._params(context, None, None, max_memories)
        episode_id, job_id = uuid4(), uuid4()
        if idempotency_key is not None:
            episode_id = idempotent_id(context.tenant_id, idempotency_key, 0)
            job_id = idempotent_id(context.tenant_id, idempotency_key, 1)
        episode = Episode.create(
            id=episode_id, context=context, messages=new.messages, **new.scope, metadata=new.metadata
        )
        job = self._job(job_id, context, "extraction", episode.scope, params, episode_id)
        try:
            queued = await asyncio.to_thread(self.app.queue, job, episode)
        except IntegrityError:
            if idempotency_key is None:
                raise
            replayed = await asyncio.to_thread(self.app.replay, job_id, episode_id, context.tenant_id)
            if replayed is None or replayed.episode is None or replayed.episode.messages != episode.messages:
                raise IdempotencyKeyReusedError(
                    "this Idempotency-Key was already used with a different request"
                ) from None
            return replayed
        await self._enqueue(queued.job)
        return queued

    async def consolidate(
        self,
        scope: Mapping[str, str | None],
        context: Context,
        max_memories: int,
        *,
        dry_run: bool = False,
        limit: int = 100,
        model: str | None = None,
        prompt_version: str | None = None,
    ) -> Queued:
        """Queues a consolidation of one user's, agent's or run's memories."""
        if not any(scope.values()):
            raise InvalidInput("user_id", "consolidation needs a scope: user_id, agent_id or run_id")
        if not 2 <= limit <= MAX_CONSOLIDATE:
            raise InvalidInput("limit", f"limit must be 2 to {MAX_CONSOLIDATE}")
        params = self._params(context, model, prompt_version, max_memories) | {"dry_run": dry_run, "limit": limit}
        job = self._job(uuid4(), context, "consolidation", dict(scope), params)
        queued = await asyncio.to_thread(self.app.queue, job)
        await self._enqueue(job)
        return queued

    async def reextract(
        self,
        episode_id: UUID,
        context: Context,
        max_memories: int,
        *,
        apply: bool = False,
        model: str | None = None,
        prompt_version: str | None = None,
    ) -> Queued | Plan:
        """The decisions extraction would make now (dry run), or, with `apply`, a job that makes them."""
        episode = await asyncio.to_thread(self.app.episode, episode_id, context.tenant_id)
        params = self._params(context, model, prompt_version, max_memories)
        if not apply:
            return await self.extraction.preview(episode, params, context)
        job = self._job(uuid4(), context, "extraction", episode.scope, params, episode.id)
        queued = await asyncio.to_thread(self.app.queue, job)
        await self._enqueue(job)
        return queued

    async def retry(self, job_id: UUID, context: Context) -> JobState:
        """Queues a failed job again with fresh attempts (409 unless it failed)."""
        saved = await asyncio.to_thread(self.app.retry, job_id, context)
        await self._enqueue(saved.aggregate)
        return JobState(saved.aggregate, saved.position)

    async def get(self, job_id: UUID, tenant_id: str, wait: float = 0.0) -> JobState:
        """The job now; with `wait`, once it has finished or after `wait` seconds (at most MAX_WAIT)."""
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT)
        pause = 0.02
        while True:
            job = await asyncio.to_thread(self.app.job, job_id, tenant_id)
            if job.finished or time.monotonic() >= deadline:
                return JobState(job, await asyncio.to_thread(self.app.position, job))
            await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))
            pause = min(pause * 2, 0.5)

    async def list(
        self,
        tenant_id: str,
        *,
        status: str | None = None,
        kind: str | None = None,
        episode_id: UUID | None = None,
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        min_position: int | None = None,
    ) -> JobPage:
        """One page of the tenant's jobs, once the jobs read model has applied `min_position`."""
        await self.reads.wait([READ_MODEL], min_position, tenant_id)
        return await self.queries.list(
            tenant_id, status=status, kind=kind, episode_id=episode_id, order=order, limit=limit, cursor=cursor
        )

    def _params(
        self, context: Context, model: str | None, prompt_version: str | None, max_memories: int
    ) -> dict[str, Any]:
        llm = model_override(model)
        self.models.bind(context, "extraction", agent_llm=llm)  # LanguageModelNotConfigured (503) before storing
        return {"llm": llm, "prompt_version": prompt_set(prompt_version).version, "max_memories": max_memories}

    def _job(
        self,
        job_id: UUID,
        context: Context,
        kind: str,
        scope: dict[str, Any],
        params: dict[str, Any],
        episode_id: UUID | None = None,
    ) -> Job:
        return Job.create(
            id=job_id,
            context=context,
            kind=kind,
            scope=scope,
            params=params,
            max_attempts=self.policy.max_attempts,
            episode_id=episode_id,
        )

    async def _enqueue(self, job: Job) -> None:
        try:
            await self.queue.enqueue(job.id, job.version)
        except Exception as error:  # noqa: BLE001 - the job is recorded; the worker's sweep queues it later
            log.warning("job %s recorded but not queued (%s); the job worker's sweep will queue it", job.id, error)

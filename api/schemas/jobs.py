"""Request and response bodies of jobs, episodes, conversations added to /v1/memories, and consolidation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from agentmem.api.schemas.memories import ScopeId
from agentmem.application.job_requests import JobState
from agentmem.domain.episode import Episode
from agentmem.projections.jobs import JobRow

JobStatus = Literal["queued", "running", "succeeded", "failed"]
JobKind = Literal["extraction", "consolidation"]
ModelSpec = Annotated[
    str, Meta(min_length=3, max_length=255, description="`<provider>:<model>`; default AGENTMEM_LLM.")
]
PromptVersion = Annotated[str, Meta(min_length=1, max_length=32, description="Prompt set version; default the newest.")]


class ExtractionQueuedOut(Struct):
    """A conversation accepted for extraction: follow `job_id` at GET /v1/jobs/{id}."""

    job_id: str
    episode_id: str | None
    status: JobStatus
    position: int


class ConsolidateIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """Which memories to consolidate (at least one scope id), and how."""

    user_id: ScopeId | None = None
    agent_id: ScopeId | None = None
    run_id: ScopeId | None = None
    dry_run: bool = False
    limit: Annotated[int, Meta(ge=2, le=500, description="At most this many memories, oldest first.")] = 100
    model: ModelSpec | None = None
    prompt_version: PromptVersion | None = None


class ReextractIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """Run an episode's extraction again: a dry run (the default) answers with the decisions; `apply` queues a job."""

    model: ModelSpec | None = None
    prompt_version: PromptVersion | None = None
    apply: bool = False


class FactOut(Struct):
    """A fact the model extracted."""

    text: str
    memory_type: str
    source_messages: list[int]
    valid_from: str | None
    valid_to: str | None


class DecisionOut(Struct):
    """One decision: ADD, UPDATE, DELETE or NONE; `status` applied, unchanged, planned (dry run) or refused."""

    event: str
    fact: int | None
    memory_id: str | None
    old_text: str | None
    new_text: str | None
    status: str
    reason: str | None
    source_messages: list[int]


class JobResultOut(Struct):
    """What a job did (or, for a dry run, would do), and the model and prompt version it used."""

    dry_run: bool
    provider: str
    model: str
    prompt_version: str
    facts: list[FactOut]
    decisions: list[DecisionOut]
    added: int
    updated: int
    deleted: int
    memories_seen: int | None = None


class JobOut(Struct):
    """A job now; pass `position` as `min_position` to read what it wrote."""

    id: str
    kind: str
    status: JobStatus
    attempts: int
    max_attempts: int
    error: str | None
    next_attempt_at: datetime | None
    episode_id: str | None
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    model: str | None
    prompt_version: str | None
    dry_run: bool
    result: JobResultOut | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    position: int


class JobSummaryOut(Struct):
    """A job in a list (GET /v1/jobs/{id} has its result)."""

    id: str
    kind: str
    status: str
    attempts: int
    error: str | None
    next_attempt_at: datetime | None
    episode_id: str | None
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str


class JobPageOut(Struct):
    """One page of jobs; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[JobSummaryOut]
    next_cursor: str | None


class EpisodeMessageOut(Struct):
    """A message of an episode, as it was handed in."""

    role: str
    content: str
    name: str | None = None
    created_at: datetime | None = None


class EpisodeOut(Struct):
    """A conversation handed in for extraction: the source memories extracted from it point back to."""

    id: str
    messages: list[EpisodeMessageOut]
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    created_by: str


class ReextractOut(Struct):
    """The decisions re-extraction would make now against today's memories; nothing was written."""

    provider: str
    model: str
    prompt_version: str
    facts: list[FactOut]
    decisions: list[DecisionOut]


def job_out(state: JobState) -> JobOut:
    job = state.job
    llm = job.params.get("llm") or {}
    return JobOut(
        id=str(job.id),
        kind=job.kind,
        status=job.status,
        attempts=job.attempts,
        max_attempts=job.attempt_limit,
        error=job.error,
        next_attempt_at=job.next_attempt_at,
        episode_id=str(job.episode_id) if job.episode_id else None,
        user_id=job.scope.get("user_id"),
        agent_id=job.scope.get("agent_id"),
        run_id=job.scope.get("run_id"),
        model=f"{llm['provider']}:{llm['model']}" if llm else None,
        prompt_version=job.params.get("prompt_version"),
        dry_run=bool(job.params.get("dry_run")),
        result=msgspec.convert(job.result, JobResultOut) if job.result is not None else None,
        created_at=job.created_on,
        updated_at=job.modified_on,
        created_by=job.created_by,
        position=state.position,
    )


def job_summary(row: JobRow) -> JobSummaryOut:
    return JobSummaryOut(
        id=str(row.id),
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        error=row.error,
        next_attempt_at=row.next_attempt_at,
        episode_id=str(row.episode_id) if row.episode_id else None,
        user_id=row.user_id,
        agent_id=row.agent_id,
        run_id=row.run_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )


def episode_out(episode: Episode) -> EpisodeOut:
    return EpisodeOut(
        id=str(episode.id),
        messages=[EpisodeMessageOut(**m) for m in episode.messages],
        user_id=episode.user_id,
        agent_id=episode.agent_id,
        run_id=episode.run_id,
        metadata=episode.metadata,
        created_at=episode.created_on,
        created_by=episode.created_by,
    )

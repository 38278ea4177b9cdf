"""/v1/episodes: the conversations handed in for extraction, and their re-extraction."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_202_ACCEPTED

from agentmem.api.controllers.memories import queued_out
from agentmem.api.dependencies import provide
from agentmem.api.schemas.jobs import (
    DecisionOut,
    EpisodeOut,
    ExtractionQueuedOut,
    FactOut,
    ReextractIn,
    ReextractOut,
    episode_out,
)
from agentmem.application.authentication import Principal
from agentmem.application.extraction import Plan
from agentmem.application.job_requests import Jobs
from agentmem.application.jobs import JobApplication
from agentmem.domain.base import Context


def preview_out(plan: Plan) -> ReextractOut:
    result = plan.result(dry_run=True)
    return ReextractOut(
        provider=plan.provider,
        model=plan.model,
        prompt_version=plan.prompt_version,
        facts=[FactOut(**f) for f in result["facts"]],
        decisions=[DecisionOut(**d) for d in result["decisions"]],
    )


class EpisodeController(Controller):
    """Episodes of the caller's tenant: the source every extracted memory's provenance names."""

    path = "/v1/episodes"
    tags = ["jobs"]
    dependencies = {"jobs": provide("jobs"), "job_app": provide("job_app")}

    @get("/{episode_id:uuid}", opt={"permission": "memories:read"})
    async def get_episode(self, episode_id: UUID, context: Context, job_app: JobApplication) -> EpisodeOut:
        """An episode: its messages as they were handed in, its scope and metadata."""
        return episode_out(await asyncio.to_thread(job_app.episode, episode_id, context.tenant_id))

    @post(
        "/{episode_id:uuid}/reextract",
        status_code=200,
        opt={"permission": "memories:write"},
        responses={HTTP_202_ACCEPTED: ResponseSpec(ExtractionQueuedOut, description="`apply`: a job is queued.")},
    )
    async def reextract(
        self, episode_id: UUID, data: ReextractIn, context: Context, principal: Principal, jobs: Jobs
    ) -> Response[Any]:
        """Extracts again, with another model or prompt version: the decisions it would make now (200), or with
        `apply` a job that makes them (202); memories it already added are never added twice."""
        done = await jobs.reextract(
            episode_id,
            context,
            principal.max_memories,
            apply=data.apply,
            model=data.model,
            prompt_version=data.prompt_version,
        )
        if isinstance(done, Plan):
            return Response(preview_out(done))
        return queued_out(done)

"""/v1/jobs: follow background jobs (extraction, consolidation), list them, retry failed ones."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_202_ACCEPTED

from agentmem.api.dependencies import provide
from agentmem.api.params import Cursor, Limit, ListOrderParam, MinPosition
from agentmem.api.responses import written
from agentmem.api.schemas.jobs import JobKind, JobOut, JobPageOut, JobStatus, job_out, job_summary
from agentmem.application.job_requests import MAX_WAIT, Jobs
from agentmem.domain.base import Context

Wait = Annotated[
    float,
    Parameter(ge=0, le=MAX_WAIT, description="Answer once the job has finished, or after this many seconds."),
]


class JobController(Controller):
    """Jobs of the caller's tenant; their results show memory texts, so reading them takes memories:read."""

    path = "/v1/jobs"
    tags = ["jobs"]
    dependencies = {"jobs": provide("jobs")}

    @get("/{job_id:uuid}", opt={"permission": "memories:read"})
    async def get_job(self, job_id: UUID, context: Context, jobs: Jobs, wait: Wait = 0.0) -> JobOut:
        """A job: status, attempts, error, and its result (each decision with memory id, old and new text)."""
        return job_out(await jobs.get(job_id, context.tenant_id, wait))

    @get("/", opt={"permission": "memories:read"})
    async def list_jobs(
        self,
        context: Context,
        jobs: Jobs,
        status: JobStatus | None = None,
        kind: JobKind | None = None,
        episode_id: Annotated[UUID | None, Parameter(description="Only the jobs of this episode.")] = None,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> JobPageOut:
        """Lists jobs, newest first by default, by status, kind and episode, with cursor pagination."""
        page = await jobs.list(
            context.tenant_id,
            status=status,
            kind=kind,
            episode_id=episode_id,
            order=order,
            limit=limit,
            cursor=cursor,
            min_position=min_position,
        )
        return JobPageOut(items=[job_summary(row) for row in page.items], next_cursor=page.next_cursor)

    @post("/{job_id:uuid}/retry", status_code=HTTP_202_ACCEPTED, opt={"permission": "memories:write"})
    async def retry(self, job_id: UUID, context: Context, jobs: Jobs) -> Response[JobOut]:
        """Queues a failed job again with fresh attempts (409 unless it failed)."""
        state = await jobs.retry(job_id, context)
        return written(job_out(state), state.position, status_code=HTTP_202_ACCEPTED)

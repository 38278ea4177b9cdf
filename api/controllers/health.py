"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from msgspec import Struct

from agentmem.api.dependencies import container_of
from agentmem.application.operations import readiness_status
from agentmem.runtime.container import OPTIONAL_CHECKS


class HealthOut(Struct):
    """Whether the process and its dependencies answer."""

    status: str
    checks: dict[str, str] = {}


class HealthController(Controller):
    """Probes for load balancers and orchestrators; no credentials needed."""

    tags = ["health"]

    @get("/health", opt={"public": True})
    async def health(self) -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok")

    @get(
        "/ready",
        opt={"public": True},
        responses={503: ResponseSpec(HealthOut, description="A dependency does not answer", generate_examples=False)},
    )
    async def ready(self, state: State) -> Response[HealthOut]:
        """Readiness: the event store and Redis both answer (503 if not); `degraded` while a parked event holds
        a tenant back in a read model (see GET /v1/admin/projections); whether tools can run, and if not, why."""
        checks = await container_of(state).readiness()
        status = readiness_status(checks, ignored=OPTIONAL_CHECKS)
        return Response(HealthOut(status=status, checks=checks), status_code=503 if status == "unavailable" else 200)

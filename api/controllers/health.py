"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from msgspec import Struct

from agentmem.api.services import Services


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

    @get("/ready", opt={"public": True})
    async def ready(self, services: Services) -> Response[HealthOut]:
        """Readiness: the event store and Redis both answer."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(asyncio.to_thread(services.positions.ping), timeout=2)
            checks["event_store"] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            checks["event_store"] = f"error: {type(error).__name__}"
        try:
            await asyncio.wait_for(services.redis.ping(), timeout=2)
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"error: {type(error).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return Response(HealthOut(status="ok" if ok else "unavailable", checks=checks), status_code=200 if ok else 503)

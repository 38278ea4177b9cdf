"""/v1/admin/projections: where each projection is in the log, how far behind, how fast."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from msgspec import Struct

from agentmem.api.dependencies import provide
from agentmem.application.operations import ProjectionMonitor


class ProjectionOut(Struct):
    """One projection: its position, lag behind the log head (events and seconds) and recent rate."""

    name: str
    read_model: str | None
    embedder: str | None
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    rate_per_second: float
    events_applied: int
    updated_at: datetime


class ProjectionsOut(Struct):
    """Every projection and the head of the event log."""

    head: int
    projections: list[ProjectionOut]


class AdminController(Controller):
    """Operational views for platform administrators."""

    path = "/v1/admin"
    tags = ["admin"]
    dependencies = {"monitor": provide("monitor")}

    @get("/projections", opt={"permission": "projections:admin"})
    async def projections(self, monitor: ProjectionMonitor) -> ProjectionsOut:
        """Each projection's position, lag (events and seconds) and rate."""
        head, states = await monitor.projections()
        return ProjectionsOut(
            head=head,
            projections=[ProjectionOut(**{f: getattr(s, f) for f in ProjectionOut.__struct_fields__}) for s in states],
        )

"""/v1/admin/projections: where each projection is in the log, how far behind, how fast, and what is parked."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, get
from msgspec import Struct

from agentmem.api.dependencies import provide
from agentmem.application.operations import ProjectionMonitor


class ProjectionOut(Struct):
    """One projection: its position, lag behind the log head (events and seconds), recent rate, and the failure it
    is retrying now (`error` at `error_position`, `attempts` so far), if any."""

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
    error: str | None
    error_position: int | None
    attempts: int


class ParkedOut(Struct):
    """An event a projection could not apply after its retries, and the tenant it holds back there.

    `state`: `parked` (waits for `agentmem projections retry|skip`), `retrying` (the worker applies it and then the
    tenant's held events) or `skipping`; the tenant's events are applied up to `applied_to`."""

    projection: str
    position: int
    tenant_id: str
    event_type: str
    aggregate_id: UUID | None
    version: int | None
    state: str
    error: str
    attempts: int
    applied_to: int
    parked_at: datetime
    updated_at: datetime


class ProjectionsOut(Struct):
    """Every projection, every parked event, and the head of the event log."""

    head: int
    projections: list[ProjectionOut]
    parked: list[ParkedOut]


class AdminController(Controller):
    """Operational views for platform administrators."""

    path = "/v1/admin"
    tags = ["admin"]
    dependencies = {"monitor": provide("monitor")}

    @get("/projections", opt={"permission": "projections:admin"})
    async def projections(self, monitor: ProjectionMonitor) -> ProjectionsOut:
        """Each projection's position, lag (events and seconds), rate and current failure; every parked event."""
        head, states = await monitor.projections()
        parked = await monitor.parked()
        return ProjectionsOut(
            head=head,
            projections=[ProjectionOut(**{f: getattr(s, f) for f in ProjectionOut.__struct_fields__}) for s in states],
            parked=[ParkedOut(**{f: getattr(p, f) for f in ParkedOut.__struct_fields__}) for p in parked],
        )

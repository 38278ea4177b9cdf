"""/v1/admin/projections: where each projection is in the log, how far behind, how fast."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from litestar import Controller, get
from msgspec import Struct

from agentmem.api.services import Services
from agentmem.infrastructure.postgres_tracking import TrackingRow


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

    @get("/projections", opt={"permission": "projections:admin"})
    async def projections(self, services: Services) -> ProjectionsOut:
        """Each projection's position, lag (events and seconds) and rate."""
        assert services.pool is not None
        async with services.pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT t.name, t.position, t.events_applied, t.rate, t.updated_at, r.name, r.embedder"
                " FROM projection_tracking t LEFT JOIN read_models r ON r.active_table = t.name ORDER BY t.name"
            )
            rows = await cursor.fetchall()
        head = await asyncio.to_thread(services.memories.recorder.max_notification_id) or 0
        out = []
        for name, position, applied, rate, updated_at, read_model, embedder in rows:
            row = TrackingRow(name, position, applied, rate, updated_at)
            lag_seconds = await asyncio.to_thread(self._lag_seconds, services, row.position, head)
            out.append(
                ProjectionOut(
                    name=row.name,
                    read_model=read_model,
                    embedder=embedder,
                    position=row.position,
                    head=head,
                    lag_events=max(head - row.position, 0),
                    lag_seconds=lag_seconds,
                    rate_per_second=round(row.rate, 2),
                    events_applied=row.events_applied,
                    updated_at=row.updated_at,
                )
            )
        return ProjectionsOut(head=head, projections=out)

    @staticmethod
    def _lag_seconds(services: Services, position: int, head: int) -> float:
        """How long ago the oldest event the projection has not applied was recorded (0 when caught up)."""
        if position >= head:
            return 0.0
        [notification] = services.memories.recorder.select_notifications(start=position + 1, limit=1)
        recorded = services.memories.mapper.to_domain_event(notification).timestamp
        return round(max((datetime.now(UTC) - recorded).total_seconds(), 0.0), 3)

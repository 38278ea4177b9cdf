"""Projection positions, lag, rate and failures, read from the tracking tables and the event log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from agentmem.application.base import AgentMemApplication
from agentmem.application.operations import ParkedEvent, ProjectionState
from agentmem.infrastructure.postgres_holds import parked_events

_STATES = (
    "SELECT t.name, t.position, t.events_applied, t.rate, t.updated_at, r.name, r.embedder, t.error,"
    " t.error_position, t.attempts FROM projection_tracking t LEFT JOIN read_models r ON r.active_table = t.name"
    " ORDER BY t.name"
)


class PostgresProjectionMonitor:
    """Each projection's tracking row, the head of the log, and how old the oldest unapplied event is."""

    def __init__(self, pool: AsyncConnectionPool, log: AgentMemApplication) -> None:
        self.pool = pool
        self.log = log

    async def projections(self) -> tuple[int, list[ProjectionState]]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(_STATES)
            rows = await cursor.fetchall()
        head = await asyncio.to_thread(self.log.recorder.max_notification_id) or 0
        states = []
        for name, position, applied, rate, updated_at, read_model, embedder, error, error_position, attempts in rows:
            states.append(
                ProjectionState(
                    name=name,
                    read_model=read_model,
                    embedder=embedder,
                    position=position,
                    head=head,
                    lag_events=max(head - position, 0),
                    lag_seconds=await asyncio.to_thread(self._lag_seconds, position, head),
                    rate_per_second=round(rate, 2),
                    events_applied=applied,
                    updated_at=updated_at,
                    error=error,
                    error_position=error_position,
                    attempts=attempts,
                )
            )
        return head, states

    async def parked(self) -> list[ParkedEvent]:
        return await parked_events(self.pool)

    def _lag_seconds(self, position: int, head: int) -> float:
        """How long ago the oldest event the projection has not applied was recorded (0 when caught up)."""
        if position >= head:
            return 0.0
        notifications = self.log.recorder.select_notifications(start=position + 1, limit=1)
        if not notifications:
            return 0.0
        recorded = self.log.mapper.to_domain_event(notifications[0]).timestamp
        return round(max((datetime.now(UTC) - recorded).total_seconds(), 0.0), 3)

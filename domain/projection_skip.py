"""The projection skip aggregate: an operator's decision that one read model never applies one event of the log.

A skip changes what a read model holds without changing the log, so it is recorded in the log itself, in the
tenant's name: the tenant's audit trail shows it, and anyone replaying the log can tell why the read model
differs from a replay. Its id is derived from the projection and the position, so one event is skipped once.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from agentmem.domain.base import Context, TenantAggregate


class ProjectionSkip(TenantAggregate):
    """Which event a projection leaves out, what it failed with, who decided and why."""

    class Recorded(TenantAggregate.Created):
        projection: str
        position: int
        event_type: str
        aggregate_id: UUID | None
        aggregate_version: int | None
        error: str
        reason: str

    @staticmethod
    def id_for(projection: str, position: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"/agentmem/projection-skip/{projection}/{position}")

    @classmethod
    def record(
        cls,
        *,
        context: Context,
        projection: str,
        position: int,
        event_type: str,
        aggregate_id: UUID | None,
        aggregate_version: int | None,
        error: str,
        reason: str,
    ) -> ProjectionSkip:
        return cls(
            id=cls.id_for(projection, position),
            projection=projection,
            position=position,
            event_type=event_type,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            error=error,
            reason=reason,
            **context.event_fields(),
        )

    @event(Recorded)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
        projection: str,
        position: int,
        event_type: str,
        aggregate_id: UUID | None,
        aggregate_version: int | None,
        error: str,
        reason: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.projection = projection
        self.position = position
        self.event_type = event_type
        self.aggregate_id = aggregate_id
        self.aggregate_version = aggregate_version  # not `version`: that is this aggregate's own
        self.error = error
        self.reason = reason

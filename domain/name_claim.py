"""The name claim aggregate: makes a name (a user's email, an organization's name) unique and findable.

Its id is derived from the name, so saving a second claim on a taken name fails atomically with the
aggregate that wanted it (the index pattern of the eventsourcing documentation).
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict


class NameTakenError(DomainError, Conflict):
    """Another aggregate holds the name."""


class NameClaim(TenantAggregate):
    """Which aggregate holds a name of one kind, if any."""

    class Created(TenantAggregate.Created):
        kind: str
        name: str
        ref: UUID

    class Claimed(TenantAggregate.Event):
        ref: UUID

    class Released(TenantAggregate.Event):
        pass

    @staticmethod
    def id_for(kind: str, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/agentmem/{kind}/{name}")

    @classmethod
    def create(cls, *, context: Context, kind: str, name: str, ref: UUID) -> NameClaim:
        return cls(id=cls.id_for(kind, name), kind=kind, name=name, ref=ref, **context.event_fields())

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
        kind: str,
        name: str,
        ref: UUID,
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.name = name
        self.ref: UUID | None = ref

    def claim(self, context: Context, ref: UUID) -> None:
        """Takes a released name for another aggregate."""
        if self.ref is not None:
            raise NameTakenError(f"{self.kind} {self.name!r} is taken")
        self._claimed(ref=ref, **context.event_fields())

    @event(Claimed)
    def _claimed(self, ref: UUID, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.ref = ref

    def release(self, context: Context) -> None:
        """Frees the name (its holder was deleted)."""
        if self.ref is not None:
            self._released(**context.event_fields())

    @event(Released)
    def _released(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.ref = None

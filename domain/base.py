"""What every aggregate shares: the tenant that owns it and who changed it, in which request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

from agentmem.domain.errors import AgentMemError


@dataclass(frozen=True, slots=True)
class Context:
    """Who makes a change, for which tenant, in which request."""

    tenant_id: str
    actor_id: str
    request_id: str

    def event_fields(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "actor_id": self.actor_id, "request_id": self.request_id}


class DomainError(AgentMemError):
    """A domain rule refused a change."""


class TenantAggregate(Aggregate):
    """An aggregate owned by one tenant; every event names the tenant, the actor and the request."""

    tenant_id: str

    class Event(Aggregate.Event):
        tenant_id: str
        actor_id: str
        request_id: str

    class Created(Event, Aggregate.Created):
        pass


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields whose values differ, each as {"old": …, "new": …}."""
    return {name: {"old": before.get(name), "new": value} for name, value in after.items() if before.get(name) != value}

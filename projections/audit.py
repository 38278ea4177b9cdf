"""The audit trail read model: one row per event of the log, for the tenant the event belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from agentmem.projections.base import Envelope, Tracking

AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to which aggregate, when, in which request, at which log position."""

    position: int
    tenant_id: str
    actor_id: str
    action: str
    aggregate_type: str
    aggregate_id: UUID
    version: int
    timestamp: datetime
    request_id: str


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which entries of one tenant to list: filters, order and where the last page ended."""

    tenant_id: str
    actor_id: str | None = None
    aggregate_type: str | None = None
    aggregate_id: UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: Literal["asc", "desc"] = "asc"
    after: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries; `next_after` is the position to continue from (None at the end)."""

    items: list[AuditEntry]
    next_after: int | None


class AuditView(Protocol):
    """Where the audit trail is stored."""

    def apply(self, entries: Sequence[AuditEntry], tracking: Tracking) -> None:
        """Inserts the entries and moves the tracking, in one transaction."""
        ...


class AuditTrail(Protocol):
    """Reads the audit trail of one tenant."""

    async def page(self, query: AuditQuery) -> AuditPage: ...


def audit_entry(envelope: Envelope) -> AuditEntry | None:
    """The entry for an event; None for events that name no tenant."""
    event = envelope.event
    tenant_id = getattr(event, "tenant_id", None)
    if not tenant_id:
        return None
    action = type(event).__qualname__
    return AuditEntry(
        position=envelope.position,
        tenant_id=tenant_id,
        actor_id=getattr(event, "actor_id", "") or "",
        action=action,
        aggregate_type=action.rpartition(".")[0] or action,
        aggregate_id=event.originator_id,
        version=event.originator_version,
        timestamp=event.timestamp,
        request_id=getattr(event, "request_id", "") or "",
    )


class AuditProjection:
    """Every event of every context becomes one audit entry of its tenant."""

    def __init__(self, view: AuditView) -> None:
        self.view = view

    @property
    def name(self) -> str:
        return AUDIT

    def wants(self, topic: str) -> bool:  # noqa: ARG002 - the audit trail wants everything
        return True

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        entries = [entry for entry in map(audit_entry, events) if entry is not None]
        self.view.apply(entries, tracking)

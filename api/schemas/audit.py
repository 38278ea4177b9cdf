"""Response bodies of /v1/audit."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct


class AuditEntryOut(Struct):
    """One event of the organization: who did what to which aggregate, when, in which request."""

    position: int
    actor_id: str
    action: str
    aggregate_type: str
    aggregate_id: str
    version: int
    timestamp: datetime
    request_id: str


class AuditPageOut(Struct):
    """A page of the audit trail and the cursor of the next one (null at the end)."""

    items: list[AuditEntryOut]
    next_cursor: str | None

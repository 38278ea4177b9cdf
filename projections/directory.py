"""The directory read model: lists of organizations, users and API keys (never secrets or hashes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.domain.api_key import ApiKey
from agentmem.domain.organization import Organization
from agentmem.domain.user import User
from agentmem.projections.base import Envelope, Tracking

DIRECTORY = "directory"
TABLES = {Organization: "organizations", User: "users", ApiKey: "api_keys"}
_TOPICS = tuple(f"{cls.__module__}:{cls.__qualname__}." for cls in TABLES)


@dataclass(slots=True)
class DirectoryChange:
    """One event as a row change: a new row (`created`) or changed columns, at a version."""

    table: str
    id: UUID
    tenant_id: str
    version: int
    timestamp: datetime
    created: bool = False
    columns: dict[str, Any] = field(default_factory=dict)


class DirectoryView(Protocol):
    """Where the directory tables live."""

    def apply(self, changes: Sequence[DirectoryChange], tracking: Tracking) -> None:
        """Applies the changes in order and moves the tracking, in one transaction."""
        ...


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    """One page of rows (as dicts) and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class Directory(Protocol):
    """Lists of one tenant's users and keys, and of organizations."""

    async def page(
        self, table: str, tenant_id: str, limit: int, cursor: str | None, *, platform: bool = False
    ) -> DirectoryPage: ...


_FLAGS: dict[type, dict[str, Any]] = {
    User.Disabled: {"disabled": True},
    User.Enabled: {"disabled": False},
    User.Deleted: {"deleted": True},
    Organization.Deleted: {"deleted": True},
    ApiKey.Revoked: {"revoked": True},
}


def _created_columns(event: Any) -> dict[str, Any]:
    if isinstance(event, Organization.Created):
        return {"name": event.name, "status": "active", "quotas": event.quotas, "deleted": False}
    if isinstance(event, User.Created):
        user = {n: getattr(event, n) for n in ("email", "name", "role", "superadmin")}
        return {**user, "disabled": False, "deleted": False}
    key = {n: getattr(event, n) for n in ("name", "role", "prefix", "user_id", "expires_at")}
    return {**key, "created_by": event.actor_id, "revoked": False}


def _columns(event: Any) -> dict[str, Any]:
    """The columns an event sets (User.PasswordChanged sets none: only the version moves)."""
    if isinstance(event, (Organization.Created, User.Created, ApiKey.Created)):
        return _created_columns(event)
    if isinstance(event, (Organization.Updated, User.Updated)):
        return dict(event.changes)
    return dict(_FLAGS.get(type(event), {}))


class DirectoryProjection:
    """Organization, user and API key events become rows of three list tables."""

    def __init__(self, view: DirectoryView) -> None:
        self.view = view

    @property
    def name(self) -> str:
        return DIRECTORY

    def wants(self, topic: str) -> bool:
        return topic.startswith(_TOPICS)

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        changes: list[DirectoryChange] = []
        for envelope in events:
            event = envelope.event
            table = next(name for cls, name in TABLES.items() if isinstance(event, cls.Event))
            changes.append(
                DirectoryChange(
                    table=table,
                    id=event.originator_id,
                    tenant_id=event.tenant_id,
                    version=event.originator_version,
                    timestamp=event.timestamp,
                    created=event.originator_version == 1,
                    columns=_columns(event),
                )
            )
        self.view.apply(changes, tracking)

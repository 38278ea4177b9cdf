"""The organization aggregate: a tenant, with its name, status and quotas."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

STATUSES = ("active", "suspended")
QUOTA_NAMES = ("requests_per_minute", "max_memories", "llm_tokens_per_day")
MAX_NAME_CHARS = 100
EDITABLE_FIELDS = ("name", "status", "quotas")


class OrganizationError(DomainError):
    """An organization rule refused a change."""


class InvalidOrganizationError(OrganizationError, InvalidInput):
    """A field value breaks an organization rule; `field` names it."""


class OrganizationDeletedError(OrganizationError, Conflict):
    """The organization is deleted."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise InvalidOrganizationError("name", f"name must be 1 to {MAX_NAME_CHARS} characters")
    return name.strip()


def check_quotas(quotas: dict[str, Any]) -> dict[str, int | None]:
    """Quotas by name; None means the server default."""
    unknown = set(quotas) - set(QUOTA_NAMES)
    if unknown:
        known = ", ".join(QUOTA_NAMES)
        raise InvalidOrganizationError("quotas", f"unknown quota {sorted(unknown)[0]!r}; known: {known}")
    for name, value in quotas.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidOrganizationError(f"quotas.{name}", f"{name} must be a positive integer or null")
    return {name: quotas.get(name) for name in QUOTA_NAMES}


class Organization(TenantAggregate):
    """A tenant: every other aggregate of the organization carries its id as `tenant_id`."""

    class Created(TenantAggregate.Created):
        name: str
        quotas: dict[str, Any]

    class Updated(TenantAggregate.Event):
        changes: dict[str, Any]

    class Deleted(TenantAggregate.Event):
        pass

    @staticmethod
    def tenant_of(organization_id: UUID) -> str:
        return str(organization_id)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        name: str,
        quotas: dict[str, Any] | None = None,
    ) -> Organization:
        """Records Created; the organization is its own tenant."""
        fields = {**context.event_fields(), "tenant_id": cls.tenant_of(id)}
        return cls(id=id, name=check_name(name), quotas=check_quotas(quotas or {}), **fields)

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        name: str,
        quotas: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.quotas = quotas
        self.status = "active"
        self.deleted = False
        self.created_by = actor_id

    def update(self, context: Context, changes: dict[str, Any]) -> bool:
        """Changes name, status or quotas; records only what differs. False if nothing did."""
        self._check_live()
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidOrganizationError(field, f"{field} cannot be changed")
        if "name" in changes:
            changes = {**changes, "name": check_name(changes["name"])}
        if "status" in changes and changes["status"] not in STATUSES:
            raise InvalidOrganizationError("status", f"status must be one of {', '.join(STATUSES)}")
        if "quotas" in changes:
            changes = {**changes, "quotas": check_quotas({**self.quotas, **changes["quotas"]})}
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        self._updated(changes=differing, **self._fields(context))
        return True

    @event(Updated)
    def _updated(self, changes: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        for name, value in changes.items():
            setattr(self, name, value)

    def delete(self, context: Context) -> None:
        """Deletes the organization: its credentials stop working; its events stay."""
        self._check_live()
        self._deleted(**self._fields(context))

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True

    def _fields(self, context: Context) -> dict[str, str]:
        """Events of an organization belong to its own tenant, even when a platform admin makes them."""
        return {**context.event_fields(), "tenant_id": self.tenant_id}

    def _check_live(self) -> None:
        if self.deleted:
            raise OrganizationDeletedError("the organization is deleted")

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "quotas": self.quotas, "deleted": self.deleted}

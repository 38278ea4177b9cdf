"""The API key aggregate: a named credential of one organization, stored only as a hash."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

KEY_ROLES = ("owner", "member", "viewer", "superadmin")
MAX_NAME_CHARS = 200


class ApiKeyError(DomainError):
    """An API key rule refused a change."""


class InvalidApiKeyError(ApiKeyError, InvalidInput):
    """A field value breaks an API key rule; `field` names it."""


class ApiKeyRevokedError(ApiKeyError, Conflict):
    """The key is already revoked."""


class ApiKey(TenantAggregate):
    """A credential acting with one role in one organization until it expires or is revoked."""

    class Created(TenantAggregate.Created):
        name: str
        role: str
        prefix: str
        key_hash: str
        user_id: str | None
        expires_at: datetime | None

    class Revoked(TenantAggregate.Event):
        pass

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        name: str,
        role: str,
        prefix: str,
        key_hash: str,
        user_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> ApiKey:
        """Checks the rules, then records Created with the key's hash (never the key)."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
            raise InvalidApiKeyError("name", f"name must be 1 to {MAX_NAME_CHARS} characters")
        if role not in KEY_ROLES:
            raise InvalidApiKeyError("role", f"role must be one of {', '.join(KEY_ROLES)}")
        if expires_at is not None and expires_at.tzinfo is None:
            raise InvalidApiKeyError("expires_at", "expires_at needs a time zone")
        if expires_at is not None and expires_at <= cls.Created.create_timestamp():
            raise InvalidApiKeyError("expires_at", "expires_at must be in the future: the key would never work")
        return cls(
            id=id,
            name=name.strip(),
            role=role,
            prefix=prefix,
            key_hash=key_hash,
            user_id=user_id,
            expires_at=expires_at,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        name: str,
        role: str,
        prefix: str,
        key_hash: str,
        user_id: str | None,
        expires_at: datetime | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.role = role
        self.prefix = prefix
        self.key_hash = key_hash
        self.user_id = user_id
        self.expires_at = expires_at
        self.created_by = actor_id
        self.revoked = False

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return not self.revoked and (self.expires_at is None or now < self.expires_at)

    def revoke(self, context: Context) -> None:
        """Refuses the key from the next request on."""
        if self.revoked:
            raise ApiKeyRevokedError("the key is already revoked")
        self._revoked(**context.event_fields())

    @event(Revoked)
    def _revoked(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.revoked = True

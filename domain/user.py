"""The user aggregate: a person in one organization, with a role and (optionally) a password hash."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

ROLES = ("owner", "member", "viewer")
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254
EDITABLE_FIELDS = ("name", "role")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")


class UserError(DomainError):
    """A user rule refused a change."""


class InvalidUserError(UserError, InvalidInput):
    """A field value breaks a user rule; `field` names it."""


class UserDeletedError(UserError, Conflict):
    """The user is deleted."""


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    value = email.strip().lower() if isinstance(email, str) else ""
    if not value or len(value) > MAX_EMAIL_CHARS or not _EMAIL.match(value):
        raise InvalidUserError("email", "email must be an address like name@example.com")
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidUserError("role", f"role must be one of {', '.join(ROLES)}")
    return role


def check_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise InvalidUserError("name", f"name must be at most {MAX_NAME_CHARS} characters")
    return name


class User(TenantAggregate):
    """A member of one organization; `superadmin` users also administer the platform."""

    class Created(TenantAggregate.Created):
        email: str
        name: str
        role: str
        password_hash: str | None
        superadmin: bool

    class Updated(TenantAggregate.Event):
        changes: dict[str, Any]

    class PasswordChanged(TenantAggregate.Event):
        password_hash: str

    class Disabled(TenantAggregate.Event):
        pass

    class Enabled(TenantAggregate.Event):
        pass

    class Deleted(TenantAggregate.Event):
        pass

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        email: str,
        name: str,
        role: str,
        password_hash: str | None,
        superadmin: bool = False,
    ) -> User:
        """Checks every rule, then records Created (the password arrives already hashed)."""
        return cls(
            id=id,
            email=normalize_email(email),
            name=check_name(name),
            role=check_role(role),
            password_hash=password_hash,
            superadmin=superadmin,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
        email: str,
        name: str,
        role: str,
        password_hash: str | None,
        superadmin: bool,
    ) -> None:
        self.tenant_id = tenant_id
        self.email = email
        self.name = name
        self.role = role
        self.password_hash = password_hash
        self.superadmin = superadmin
        self.disabled = False
        self.deleted = False

    @property
    def active(self) -> bool:
        return not (self.disabled or self.deleted)

    def update(self, context: Context, changes: dict[str, Any]) -> bool:
        """Changes name or role; records only what differs. False if nothing did."""
        self._check_live()
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidUserError(field, f"{field} cannot be changed")
        if "role" in changes:
            check_role(changes["role"])
        if "name" in changes:
            check_name(changes["name"])
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        self._updated(changes=differing, **context.event_fields())
        return True

    @event(Updated)
    def _updated(self, changes: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        for name, value in changes.items():
            setattr(self, name, value)

    def change_password(self, context: Context, password_hash: str) -> None:
        self._check_live()
        self._password_changed(password_hash=password_hash, **context.event_fields())

    @event(PasswordChanged)
    def _password_changed(self, password_hash: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.password_hash = password_hash

    def disable(self, context: Context) -> bool:
        """Stops the user from signing in; False if already disabled."""
        self._check_live()
        if self.disabled:
            return False
        self._disabled(**context.event_fields())
        return True

    @event(Disabled)
    def _disabled(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.disabled = True

    def enable(self, context: Context) -> bool:
        """Lets a disabled user sign in again; False if not disabled."""
        self._check_live()
        if not self.disabled:
            return False
        self._enabled(**context.event_fields())
        return True

    @event(Enabled)
    def _enabled(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.disabled = False

    def delete(self, context: Context) -> None:
        """Deletes the user; their email can be used again."""
        self._check_live()
        self._deleted(**context.event_fields())

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True

    def _check_live(self) -> None:
        if self.deleted:
            raise UserDeletedError("the user is deleted")

"""The secret aggregate: an organization secret's name and history; its value is never in an event.

The value lives encrypted beside the log (see application/secrets.py), keyed by the version that set it, so
deleting a secret deletes its value for good while the log keeps only who set or deleted it, and when.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import InvalidInput, NotFound

NAME_PATTERN = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
RESERVED_NAMES = frozenset({"PATH", "HOME", "TMPDIR", "LANG", "PWD", "SHLVL", "OLDPWD", "IFS", "ENV", "BASH_ENV"})
RESERVED_PREFIXES = ("ARG_", "LD_", "PYTHON", "NODE_", "BASH_", "LC_")
"""Secret names the sandbox sets itself, or that change how the runtimes start."""


class SecretNotSetError(DomainError, NotFound):
    """No such secret in this organization (never set, or deleted)."""


class InvalidSecretNameError(DomainError, InvalidInput):
    """A secret name is not an environment variable name, or one the sandbox keeps for itself."""


def check_secret_name(name: Any, field: str = "name") -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        message = "a secret name is an environment variable name: A-Z, then A-Z, 0-9 or _ (at most 64)"
        raise InvalidSecretNameError(field, message)
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        raise InvalidSecretNameError(field, f"{name} is reserved: the sandbox sets it or the runtimes read it")
    return name


class Secret(TenantAggregate):
    """A named secret of an organization, exposed to the tools that name it as an environment variable."""

    class Created(TenantAggregate.Created):
        name: str

    class Set(TenantAggregate.Event):
        pass

    class Deleted(TenantAggregate.Event):
        pass

    @staticmethod
    def id_for(tenant_id: str, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/agentmem/secret/{tenant_id}/{name}")

    @classmethod
    def create(cls, *, context: Context, name: str) -> Secret:
        """Records Created: the first value of a name."""
        return cls(id=cls.id_for(context.tenant_id, name), name=name, **context.event_fields())

    @event(Created)
    def __init__(self, *, id: UUID, tenant_id: str, actor_id: str, request_id: str, name: str) -> None:  # noqa: A002, ARG002
        self.tenant_id = tenant_id
        self.name = name
        self.deleted = False
        self.updated_by = actor_id

    def set(self, context: Context) -> None:
        """Records a new value (of a live or a deleted secret)."""
        self._set(**context.event_fields())

    def delete(self, context: Context) -> None:
        """Records the deletion; the value is gone with it."""
        if self.deleted:
            raise SecretNotSetError(f"secret {self.name} is not set")
        self._deleted(**context.event_fields())

    def state(self) -> dict[str, object]:
        return {"name": self.name, "deleted": self.deleted}

    @event(Set)
    def _set(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = False
        self.updated_by = actor_id

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True
        self.updated_by = actor_id

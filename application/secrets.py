"""Organization secrets: set, list by name, delete; the values a tool's run is given, and nothing else.

Each change is an event without the value; the value is sealed (encrypted) in a vault beside the log under the
version that set it. A run takes the value of the secret's current version, so a value whose event was never
recorded is never used, and deleting a secret forgets its value while the log keeps who did what.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.utils import EnvType

from agentmem.application.base import (
    AgentMemApplication,
    ApplicationError,
    EventPositions,
    Saved,
    VersionConflictError,
)
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, InvalidInput, LimitExceeded, Unavailable
from agentmem.domain.secret import Secret, SecretNotSetError, check_secret_name

MAX_VALUE_CHARS = 8_192
MAX_SECRETS = 100
WRITE_ATTEMPTS = 5


class InvalidSecretError(ApplicationError, InvalidInput):
    """A secret's value breaks a rule."""


class SecretMissingError(ApplicationError, Conflict):
    """A tool names a secret the organization has not set."""


class SecretUnsealedError(ApplicationError, Unavailable):
    """The vault holds no value for the secret's current version (a write did not finish)."""


class TooManySecretsError(ApplicationError, LimitExceeded):
    """The organization holds the most secrets it may."""


@dataclass(frozen=True, slots=True)
class SealedName:
    """A secret as the vault lists it: its name, the version that set its value, and when."""

    name: str
    version: int
    updated_at: datetime


class SecretVault(Protocol):
    """Where secret values are kept, encrypted, one value per secret (the latest version's)."""

    def seal(self, tenant_id: str, name: str, version: int, value: str) -> None:
        """Keeps the value set at `version`, unless a later version's value is kept already."""
        ...

    def unseal(self, tenant_id: str, name: str, version: int) -> str | None:
        """The value set at `version`, or None."""
        ...

    def forget(self, tenant_id: str, name: str) -> None:
        """Deletes the value for good."""
        ...

    def names(self, tenant_id: str) -> list[SealedName]:
        """The secrets of a tenant that have a value, by name."""
        ...


class SecretApplication(AgentMemApplication):
    """Commands on organization secrets and the values a run may see."""

    def __init__(
        self,
        env: EnvType,
        *,
        vault: SecretVault,
        factory: InfrastructureFactory | None = None,
        positions: EventPositions | None = None,
    ) -> None:
        self.vault = vault
        super().__init__(env, factory=factory, positions=positions)

    def set(self, name: str, value: str, context: Context) -> Saved[Secret]:
        """Sets (or replaces, or sets again after a delete) a secret's value."""
        check_secret_name(name)
        if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_CHARS or "\x00" in value:
            raise InvalidSecretError("value", f"value must be 1 to {MAX_VALUE_CHARS:,} characters, without NUL")
        for attempt in itertools.count(1):
            secret = self.load(Secret, Secret.id_for(context.tenant_id, name), context.tenant_id)
            if secret is None:
                if len(self.vault.names(context.tenant_id)) >= MAX_SECRETS:
                    raise TooManySecretsError(f"an organization holds at most {MAX_SECRETS} secrets")
                secret = Secret.create(context=context, name=name)
            else:
                secret.set(context)
            try:
                position = self.record(secret)
            except IntegrityError:
                if attempt == WRITE_ATTEMPTS:
                    raise VersionConflictError(f"secret {name} kept changing; try again", secret.version) from None
                continue
            self.vault.seal(context.tenant_id, name, secret.version, value)
            return Saved(secret, position)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, name: str, context: Context) -> Saved[Secret]:
        """Deletes a secret: its value is forgotten, tools naming it stop running until it is set again."""
        secret = self.load(Secret, Secret.id_for(context.tenant_id, name), context.tenant_id)
        if secret is None:
            raise SecretNotSetError(f"secret {name} is not set")
        secret.delete(context)
        position = self.record(secret)
        self.vault.forget(context.tenant_id, name)
        return Saved(secret, position)

    def names(self, tenant_id: str) -> list[SealedName]:
        """The organization's secrets by name (values are never returned)."""
        live = []
        for sealed in self.vault.names(tenant_id):
            secret = self.load(Secret, Secret.id_for(tenant_id, sealed.name), tenant_id)
            if secret is not None and not secret.deleted:
                live.append(sealed)
        return live

    def values(self, tenant_id: str, names: list[str]) -> dict[str, str]:
        """The values of the named secrets, for one run; a missing one refuses the run."""
        values = {}
        for name in names:
            secret = self.load(Secret, Secret.id_for(tenant_id, name), tenant_id)
            if secret is None or secret.deleted:
                raise SecretMissingError(f"the tool needs secret {name}, which is not set (PUT /v1/secrets/{name})")
            value = self.vault.unseal(tenant_id, name, secret.version)
            if value is None:
                raise SecretUnsealedError(f"secret {name} has no value for its latest change; set it again")
            values[name] = value
        return values

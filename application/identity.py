"""Identity: organizations, users and API keys of the platform (who a credential is: authentication.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.utils import EnvType

from agentmem.application.base import AgentMemApplication, ApplicationError, EventPositions, NotFoundError, Saved
from agentmem.application.credentials import (
    MIN_KEY_CHARS,
    KeyHasher,
    hash_password,
    key_id,
    lookup_prefix,
    new_api_key,
)
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.email_index import EmailIndex
from agentmem.domain.errors import Conflict, InvalidInput, Unauthenticated
from agentmem.domain.name_claim import NameClaim, NameTakenError
from agentmem.domain.organization import Organization
from agentmem.domain.user import User, normalize_email

MIN_PASSWORD_CHARS = 8
EMAIL_RETRIES = 5


class OrganizationNotFoundError(NotFoundError):
    """No such organization (or not yours)."""


class UserNotFoundError(NotFoundError):
    """No such user in this organization."""


class ApiKeyNotFoundError(NotFoundError):
    """No such API key in this organization."""


class WeakPasswordError(ApplicationError, InvalidInput):
    """The password is too short."""


class EmailTakenError(ApplicationError, Conflict):
    """Another user of the same organization has this email."""


class InvalidKeyError(ApplicationError, Unauthenticated):
    """A key that cannot be issued (too short)."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key: its record, the key itself (shown once) and the log position."""

    key: ApiKey
    secret: str
    position: int


@dataclass(frozen=True, slots=True)
class NewOrganization:
    """A created organization, its first owner key and the log position."""

    organization: Organization
    owner_key: IssuedKey
    position: int


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError("password", f"password must be at least {MIN_PASSWORD_CHARS} characters")
    return password


class IdentityApplication(AgentMemApplication):
    """Commands and by-id reads on organizations, users and keys."""

    def __init__(
        self,
        env: EnvType,
        *,
        secret: bytes,
        factory: InfrastructureFactory | None = None,
        positions: EventPositions | None = None,
    ) -> None:
        self.hasher = KeyHasher(secret)
        super().__init__(env, factory=factory, positions=positions)

    # organizations

    def create_organization(self, name: str, context: Context, quotas: dict[str, Any] | None = None) -> NewOrganization:
        """Creates an organization with a unique name and a first owner API key."""
        organization = Organization.create(id=uuid4(), context=context, name=name, quotas=quotas)
        claim = self._claim("organization", organization.name.lower(), organization.id, context)
        owner = replace(context, tenant_id=organization.tenant_id)
        key, secret = self._new_key("owner", "owner", owner)
        position = self._save_claimed(claim, organization, key)
        return NewOrganization(organization, IssuedKey(key, secret, position), position)

    def get_organization(self, organization_id: UUID) -> Organization:
        organization = self.get_aggregate(Organization, organization_id)
        if organization is None or organization.deleted:
            raise OrganizationNotFoundError(f"organization {organization_id} not found")
        return organization

    def find_organization(self, name: str) -> Organization | None:
        """The live organization with this name (case-insensitive), if any."""
        claim = self.get_aggregate(NameClaim, NameClaim.id_for("organization", name.strip().lower()))
        if claim is None or claim.ref is None:
            return None
        return self.get_organization(claim.ref)

    def update_organization(
        self, organization_id: UUID, changes: dict[str, Any], context: Context
    ) -> Saved[Organization]:
        organization = self.get_organization(organization_id)
        old_name = organization.name
        if not organization.update(context, changes):
            return Saved(organization, self.position_of(organization.id, organization.version))
        if organization.name.lower() == old_name.lower():
            return Saved(organization, self.record(organization))
        scoped = replace(context, tenant_id=organization.tenant_id)
        claim = self._claim("organization", organization.name.lower(), organization.id, scoped)
        old = self.get_aggregate(NameClaim, NameClaim.id_for("organization", old_name.lower()))
        assert old is not None
        old.release(scoped)
        return Saved(organization, self._save_claimed(claim, organization, old))

    def delete_organization(self, organization_id: UUID, context: Context) -> Saved[Organization]:
        """Deletes an organization (its name becomes free); its credentials stop working at once."""
        organization = self.get_organization(organization_id)
        organization.delete(context)
        claim = self.get_aggregate(NameClaim, NameClaim.id_for("organization", organization.name.lower()))
        assert claim is not None
        claim.release(replace(context, tenant_id=organization.tenant_id))
        return Saved(organization, self.record(organization, claim))

    def register_imported(
        self, organization: Organization, users: list[User], context: Context
    ) -> list[NameClaim | EmailIndex]:
        """The platform bookkeeping an imported organization needs here, with pending events: its name claimed
        (NameTakenError if held), its live users listed under their email addresses."""
        claim = self._claim("organization", organization.name.lower(), organization.id, context)
        indexes: dict[str, EmailIndex] = {}
        for user in users:
            if not user.deleted:
                index = indexes.get(user.email) or self._email_index(user.email, context)
                index.list_user(context, user.id, user.tenant_id)
                indexes[user.email] = index
        return [claim, *indexes.values()]

    # users

    def create_user(
        self,
        context: Context,
        *,
        email: str,
        name: str,
        role: str,
        password: str | None = None,
        superadmin: bool = False,
    ) -> Saved[User]:
        """Adds a user to the caller's organization; an email is unique within an organization."""
        password_hash = hash_password(check_password(password)) if password is not None else None
        user = User.create(
            id=uuid4(),
            context=context,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            superadmin=superadmin,
        )
        for _ in range(EMAIL_RETRIES):
            index = self._email_index(user.email, context)
            if index.tenant_holds(context.tenant_id):
                raise EmailTakenError(f"email {user.email!r} is taken in this organization")
            index.list_user(context, user.id, context.tenant_id)
            try:
                return Saved(user, self.record(user, index))
            except IntegrityError:
                continue  # another user of this address was added meanwhile: look again
        raise EmailTakenError(f"email {user.email!r} is being changed concurrently; try again")

    def users_with_email(self, email: str) -> dict[UUID, str]:
        """Every live user holding an address, with their tenant (from the index, or a pre-index claim)."""
        address = normalize_email(email)
        index = self.get_aggregate(EmailIndex, EmailIndex.id_for(address))
        if index is not None:
            return dict(index.users)
        claim = self.get_aggregate(NameClaim, NameClaim.id_for("email", address))
        user = self.get_aggregate(User, claim.ref) if claim is not None and claim.ref is not None else None
        return {user.id: user.tenant_id} if user is not None and not user.deleted else {}

    def get_user(self, user_id: UUID, tenant_id: str) -> User:
        user = self.load(User, user_id, tenant_id)
        if user is None or user.deleted:
            raise UserNotFoundError(f"user {user_id} not found")
        return user

    def update_user(
        self, user_id: UUID, tenant_id: str, changes: dict[str, Any], context: Context, password: str | None = None
    ) -> Saved[User]:
        """Changes name, role and/or password."""
        user = self.get_user(user_id, tenant_id)
        changed = user.update(context, changes)
        if password is not None:
            user.change_password(context, hash_password(check_password(password)))
            changed = True
        if not changed:
            return Saved(user, self.position_of(user.id, user.version))
        return Saved(user, self.record(user))

    def set_user_disabled(self, user_id: UUID, context: Context, disabled: bool) -> Saved[User]:
        user = self.get_user(user_id, context.tenant_id)
        changed = user.disable(context) if disabled else user.enable(context)
        position = self.record(user) if changed else self.position_of(user.id, user.version)
        return Saved(user, position)

    def delete_user(self, user_id: UUID, context: Context) -> Saved[User]:
        """Deletes a user; their email can be used again in their organization."""
        user = self.get_user(user_id, context.tenant_id)
        user.delete(context)
        index = self.get_aggregate(EmailIndex, EmailIndex.id_for(user.email))
        claim = self.get_aggregate(NameClaim, NameClaim.id_for("email", user.email))
        if index is not None:
            index.unlist_user(context, user.id)
        if claim is not None and claim.ref == user.id:
            claim.release(context)  # an address claimed before the index existed
        return Saved(user, self.record(*(a for a in (user, index, claim) if a is not None)))

    # API keys

    def create_key(
        self,
        name: str,
        role: str,
        context: Context,
        *,
        expires_at: datetime | None = None,
        user_id: UUID | None = None,
        secret: str | None = None,
    ) -> IssuedKey:
        """Issues a key (random unless `secret` is given); only its HMAC is stored."""
        for _ in range(5):
            key, raw = self._new_key(name, role, context, expires_at=expires_at, user_id=user_id, secret=secret)
            try:
                return IssuedKey(key, raw, self.record(key))
            except IntegrityError:
                if secret is not None:
                    raise
        raise RuntimeError("could not find a free key prefix")  # pragma: no cover - 2^-50 odds, five times

    def get_key(self, api_key_id: UUID, tenant_id: str) -> ApiKey:
        key = self.load(ApiKey, api_key_id, tenant_id)
        if key is None:
            raise ApiKeyNotFoundError(f"API key {api_key_id} not found")
        return key

    def revoke_key(self, api_key_id: UUID, context: Context) -> Saved[ApiKey]:
        """Revokes a key: the next request with it is refused."""
        key = self.get_key(api_key_id, context.tenant_id)
        key.revoke(context)
        return Saved(key, self.record(key))

    # helpers

    def get_aggregate(self, cls: type[Any], aggregate_id: UUID) -> Any:
        """The aggregate of that class with that id, whatever its tenant (platform lookups only), or None."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _email_index(self, address: str, context: Context) -> EmailIndex:
        """The address's index; a new one starts with the user who claimed the address before indexes existed."""
        index = self.get_aggregate(EmailIndex, EmailIndex.id_for(address))
        if index is not None:
            return index
        index = EmailIndex.open(address, context)
        for user_id, tenant_id in self.users_with_email(address).items():
            index.list_user(context, user_id, tenant_id)
        return index

    def _new_key(
        self,
        name: str,
        role: str,
        context: Context,
        *,
        expires_at: datetime | None = None,
        user_id: UUID | None = None,
        secret: str | None = None,
    ) -> tuple[ApiKey, str]:
        raw = secret if secret is not None else new_api_key()
        if len(raw) < MIN_KEY_CHARS:
            raise InvalidKeyError(f"an API key must be at least {MIN_KEY_CHARS} characters")
        key = ApiKey.create(
            id=key_id(raw),
            context=context,
            name=name,
            role=role,
            prefix=lookup_prefix(raw),
            key_hash=self.hasher.hash(raw),
            user_id=str(user_id) if user_id else None,
            expires_at=expires_at,
        )
        return key, raw

    def _claim(self, kind: str, name: str, ref: UUID, context: Context) -> NameClaim:
        """A new claim on a free name, or the released claim taken again; NameTakenError if held."""
        existing = self.get_aggregate(NameClaim, NameClaim.id_for(kind, name))
        if existing is not None:
            existing.claim(context, ref)
            return existing
        return NameClaim.create(context=context, kind=kind, name=name, ref=ref)

    def _save_claimed(self, claim: NameClaim, *aggregates: Aggregate) -> int:
        try:
            return self.record(claim, *aggregates)
        except IntegrityError:
            raise NameTakenError(f"{claim.kind} {claim.name!r} is taken") from None

"""Identity: organizations, users and API keys; who a credential is; the bootstrap owner."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, IntegrityError
from eventsourcing.utils import EnvType

from agentmem.application.base import AgentMemApplication, ApplicationError, EventPositions, NotFoundError
from agentmem.application.credentials import (
    MIN_KEY_CHARS,
    KeyHasher,
    hash_password,
    key_id,
    lookup_prefix,
    new_api_key,
    password_matches,
)
from agentmem.application.verified import VerifiedIdentities
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.name_claim import NameClaim, NameTakenError
from agentmem.domain.organization import Organization
from agentmem.domain.user import InvalidUserError, User, normalize_email

MIN_PASSWORD_CHARS = 8
DEFAULT_ORGANIZATION = "default"
BOOTSTRAP_CONTEXT = Context(tenant_id="platform", actor_id="system:bootstrap", request_id="bootstrap")


class OrganizationNotFoundError(NotFoundError):
    """No such organization (or not yours)."""


class UserNotFoundError(NotFoundError):
    """No such user in this organization."""


class ApiKeyNotFoundError(NotFoundError):
    """No such API key in this organization."""


class AuthenticationError(ApplicationError):
    """The credentials are unknown, wrong, revoked or expired."""


class OrganizationSuspendedError(ApplicationError):
    """The organization is suspended: its credentials are refused until it is reactivated."""


class WeakPasswordError(ApplicationError):
    """The password is too short."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a credential belongs to: the organization, and the key or the user acting."""

    organization: Organization
    key: ApiKey | None = None
    user: User | None = None


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


@dataclass(frozen=True, slots=True)
class Saved:
    """An aggregate as a command left it and the log position of its last event."""

    aggregate: Any
    position: int


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    """What the first start created: the default organization, its owner and the owner's key."""

    organization: Organization
    user: User
    key: IssuedKey | None


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise WeakPasswordError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    return password


class IdentityApplication(AgentMemApplication):
    """Commands on organizations, users and keys; authentication of keys, tokens and passwords."""

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
        self.verified = VerifiedIdentities(positions.latest_versions) if positions is not None else None

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
        organization = self._get(Organization, organization_id)
        if not isinstance(organization, Organization) or organization.deleted:
            raise OrganizationNotFoundError(f"organization {organization_id} not found")
        return organization

    def find_organization(self, name: str) -> Organization | None:
        """The live organization with this name (case-insensitive), if any."""
        claim = self._get(NameClaim, NameClaim.id_for("organization", name.strip().lower()))
        if not isinstance(claim, NameClaim) or claim.ref is None:
            return None
        return self.get_organization(claim.ref)

    def update_organization(self, organization_id: UUID, changes: dict[str, Any], context: Context) -> Saved:
        organization = self.get_organization(organization_id)
        old_name = organization.name
        if not organization.update(context, changes):
            return Saved(organization, self.position_of(organization.id, organization.version))
        if organization.name.lower() == old_name.lower():
            return Saved(organization, self.record(organization))
        scoped = replace(context, tenant_id=organization.tenant_id)
        claim = self._claim("organization", organization.name.lower(), organization.id, scoped)
        old = self._get(NameClaim, NameClaim.id_for("organization", old_name.lower()))
        assert isinstance(old, NameClaim)
        old.release(scoped)
        return Saved(organization, self._save_claimed(claim, organization, old))

    def delete_organization(self, organization_id: UUID, context: Context) -> Saved:
        """Deletes an organization (its name becomes free); its credentials stop working at once."""
        organization = self.get_organization(organization_id)
        organization.delete(context)
        claim = self._get(NameClaim, NameClaim.id_for("organization", organization.name.lower()))
        assert isinstance(claim, NameClaim)
        claim.release(replace(context, tenant_id=organization.tenant_id))
        return Saved(organization, self.record(organization, claim))

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
    ) -> Saved:
        """Adds a user to the caller's organization; emails are unique across the platform."""
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
        claim = self._claim("email", user.email, user.id, context)
        return Saved(user, self._save_claimed(claim, user))

    def get_user(self, user_id: UUID, tenant_id: str) -> User:
        user = self.load(User, user_id, tenant_id)
        if user is None or user.deleted:
            raise UserNotFoundError(f"user {user_id} not found")
        return user

    def update_user(
        self, user_id: UUID, tenant_id: str, changes: dict[str, Any], context: Context, password: str | None = None
    ) -> Saved:
        """Changes name, role and/or password."""
        user = self.get_user(user_id, tenant_id)
        changed = user.update(context, changes)
        if password is not None:
            user.change_password(context, hash_password(check_password(password)))
            changed = True
        if not changed:
            return Saved(user, self.position_of(user.id, user.version))
        return Saved(user, self.record(user))

    def set_user_disabled(self, user_id: UUID, context: Context, disabled: bool) -> Saved:
        user = self.get_user(user_id, context.tenant_id)
        changed = user.disable(context) if disabled else user.enable(context)
        position = self.record(user) if changed else self.position_of(user.id, user.version)
        return Saved(user, position)

    def delete_user(self, user_id: UUID, context: Context) -> Saved:
        """Deletes a user; their email becomes free."""
        user = self.get_user(user_id, context.tenant_id)
        user.delete(context)
        claim = self._get(NameClaim, NameClaim.id_for("email", user.email))
        assert isinstance(claim, NameClaim)
        claim.release(context)
        return Saved(user, self.record(user, claim))

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

    def revoke_key(self, api_key_id: UUID, context: Context) -> Saved:
        """Revokes a key: the next request with it is refused."""
        key = self.get_key(api_key_id, context.tenant_id)
        key.revoke(context)
        return Saved(key, self.record(key))

    # authentication

    def authenticate_key(self, secret: str, now: datetime | None = None) -> Identity:
        """The organization and key behind an API key; AuthenticationError if unknown, revoked or expired."""
        if len(secret) < MIN_KEY_CHARS:
            raise AuthenticationError("invalid API key")
        credential = ("key", key_id(secret))
        identity = self.verified.get(credential) if self.verified is not None else None
        key = identity.key if identity is not None else self._get(ApiKey, key_id(secret))
        if not isinstance(key, ApiKey) or not self.hasher.matches(secret, key.key_hash):
            raise AuthenticationError("invalid API key")
        if not key.usable_at(now or datetime.now(UTC)):
            raise AuthenticationError("this API key is revoked" if key.revoked else "this API key has expired")
        if identity is not None:
            return identity
        organization = self._live_organization(key.tenant_id)
        user = None
        if key.user_id is not None:
            user = self.load(User, UUID(key.user_id), key.tenant_id)
            if user is None or not user.active:
                raise AuthenticationError("the user this API key belongs to is disabled or deleted")
        identity = Identity(organization, key=key, user=user)
        if self.verified is not None:
            self.verified.put(credential, identity, [organization, key, user])
        return identity

    def authenticate_user(self, user_id: UUID, tenant_id: str) -> Identity:
        """The organization and user a token names, if both are still active."""
        credential = ("user", user_id, tenant_id)
        identity = self.verified.get(credential) if self.verified is not None else None
        if identity is not None:
            return identity
        user = self.load(User, user_id, tenant_id)
        if user is None or not user.active:
            raise AuthenticationError("the user is disabled or deleted")
        identity = Identity(self._live_organization(tenant_id), user=user)
        if self.verified is not None:
            self.verified.put(credential, identity, [identity.organization, user])
        return identity

    def login(self, email: str, password: str) -> Identity:
        """Checks an email and password (argon2id); the same error whatever was wrong."""
        try:
            address = normalize_email(email)
        except InvalidUserError:
            address = ""
        claim = self._get(NameClaim, NameClaim.id_for("email", address)) if address else None
        user = self._get(User, claim.ref) if isinstance(claim, NameClaim) and claim.ref else None
        password_hash = user.password_hash if isinstance(user, User) else None
        if not password_matches(password, password_hash) or not isinstance(user, User):
            raise AuthenticationError("wrong email or password")
        return self.authenticate_user(user.id, user.tenant_id)

    # bootstrap

    def bootstrap(self, email: str, password: str | None = None, secret: str | None = None) -> Bootstrapped | None:
        """On first start: the `default` organization, its owner (a platform superadmin) and an owner key.

        Later starts create nothing, except a key for `secret` when that key does not exist yet.
        """
        existing = self.find_organization(DEFAULT_ORGANIZATION)
        if existing is not None:
            if secret is None or isinstance(self._get(ApiKey, key_id(secret)), ApiKey):
                return None
            owner = self._bootstrap_owner(existing, email)
            context = replace(BOOTSTRAP_CONTEXT, tenant_id=existing.tenant_id)
            key = self.create_key("bootstrap", "superadmin", context, user_id=owner.id, secret=secret)
            return Bootstrapped(existing, owner, key)
        created = self.create_organization(DEFAULT_ORGANIZATION, BOOTSTRAP_CONTEXT)
        context = replace(BOOTSTRAP_CONTEXT, tenant_id=created.organization.tenant_id)
        user = self.create_user(
            context, email=email, name="Administrator", role="owner", password=password, superadmin=True
        ).aggregate
        self.revoke_key(created.owner_key.key.id, context)
        key = self.create_key("bootstrap", "superadmin", context, user_id=user.id, secret=secret)
        return Bootstrapped(created.organization, user, key)

    def _bootstrap_owner(self, organization: Organization, email: str) -> User:
        claim = self._get(NameClaim, NameClaim.id_for("email", normalize_email(email)))
        user = self._get(User, claim.ref) if isinstance(claim, NameClaim) and claim.ref else None
        if not isinstance(user, User) or user.tenant_id != organization.tenant_id or not user.active:
            raise AuthenticationError(f"no active bootstrap owner {email!r} in the default organization")
        return user

    # helpers

    def _get(self, cls: type[Aggregate], aggregate_id: UUID) -> Aggregate | None:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    def _live_organization(self, tenant_id: str) -> Organization:
        try:
            organization = self.get_organization(UUID(tenant_id))
        except (ValueError, OrganizationNotFoundError):
            raise AuthenticationError("the organization of these credentials was deleted") from None
        if organization.status != "active":
            raise OrganizationSuspendedError(f"organization {organization.name!r} is {organization.status}")
        return organization

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
            raise AuthenticationError(f"an API key must be at least {MIN_KEY_CHARS} characters")
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
        existing = self._get(NameClaim, NameClaim.id_for(kind, name))
        if isinstance(existing, NameClaim):
            existing.claim(context, ref)
            return existing
        return NameClaim.create(context=context, kind=kind, name=name, ref=ref)

    def _save_claimed(self, claim: NameClaim, *aggregates: Aggregate) -> int:
        try:
            return self.record(claim, *aggregates)
        except IntegrityError:
            raise NameTakenError(f"{claim.kind} {claim.name!r} is taken") from None

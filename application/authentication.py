"""Who is calling: API keys and tokens checked against the log, the caller's limits, and the request rate.

Authenticating a key reads three aggregates (key, organization, user) from the log; `VerifiedIdentities`
remembers the answer while none of them changed (one query per request instead of three loads).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from agentmem.application.base import ApplicationError, EventPositions
from agentmem.application.credentials import MIN_KEY_CHARS, key_id, password_matches
from agentmem.application.identity import IdentityApplication
from agentmem.application.permissions import ROLE_PERMISSIONS, permissions_of
from agentmem.application.verified import VerifiedIdentities
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.errors import BadRequest, Forbidden, InvalidInput, Unauthenticated
from agentmem.domain.organization import Organization
from agentmem.domain.user import InvalidUserError, User

LOGIN_ATTEMPTS_PER_MINUTE = 10


class AuthenticationError(ApplicationError, Unauthenticated):
    """The credentials are unknown, wrong, revoked or expired."""


class OrganizationSuspendedError(ApplicationError, Forbidden):
    """The organization is suspended: its credentials are refused until it is reactivated."""


class AmbiguousAccountError(ApplicationError, InvalidInput):
    """The email and password match accounts in several organizations: the sign-in must name one."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a credential belongs to: the organization, and the key or the user acting."""

    organization: Organization
    key: ApiKey | None = None
    user: User | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: their tenant, their id (`key:<id>` or `user:<id>`), their role and what it permits."""

    tenant_id: str
    actor_id: str
    role: str
    permissions: frozenset[str]
    kind: str = "api_key"
    superadmin: bool = False
    organization_name: str = ""
    key_id: str | None = None
    user_id: str | None = None
    token_id: str | None = None
    token_expires_at: int | None = None
    requests_per_minute: int = 0
    max_memories: int = 0

    def context(self, request_id: str) -> Context:
        """The tenant, actor and request every event of this call carries."""
        return Context(tenant_id=self.tenant_id, actor_id=self.actor_id, request_id=request_id)


@dataclass(frozen=True, slots=True)
class Limits:
    """The platform's defaults for organizations whose quotas do not say otherwise."""

    requests_per_minute: int
    max_memories: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A signed token and when it expires (seconds since the epoch)."""

    token: str
    jti: str
    expires_at: int


class InvalidTokenError(ApplicationError, Unauthenticated):
    """The token is malformed, tampered with, expired, of another algorithm, or revoked."""


class TokenService(Protocol):
    """Signs, verifies and revokes user tokens."""

    ttl: int

    def issue(self, user_id: str, tenant_id: str, role: str) -> IssuedToken: ...

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims (`sub`, `org`, `jti`, `exp`, …); InvalidTokenError for any token not valid now."""
        ...

    async def revoke(self, jti: str, expires_at: int) -> None: ...


class RateLimiter(Protocol):
    """Counts requests per minute in a window shared by every process."""

    async def hit(self, identifier: str, per_minute: int, scope: str = "org") -> None:
        """Counts one; LimitExceeded (with retry_after) once the minute's budget is spent."""
        ...


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


class Authenticator:
    """Turns a presented secret into a Principal, counts its requests, and signs users in and out."""

    def __init__(
        self,
        identity: IdentityApplication,
        positions: EventPositions,
        tokens: TokenService,
        rates: RateLimiter,
        limits: Limits,
    ) -> None:
        self.identity = identity
        self.tokens = tokens
        self.rates = rates
        self.limits = limits
        self.verified = VerifiedIdentities(positions.latest_versions)

    async def authenticate(self, secret: str) -> Principal:
        """The caller behind an API key or a token (AuthenticationError, or OrganizationSuspendedError)."""
        if looks_like_jwt(secret):
            claims = await self.tokens.verify(secret)
            try:
                user_id = UUID(str(claims["sub"]))
            except ValueError:
                raise InvalidTokenError("invalid token") from None
            identity = await asyncio.to_thread(self.authenticate_user, user_id, str(claims["org"]))
            return self.principal_of(identity, claims)
        identity = await asyncio.to_thread(self.authenticate_key, secret)
        return self.principal_of(identity)

    async def admit(self, principal: Principal) -> None:
        """Counts one request against the organization's rate (LimitExceeded past it)."""
        await self.rates.hit(principal.tenant_id, principal.requests_per_minute)

    def authenticate_key(self, secret: str, now: datetime | None = None) -> Identity:
        """The organization and key behind an API key; AuthenticationError if unknown, revoked or expired."""
        if len(secret) < MIN_KEY_CHARS:
            raise AuthenticationError("invalid API key")
        credential = ("key", key_id(secret))
        identity = self.verified.get(credential)
        key = identity.key if identity is not None else self.identity.get_aggregate(ApiKey, key_id(secret))
        if key is None or not self.identity.hasher.matches(secret, key.key_hash):
            raise AuthenticationError("invalid API key")
        if not key.usable_at(now or datetime.now(UTC)):
            raise AuthenticationError("this API key is revoked" if key.revoked else "this API key has expired")
        if identity is not None:
            return identity
        organization = self._live_organization(key.tenant_id)
        user = None
        if key.user_id is not None:
            user = self.identity.load(User, UUID(key.user_id), key.tenant_id)
            if user is None or not user.active:
                raise AuthenticationError("the user this API key belongs to is disabled or deleted")
        identity = Identity(organization, key=key, user=user)
        self.verified.put(credential, identity, [organization, key, user])
        return identity

    def authenticate_user(self, user_id: UUID, tenant_id: str) -> Identity:
        """The organization and user a token names, if both are still active."""
        credential = ("user", user_id, tenant_id)
        identity = self.verified.get(credential)
        if identity is not None:
            return identity
        user = self.identity.load(User, user_id, tenant_id)
        if user is None or not user.active:
            raise AuthenticationError("the user is disabled or deleted")
        identity = Identity(self._live_organization(tenant_id), user=user)
        self.verified.put(credential, identity, [identity.organization, user])
        return identity

    def login(self, email: str, password: str, organization: str | None = None) -> Identity:
        """Checks an email and password (argon2id) against the users holding that email; the same error
        whatever was wrong. `organization` (name or id) picks one when the address has accounts in several."""
        try:
            holders = self.identity.users_with_email(email)
        except (InvalidInput, InvalidUserError):
            holders = {}
        live = [(user_id, tenant) for user_id, tenant in holders.items() if self._organization_exists(tenant)]
        users = [self.identity.load(User, user_id, tenant) for user_id, tenant in live]
        candidates = [u for u in users if u is not None and self._in_organization(u.tenant_id, organization)]
        matching = [u for u in candidates if password_matches(password, u.password_hash)]
        if not candidates:
            password_matches(password, None)  # as slow as a real check: no "this email exists" oracle
        if not matching:
            raise AuthenticationError("wrong email or password")
        if len(matching) > 1:
            raise AmbiguousAccountError(
                "organization", "this email has accounts in several organizations; name the organization"
            )
        return self.authenticate_user(matching[0].id, matching[0].tenant_id)

    async def sign_in(self, email: str, password: str, organization: str | None = None) -> IssuedToken:
        """A token for a user (10 attempts a minute per email)."""
        await self.rates.hit(email.strip().lower(), LOGIN_ATTEMPTS_PER_MINUTE, scope="login")
        identity = await asyncio.to_thread(self.login, email, password, organization)
        assert identity.user is not None
        return self.tokens.issue(str(identity.user.id), identity.organization.tenant_id, identity.user.role)

    async def refresh(self, principal: Principal) -> IssuedToken:
        """A new token for the same user; the one presented is revoked."""
        jti, expires_at = self._token_of(principal)
        assert principal.user_id is not None
        issued = self.tokens.issue(principal.user_id, principal.tenant_id, principal.role)
        await self.tokens.revoke(jti, expires_at)
        return issued

    async def logout(self, principal: Principal) -> None:
        """Revokes the token presented: the next request with it is refused."""
        jti, expires_at = self._token_of(principal)
        await self.tokens.revoke(jti, expires_at)

    def principal_of(self, identity: Identity, claims: dict[str, Any] | None = None) -> Principal:
        """The principal of an authenticated key or user, with their organization's limits."""
        organization = identity.organization
        limits = {
            "requests_per_minute": organization.quotas.get("requests_per_minute") or self.limits.requests_per_minute,
            "max_memories": organization.quotas.get("max_memories") or self.limits.max_memories,
            "organization_name": organization.name,
            "tenant_id": organization.tenant_id,
        }
        if identity.key is not None:
            key = identity.key
            return Principal(
                actor_id=f"key:{key.id}",
                role=key.role,
                permissions=ROLE_PERMISSIONS[key.role],
                kind="api_key",
                superadmin=key.role == "superadmin",
                key_id=str(key.id),
                user_id=key.user_id,
                **limits,
            )
        assert identity.user is not None
        user = identity.user
        return Principal(
            actor_id=f"user:{user.id}",
            role=user.role,
            permissions=permissions_of(user.role, user.superadmin),
            kind="user",
            superadmin=user.superadmin,
            user_id=str(user.id),
            token_id=str(claims["jti"]) if claims else None,
            token_expires_at=int(claims["exp"]) if claims else None,
            **limits,
        )

    def _organization_exists(self, tenant_id: str) -> bool:
        """False once the organization is deleted: its users no longer sign in, nor make an address ambiguous."""
        try:
            self.identity.get_organization(UUID(tenant_id))
        except (ValueError, ApplicationError):
            return False
        return True

    def _in_organization(self, tenant_id: str, organization: str | None) -> bool:
        if organization is None:
            return True
        if organization == tenant_id:
            return True
        found = self.identity.find_organization(organization)
        return found is not None and found.tenant_id == tenant_id

    def _live_organization(self, tenant_id: str) -> Organization:
        try:
            organization = self.identity.get_organization(UUID(tenant_id))
        except (ValueError, ApplicationError):
            raise AuthenticationError("the organization of these credentials was deleted") from None
        if organization.status != "active":
            raise OrganizationSuspendedError(f"organization {organization.name!r} is {organization.status}")
        return organization

    @staticmethod
    def _token_of(principal: Principal) -> tuple[str, int]:
        if principal.token_id is None or principal.token_expires_at is None:
            raise BadRequest("only a token (not an API key) can be refreshed or logged out")
        return principal.token_id, principal.token_expires_at

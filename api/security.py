"""Authentication (API keys and tokens), per-organization rate limits and the memory quota, for the guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from agentmem.api.context import Principal
from agentmem.api.permissions import ROLE_PERMISSIONS, permissions_of
from agentmem.api.tokens import InvalidTokenError, TokenService, looks_like_jwt
from agentmem.application.identity import AuthenticationError, Identity, OrganizationSuspendedError
from agentmem.infrastructure.postgres_audit import PostgresAuditTrail
from agentmem.infrastructure.postgres_directory import PostgresDirectory
from agentmem.infrastructure.quotas import MemoryQuota, RequestRateLimiter, live_memories
from agentmem.infrastructure.settings import Settings

if TYPE_CHECKING:
    from agentmem.api.services import Services

CREDENTIALS_REQUIRED = "credentials required: Authorization: Bearer <API key or token>, or X-API-Key"


@dataclass
class AuthServices:
    """Tokens, rate limits, quotas and the identity read models of one API process."""

    settings: Settings
    tokens: TokenService
    rates: RequestRateLimiter
    memory_quota: MemoryQuota
    audit: PostgresAuditTrail | None = None
    directory: PostgresDirectory | None = None

    @classmethod
    def build(cls, settings: Settings, redis: Redis, secret: bytes) -> AuthServices:
        assert settings.redis_url
        return cls(
            settings=settings,
            tokens=TokenService(secret, settings.jwt_algorithm, settings.token_ttl, redis),
            rates=RequestRateLimiter(settings.redis_url, redis),
            memory_quota=MemoryQuota(redis),
        )

    def start(self, pool: AsyncConnectionPool) -> None:
        self.audit = PostgresAuditTrail(pool)
        self.directory = PostgresDirectory(pool)


def presented_secret(headers: Headers) -> str | None:
    """The API key or token of a request: `Authorization: Bearer …` or `X-API-Key: …`."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthorizedException("use Authorization: Bearer <API key or token>")
        return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def principal_of(identity: Identity, settings: Settings, claims: dict[str, Any] | None = None) -> Principal:
    """The principal of an authenticated key or user, with their organization's limits."""
    organization = identity.organization
    limits = {
        "requests_per_minute": organization.quotas.get("requests_per_minute") or settings.rate_limit_per_minute,
        "max_memories": organization.quotas.get("max_memories") or settings.max_memories_per_org,
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


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Who sent this request (401 without valid credentials, 403 for a suspended organization)."""
    state = connection.scope.setdefault("state", {})
    known: Principal | None = state.get("principal")
    if known is not None:
        return known
    secret = presented_secret(connection.headers)
    if secret is None:
        raise NotAuthorizedException(CREDENTIALS_REQUIRED, headers={"WWW-Authenticate": "Bearer"})
    services: Services = connection.app.state.services
    try:
        if looks_like_jwt(secret):
            claims = await services.auth.tokens.verify(secret)
            user_id = UUID(str(claims["sub"]))
            identity = await asyncio.to_thread(services.identity.authenticate_user, user_id, str(claims["org"]))
            principal = principal_of(identity, services.settings, claims)
        else:
            identity = await asyncio.to_thread(services.identity.authenticate_key, secret)
            principal = principal_of(identity, services.settings)
    except (AuthenticationError, InvalidTokenError, ValueError) as error:
        raise NotAuthorizedException(str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    except OrganizationSuspendedError as error:
        raise PermissionDeniedException(str(error)) from None
    state["principal"] = principal
    return principal


@asynccontextmanager
async def memory_quota(services: Services, principal: Principal, count: int) -> AsyncIterator[None]:
    """Reserves `count` memories of the organization's quota for a write; gives them back if it fails."""

    async def recount() -> int:
        active = await services.active("memories")
        assert services.pool is not None
        return await live_memories(services.pool, active.model.table, principal.tenant_id)

    await services.auth.memory_quota.reserve(principal.tenant_id, count, principal.max_memories, recount)
    try:
        yield
    except BaseException:
        await services.auth.memory_quota.release(principal.tenant_id, count)
        raise

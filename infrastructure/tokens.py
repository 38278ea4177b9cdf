"""JSON Web Tokens for users: PyJWT, HS256 by default; logout and refresh revoke a token's `jti` in Redis."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from redis.asyncio import Redis

from agentmem.application.authentication import InvalidTokenError, IssuedToken
from agentmem.infrastructure.secrets import derived_key

REVOKED_PREFIX = "agentmem:jwt:revoked:"
REQUIRED_CLAIMS = ("sub", "org", "role", "jti", "iat", "exp")
LEEWAY_SECONDS = 5


class JwtTokens:
    """Issues, verifies and revokes tokens (the TokenService of application/authentication.py)."""

    def __init__(self, secret: bytes, algorithm: str, ttl: int, redis: Redis) -> None:
        self._key = derived_key(secret, "jwt")
        self.algorithm = algorithm
        self.ttl = ttl
        self.redis = redis

    def issue(self, user_id: str, tenant_id: str, role: str) -> IssuedToken:
        now = int(time.time())
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "sub": user_id,
            "org": tenant_id,
            "role": role,
            "jti": jti,
            "iat": now,
            "exp": now + self.ttl,
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=self.algorithm), jti, now + self.ttl)

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; InvalidTokenError for any token this server would not have issued as it is now."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                options={"require": list(REQUIRED_CLAIMS)},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("the token has expired") from None
        except jwt.PyJWTError:
            raise InvalidTokenError("invalid token") from None
        if await self.redis.exists(REVOKED_PREFIX + str(claims["jti"])):
            raise InvalidTokenError("the token was revoked")
        return claims

    async def revoke(self, jti: str, expires_at: int) -> None:
        """Refuses the token from now until it would have expired anyway."""
        ttl = max(int(expires_at - time.time()) + LEEWAY_SECONDS, 1)
        await self.redis.set(REVOKED_PREFIX + jti, b"1", ex=ttl)

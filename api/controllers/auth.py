"""/v1/auth: sign in with email and password for a token; refresh it; log out (revoke it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from litestar import Controller, Response, post
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_204_NO_CONTENT

from agentmem.api.context import Principal
from agentmem.api.schemas.identity import TokenOut, TokenRequest
from agentmem.api.services import Services
from agentmem.api.tokens import IssuedToken

LOGIN_ATTEMPTS_PER_MINUTE = 10


def token_out(issued: IssuedToken, ttl: int) -> TokenOut:
    return TokenOut(
        access_token=issued.token,
        token_type="bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_in=ttl,
        expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
    )


def require_token(principal: Principal) -> tuple[str, int]:
    if principal.token_id is None or principal.token_expires_at is None:
        raise HTTPException(status_code=400, detail="only a token (not an API key) can be refreshed or logged out")
    return principal.token_id, principal.token_expires_at


class AuthController(Controller):
    """Tokens for people; machines use API keys."""

    path = "/v1/auth"
    tags = ["auth"]

    @post("/token", status_code=200, opt={"public": True}, security=[])
    async def token(self, data: TokenRequest, services: Services) -> TokenOut:
        """Exchanges an email and password for a bearer token (HS256, 24 h by default); 10 tries a minute per email."""
        await services.auth.rates.hit(data.email.strip().lower(), LOGIN_ATTEMPTS_PER_MINUTE, scope="login")
        identity = await asyncio.to_thread(services.identity.login, data.email, data.password)
        assert identity.user is not None
        issued = services.auth.tokens.issue(str(identity.user.id), identity.organization.tenant_id, identity.user.role)
        return token_out(issued, services.auth.tokens.ttl)

    @post("/refresh", status_code=200, opt={"permission": "me:read"})
    async def refresh(self, principal: Principal, services: Services) -> TokenOut:
        """A new token for the same user; the one presented is revoked."""
        jti, expires_at = require_token(principal)
        assert principal.user_id is not None
        issued = services.auth.tokens.issue(principal.user_id, principal.tenant_id, principal.role)
        await services.auth.tokens.revoke(jti, expires_at)
        return token_out(issued, services.auth.tokens.ttl)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, opt={"permission": "me:read"})
    async def logout(self, principal: Principal, services: Services) -> Response[None]:
        """Revokes the token presented: the next request with it gets 401."""
        jti, expires_at = require_token(principal)
        await services.auth.tokens.revoke(jti, expires_at)
        return Response(None, status_code=HTTP_204_NO_CONTENT)

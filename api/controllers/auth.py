"""/v1/auth: sign in with email and password for a token; refresh it; log out (revoke it)."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, Response, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from agentmem.api.dependencies import provide
from agentmem.api.schemas.identity import TokenOut, TokenRequest
from agentmem.application.authentication import Authenticator, IssuedToken, Principal


def token_out(issued: IssuedToken, ttl: int) -> TokenOut:
    return TokenOut(
        access_token=issued.token,
        token_type="bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_in=ttl,
        expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
    )


class AuthController(Controller):
    """Tokens for people; machines use API keys."""

    path = "/v1/auth"
    tags = ["auth"]
    dependencies = {"auth": provide("auth")}

    @post("/token", status_code=200, opt={"public": True, "errors": (401, 429)}, security=[])
    async def token(self, data: TokenRequest, auth: Authenticator) -> TokenOut:
        """Exchanges an email and password for a bearer token (HS256, 24 h by default); 10 tries a minute per email."""
        issued = await auth.sign_in(data.email, data.password, data.organization)
        return token_out(issued, auth.tokens.ttl)

    @post("/refresh", status_code=200, opt={"permission": "me:read"})
    async def refresh(self, principal: Principal, auth: Authenticator) -> TokenOut:
        """A new token for the same user; the one presented is revoked."""
        return token_out(await auth.refresh(principal), auth.tokens.ttl)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, opt={"permission": "me:read"})
    async def logout(self, principal: Principal, auth: Authenticator) -> Response[None]:
        """Revokes the token presented: the next request with it gets 401."""
        await auth.logout(principal)
        return Response(None, status_code=HTTP_204_NO_CONTENT)

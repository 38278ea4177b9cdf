"""Every route declares the permission it needs (`opt={"permission": ...}`) or that it is public."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Headers
from litestar.handlers.base import BaseRouteHandler

from agentmem.api.dependencies import container_of
from agentmem.application.authentication import Principal
from agentmem.application.permissions import PERMISSIONS
from agentmem.domain.errors import Forbidden, Unauthenticated

CREDENTIALS_REQUIRED = "credentials required: Authorization: Bearer <API key or token>, or X-API-Key"


def presented_secret(headers: Headers) -> str:
    """The API key or token of a request: `Authorization: Bearer …` or `X-API-Key: …`."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("use Authorization: Bearer <API key or token>")
        return value.strip()
    key = headers.get("x-api-key")
    if not key or not key.strip():
        raise Unauthenticated(CREDENTIALS_REQUIRED)
    return key.strip()


def is_schema_route(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """The OpenAPI document and Swagger UI are public."""
    config = connection.app.openapi_config
    return config is not None and bool(config.path) and connection.url.path.startswith(str(config.path))


async def require_permission(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Authenticates, counts the request against the organization's rate limit, then checks the permission.

    401 without valid credentials, 429 over the rate limit, 403 when the role lacks the permission.
    """
    if handler.opt.get("public") or is_schema_route(connection):
        return
    permission = handler.opt.get("permission")
    if permission not in PERMISSIONS:
        raise Forbidden(f"route {connection.url.path} declares no known permission")
    state = connection.scope.setdefault("state", {})
    principal: Principal | None = state.get("principal")
    auth = container_of(connection.app.state).auth
    if principal is None:
        principal = await auth.authenticate(presented_secret(connection.headers))
        state["principal"] = principal
    await auth.admit(principal)
    if permission not in principal.permissions:
        raise Forbidden(f"your role ({principal.role}) does not grant {permission}")

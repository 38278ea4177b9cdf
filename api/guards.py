"""Every route declares the permission it needs (`opt={"permission": ...}`) or that it is public."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from agentmem.api.permissions import PERMISSIONS
from agentmem.api.security import authenticate


def permission_of(handler: BaseRouteHandler) -> str | None:
    return handler.opt.get("permission")


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
    permission = permission_of(handler)
    if permission not in PERMISSIONS:
        raise PermissionDeniedException(f"route {connection.url.path} declares no known permission")
    principal = await authenticate(connection)
    await connection.app.state.services.auth.rates.hit(principal.tenant_id, principal.requests_per_minute)
    if permission not in principal.permissions:
        raise PermissionDeniedException(f"your role ({principal.role}) does not grant {permission}")

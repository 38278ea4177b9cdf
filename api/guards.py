"""Every route declares the permission it needs (`opt={"permission": ...}`) or that it is public."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from agentmem.api.permissions import PERMISSIONS


def permission_of(handler: BaseRouteHandler) -> str | None:
    return handler.opt.get("permission")


def is_schema_route(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """The OpenAPI document and Swagger UI are public."""
    config = connection.app.openapi_config
    return config is not None and bool(config.path) and connection.url.path.startswith(str(config.path))


def require_permission(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Refuses a request whose principal lacks the route's permission (401 without credentials, else 403)."""
    if handler.opt.get("public") or is_schema_route(connection):
        return
    permission = permission_of(handler)
    if permission not in PERMISSIONS:
        raise PermissionDeniedException(f"route {connection.url.path} declares no known permission")
    principal = connection.scope.get("state", {}).get("principal")
    if principal is None:
        raise NotAuthorizedException("credentials required: Authorization: Bearer <API key or token>")
    if permission not in principal.permissions:
        raise PermissionDeniedException(f"your role ({principal.role}) does not grant {permission}")

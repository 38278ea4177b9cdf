"""Roles and the permissions they grant: the one place the access matrix lives (printed in the README)."""

from __future__ import annotations

from typing import Final

PERMISSIONS: Final = (
    "memories:read",
    "memories:write",
    "memories:delete",
    "blocks:read",
    "blocks:write",
    "blocks:delete",
    "agents:read",
    "agents:write",
    "agents:delete",
    "messages:read",
    "messages:write",
    "tools:read",
    "tools:write",
    "tools:execute",
    "users:read",
    "users:manage",
    "keys:manage",
    "audit:read",
    "org:read",
    "org:manage",
    "projections:admin",
    "orgs:create",
)

_READ = frozenset(p for p in PERMISSIONS if p.endswith(":read") and p not in ("audit:read", "users:read"))
_MEMBER = _READ | {
    "memories:write",
    "memories:delete",
    "blocks:write",
    "blocks:delete",
    "agents:write",
    "agents:delete",
    "messages:write",
    "tools:write",
    "tools:execute",
    "users:read",
}
_OWNER = _MEMBER | {"users:manage", "keys:manage", "audit:read", "org:manage"}

ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "viewer": frozenset(_READ),
    "member": frozenset(_MEMBER),
    "owner": frozenset(_OWNER),
    "superadmin": frozenset(PERMISSIONS),
}
ORG_ROLES: Final = ("owner", "member", "viewer")

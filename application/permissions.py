"""Roles and the permissions they grant: the one place the access matrix lives (printed in the README)."""

from __future__ import annotations

from typing import Final

from agentmem.domain.errors import Forbidden

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
    "me:read",
    "users:read",
    "users:manage",
    "keys:manage",
    "audit:read",
    "usage:read",
    "org:read",
    "org:manage",
    "orgs:create",
    "orgs:manage",
    "projections:admin",
)
PLATFORM_PERMISSIONS: Final = frozenset({"orgs:create", "orgs:manage", "projections:admin"})
"""Granted by the platform `superadmin` role only: they reach beyond one organization."""

_OWNER_READS = ("audit:read", "users:read", "usage:read")
_READ = frozenset(p for p in PERMISSIONS if p.endswith(":read") and p not in _OWNER_READS) | {"me:read"}
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
_OWNER = _MEMBER | {"users:manage", "keys:manage", "audit:read", "usage:read", "org:manage"}

ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "viewer": frozenset(_READ),
    "member": frozenset(_MEMBER),
    "owner": frozenset(_OWNER),
    "superadmin": frozenset(PERMISSIONS),
}
ORG_ROLES: Final = ("owner", "member", "viewer")


def permissions_of(role: str, superadmin: bool = False) -> frozenset[str]:
    """What a role grants; a superadmin user gets the platform permissions on top of their role."""
    granted = ROLE_PERMISSIONS.get(role, frozenset())
    return granted | ROLE_PERMISSIONS["superadmin"] if superadmin else granted


def may_grant(granted: frozenset[str], role: str) -> bool:
    """Whether someone holding `granted` may hand out `role` (never more than they have)."""
    return role in ROLE_PERMISSIONS and ROLE_PERMISSIONS[role] <= granted


def check_grant(granted: frozenset[str], role: str, holder_role: str) -> None:
    """Forbidden unless someone holding `granted` (as `holder_role`) may hand out `role`."""
    if not may_grant(granted, role):
        raise Forbidden(f"your role ({holder_role}) cannot grant the role {role}")


def matrix_markdown() -> str:
    """The role x permission table, as printed in the README."""
    roles = list(ROLE_PERMISSIONS)
    lines = ["| permission | " + " | ".join(roles) + " |", "| --- |" + " :-: |" * len(roles)]
    for permission in PERMISSIONS:
        marks = ["✓" if permission in ROLE_PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{permission}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)

"""/v1/me: who the credentials belong to."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get

from agentmem.api.schemas.identity import MeOut
from agentmem.application.authentication import Principal


class MeController(Controller):
    """The caller's identity, organization, role and permissions."""

    path = "/v1/me"
    tags = ["auth"]

    @get("/", opt={"permission": "me:read"})
    async def me(self, principal: Principal) -> MeOut:
        """Your organization, role, permissions and limits."""
        expires = principal.token_expires_at
        return MeOut(
            kind=principal.kind,
            actor_id=principal.actor_id,
            organization_id=principal.tenant_id,
            organization_name=principal.organization_name,
            role=principal.role,
            superadmin=principal.superadmin,
            permissions=sorted(principal.permissions),
            user_id=principal.user_id,
            key_id=principal.key_id,
            token_expires_at=datetime.fromtimestamp(expires, UTC) if expires else None,
            requests_per_minute=principal.requests_per_minute,
            max_memories=principal.max_memories,
        )

"""/v1/api-keys: issue (the key is shown once), list and revoke the organization's API keys."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from agentmem.api.context import POSITION_HEADER, Principal
from agentmem.api.controllers.users import check_grant
from agentmem.api.listing import Cursor, Limit, MinPosition, row_out, wait_for_read_model
from agentmem.api.schemas.identity import ApiKeyCreate, ApiKeyCreatedOut, ApiKeyOut, ApiKeyPageOut
from agentmem.api.services import Services
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.projections.directory import DIRECTORY


def key_fields(key: ApiKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "user_id": key.user_id,
        "created_by": key.created_by,
        "created_at": key.created_on,
        "expires_at": key.expires_at,
        "revoked": key.revoked,
    }


class ApiKeyController(Controller):
    """API keys of the caller's organization."""

    path = "/v1/api-keys"
    tags = ["api keys"]

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "keys:manage"})
    async def create(
        self, data: ApiKeyCreate, principal: Principal, context: Context, services: Services
    ) -> Response[ApiKeyCreatedOut]:
        """Issues a key with a role no higher than your own; `key` is shown only in this answer."""
        check_grant(principal, data.role)
        issued = await asyncio.to_thread(
            lambda: services.identity.create_key(data.name, data.role, context, expires_at=data.expires_at)
        )
        body = ApiKeyCreatedOut(**key_fields(issued.key), key=issued.secret, position=issued.position)
        return Response(body, status_code=HTTP_201_CREATED, headers={POSITION_HEADER: str(issued.position)})

    @get("/", opt={"permission": "keys:manage"})
    async def list_keys(
        self,
        principal: Principal,
        services: Services,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> ApiKeyPageOut:
        """The organization's keys (revoked ones too), oldest first; never the keys themselves."""
        await wait_for_read_model(services, DIRECTORY, min_position)
        assert services.auth.directory is not None
        page = await services.auth.directory.page("api_keys", principal.tenant_id, limit, cursor)
        return ApiKeyPageOut([row_out(ApiKeyOut, row) for row in page.items], page.next_cursor)

    @get("/{api_key_id:uuid}", opt={"permission": "keys:manage"})
    async def get_key(self, api_key_id: UUID, context: Context, services: Services) -> ApiKeyOut:
        """One key's record."""
        key = await asyncio.to_thread(services.identity.get_key, api_key_id, context.tenant_id)
        return ApiKeyOut(**key_fields(key))

    @delete("/{api_key_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "keys:manage"})
    async def revoke(self, api_key_id: UUID, context: Context, services: Services) -> Response[None]:
        """Revokes a key: the next request with it gets 401."""
        saved = await asyncio.to_thread(services.identity.revoke_key, api_key_id, context)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

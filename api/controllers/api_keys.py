"""/v1/api-keys: issue (the key is shown once), list and revoke the organization's API keys."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from agentmem.api.dependencies import provide
from agentmem.api.params import Cursor, Limit, MinPosition
from agentmem.api.responses import no_content, written
from agentmem.api.schemas.identity import ApiKeyCreate, ApiKeyCreatedOut, ApiKeyOut, ApiKeyPageOut, row_out
from agentmem.application.authentication import Principal
from agentmem.application.identity import IdentityApplication
from agentmem.application.lists import Lists
from agentmem.application.permissions import check_grant
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict


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
    dependencies = {"identity": provide("identity"), "lists": provide("lists")}

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "keys:manage"})
    async def create(
        self, data: ApiKeyCreate, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[ApiKeyCreatedOut]:
        """Issues a key with a role no higher than your own; `key` is shown only in this answer."""
        check_grant(principal.permissions, data.role, principal.role)
        issued = await asyncio.to_thread(
            lambda: identity.create_key(data.name, data.role, context, expires_at=data.expires_at)
        )
        body = ApiKeyCreatedOut(**key_fields(issued.key), key=issued.secret, position=issued.position)
        return written(body, issued.position, status_code=HTTP_201_CREATED)

    @get("/", opt={"permission": "keys:manage"})
    async def list_keys(
        self,
        principal: Principal,
        lists: Lists,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> ApiKeyPageOut:
        """The organization's keys (revoked ones too), oldest first; never the keys themselves."""
        tenant = principal.tenant_id
        page = await lists.directory("api_keys", tenant, limit=limit, cursor=cursor, min_position=min_position)
        return ApiKeyPageOut([row_out(ApiKeyOut, row) for row in page.items], page.next_cursor)

    @get("/{api_key_id:uuid}", opt={"permission": "keys:manage"})
    async def get_key(self, api_key_id: UUID, context: Context, identity: IdentityApplication) -> ApiKeyOut:
        """One key's record."""
        key = await asyncio.to_thread(identity.get_key, api_key_id, context.tenant_id)
        return ApiKeyOut(**key_fields(key))

    @delete("/{api_key_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "keys:manage"})
    async def revoke(
        self, api_key_id: UUID, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[None]:
        """Revokes a key: the next request with it gets 401. A key cannot revoke itself (409), as a user cannot
        delete themselves: the caller would lock itself out mid-session."""
        if principal.key_id == str(api_key_id):
            raise Conflict("you cannot revoke the key you are using; revoke it with another key or a token")
        saved = await asyncio.to_thread(identity.revoke_key, api_key_id, context)
        return no_content(saved.position)

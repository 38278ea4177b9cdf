"""/v1/users: the people of the caller's organization, their roles and passwords."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.context import POSITION_HEADER, Principal
from agentmem.api.listing import Cursor, Limit, MinPosition, row_out, wait_for_read_model
from agentmem.api.permissions import may_grant
from agentmem.api.schemas.identity import UserCreate, UserOut, UserPageOut, UserPatch, UserWriteOut
from agentmem.api.services import Services
from agentmem.application.identity import Saved
from agentmem.domain.base import Context
from agentmem.domain.user import User
from agentmem.projections.directory import DIRECTORY


def user_fields(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "superadmin": user.superadmin,
        "disabled": user.disabled,
        "version": user.version,
        "created_at": user.created_on,
        "updated_at": user.modified_on,
    }


def written(saved: Saved, status_code: int = 200) -> Response[UserWriteOut]:
    body = UserWriteOut(**user_fields(saved.aggregate), position=saved.position)
    return Response(body, status_code=status_code, headers={POSITION_HEADER: str(saved.position)})


def check_grant(principal: Principal, role: str) -> None:
    if not may_grant(principal.permissions, role):
        raise PermissionDeniedException(f"your role ({principal.role}) cannot grant the role {role}")


def not_self(principal: Principal, user_id: UUID, action: str) -> None:
    if principal.user_id == str(user_id):
        raise HTTPException(status_code=409, detail=f"you cannot {action} yourself")


class UserController(Controller):
    """Users of the caller's organization; another organization's user ids are 404."""

    path = "/v1/users"
    tags = ["users"]

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "users:manage"})
    async def create(
        self, data: UserCreate, principal: Principal, context: Context, services: Services
    ) -> Response[UserWriteOut]:
        """Adds a user; emails are unique across the platform."""
        check_grant(principal, data.role)
        saved = await asyncio.to_thread(
            lambda: services.identity.create_user(
                context, email=data.email, name=data.name, role=data.role, password=data.password
            )
        )
        return written(saved, HTTP_201_CREATED)

    @get("/", opt={"permission": "users:read"})
    async def list_users(
        self,
        principal: Principal,
        services: Services,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> UserPageOut:
        """The organization's users, oldest first."""
        await wait_for_read_model(services, DIRECTORY, min_position)
        assert services.auth.directory is not None
        page = await services.auth.directory.page("users", principal.tenant_id, limit, cursor)
        return UserPageOut([row_out(UserOut, row) for row in page.items], page.next_cursor)

    @get("/{user_id:uuid}", opt={"permission": "users:read"})
    async def get_user(self, user_id: UUID, context: Context, services: Services) -> UserOut:
        """One user."""
        user = await asyncio.to_thread(services.identity.get_user, user_id, context.tenant_id)
        return UserOut(**user_fields(user))

    @patch("/{user_id:uuid}", opt={"permission": "users:manage"})
    async def update(
        self, user_id: UUID, data: UserPatch, principal: Principal, context: Context, services: Services
    ) -> Response[UserWriteOut]:
        """Changes a user's name, role or password."""
        changes = {n: getattr(data, n) for n in ("name", "role") if getattr(data, n) is not UNSET}
        if "role" in changes:
            check_grant(principal, changes["role"])
        password = data.password if data.password is not UNSET else None
        saved = await asyncio.to_thread(
            services.identity.update_user, user_id, context.tenant_id, changes, context, password
        )
        return written(saved)

    @post("/{user_id:uuid}/disable", status_code=200, opt={"permission": "users:manage"})
    async def disable(
        self, user_id: UUID, principal: Principal, context: Context, services: Services
    ) -> Response[UserWriteOut]:
        """Disables a user: their tokens and keys are refused from the next request on."""
        not_self(principal, user_id, "disable")
        return written(await asyncio.to_thread(services.identity.set_user_disabled, user_id, context, True))

    @post("/{user_id:uuid}/enable", status_code=200, opt={"permission": "users:manage"})
    async def enable(self, user_id: UUID, context: Context, services: Services) -> Response[UserWriteOut]:
        """Enables a disabled user again."""
        return written(await asyncio.to_thread(services.identity.set_user_disabled, user_id, context, False))

    @delete("/{user_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "users:manage"})
    async def delete_user(
        self, user_id: UUID, principal: Principal, context: Context, services: Services
    ) -> Response[None]:
        """Deletes a user; their email can be used again."""
        not_self(principal, user_id, "delete")
        saved = await asyncio.to_thread(services.identity.delete_user, user_id, context)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

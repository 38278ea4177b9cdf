"""/v1/users: the people of the caller's organization, their roles and passwords."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.dependencies import provide
from agentmem.api.params import Cursor, Limit, MinPosition
from agentmem.api.responses import no_content, written
from agentmem.api.schemas.identity import UserCreate, UserOut, UserPageOut, UserPatch, UserWriteOut, row_out
from agentmem.application.authentication import Principal
from agentmem.application.base import Saved
from agentmem.application.identity import IdentityApplication
from agentmem.application.lists import Lists
from agentmem.application.permissions import check_grant
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict
from agentmem.domain.user import User


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


def user_written(saved: Saved[User], status_code: int = 200) -> Response[UserWriteOut]:
    body = UserWriteOut(**user_fields(saved.aggregate), position=saved.position)
    return written(body, saved.position, status_code=status_code)


def not_self(principal: Principal, user_id: UUID, action: str) -> None:
    if principal.user_id == str(user_id):
        raise Conflict(f"you cannot {action} yourself")


class UserController(Controller):
    """Users of the caller's organization; another organization's user ids are 404."""

    path = "/v1/users"
    tags = ["users"]
    dependencies = {"identity": provide("identity"), "lists": provide("lists")}

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "users:manage"})
    async def create(
        self, data: UserCreate, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[UserWriteOut]:
        """Adds a user; an email is unique within an organization."""
        check_grant(principal.permissions, data.role, principal.role)
        saved = await asyncio.to_thread(
            lambda: identity.create_user(
                context, email=data.email, name=data.name, role=data.role, password=data.password
            )
        )
        return user_written(saved, HTTP_201_CREATED)

    @get("/", opt={"permission": "users:read"})
    async def list_users(
        self,
        principal: Principal,
        lists: Lists,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> UserPageOut:
        """The organization's users, oldest first."""
        tenant = principal.tenant_id
        page = await lists.directory("users", tenant, limit=limit, cursor=cursor, min_position=min_position)
        return UserPageOut([row_out(UserOut, row) for row in page.items], page.next_cursor)

    @get("/{user_id:uuid}", opt={"permission": "users:read"})
    async def get_user(self, user_id: UUID, context: Context, identity: IdentityApplication) -> UserOut:
        """One user."""
        user = await asyncio.to_thread(identity.get_user, user_id, context.tenant_id)
        return UserOut(**user_fields(user))

    @patch("/{user_id:uuid}", opt={"permission": "users:manage"})
    async def update(
        self, user_id: UUID, data: UserPatch, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[UserWriteOut]:
        """Changes a user's name, role or password."""
        changes = {n: getattr(data, n) for n in ("name", "role") if getattr(data, n) is not UNSET}
        if "role" in changes:
            check_grant(principal.permissions, changes["role"], principal.role)
        password = data.password if data.password is not UNSET else None
        saved = await asyncio.to_thread(identity.update_user, user_id, context.tenant_id, changes, context, password)
        return user_written(saved)

    @post("/{user_id:uuid}/disable", status_code=200, opt={"permission": "users:manage"})
    async def disable(
        self, user_id: UUID, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[UserWriteOut]:
        """Disables a user: their tokens and keys are refused from the next request on."""
        not_self(principal, user_id, "disable")
        return user_written(await asyncio.to_thread(identity.set_user_disabled, user_id, context, True))

    @post("/{user_id:uuid}/enable", status_code=200, opt={"permission": "users:manage"})
    async def enable(self, user_id: UUID, context: Context, identity: IdentityApplication) -> Response[UserWriteOut]:
        """Enables a disabled user again."""
        return user_written(await asyncio.to_thread(identity.set_user_disabled, user_id, context, False))

    @delete("/{user_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "users:manage"})
    async def delete_user(
        self, user_id: UUID, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[None]:
        """Deletes a user; their email can be used again."""
        not_self(principal, user_id, "delete")
        saved = await asyncio.to_thread(identity.delete_user, user_id, context)
        return no_content(saved.position)

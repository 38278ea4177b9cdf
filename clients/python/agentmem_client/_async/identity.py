"""client.api_keys, client.users, client.organizations, client.audit and client.auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from agentmem_client._async.http import HttpCore
from agentmem_client._params import NOT_GIVEN, NotGiven, body, changes, query
from agentmem_client.types import (
    ApiKey,
    ApiKeyCreated,
    AuditEntry,
    Deleted,
    Organization,
    OrganizationCreated,
    OrganizationWrite,
    Page,
    Token,
    User,
    UserWrite,
)

KeyRole = Literal["owner", "member", "viewer", "superadmin"]


class _Directory:
    """A list of users, keys or organizations, oldest first."""

    path = ""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def _page(self, into: Any, limit: int, cursor: str | None, min_position: int | None) -> Any:
        params = query(limit=limit, cursor=cursor, min_position=self._http.min_position(min_position))
        return await self._http.call("GET", self.path, into, params=params)


class ApiKeys(_Directory):
    """Your organization's API keys (owners): issue, list, read, revoke."""

    path = "/v1/api-keys"

    async def create(self, name: str, *, role: KeyRole = "member", expires_at: datetime | None = None) -> ApiKeyCreated:
        """Issues a key no more powerful than yours; its `key` is shown only in this answer."""
        payload = body(name=name, role=role, expires_at=expires_at)
        return await self._http.call("POST", self.path, ApiKeyCreated, json=payload)

    async def list(
        self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None
    ) -> Page[ApiKey]:
        page: Page[ApiKey] = await self._page(Page[ApiKey], limit, cursor, min_position)
        return page

    async def iterate(self, *, page_size: int = 100) -> AsyncIterator[ApiKey]:
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor)
            for key in page.items:
                yield key
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, key_id: str) -> ApiKey:
        return await self._http.call("GET", f"{self.path}/{key_id}", ApiKey)

    async def revoke(self, key_id: str) -> Deleted:
        """Revokes a key: the next request with it gets AuthenticationError."""
        return Deleted(key_id, await self._http.position_of("DELETE", f"{self.path}/{key_id}"))


class Users(_Directory):
    """The people of your organization: add, list, read, change, disable, enable, delete."""

    path = "/v1/users"

    async def create(
        self, email: str, *, name: str | None = None, role: str | None = None, password: str | None = None
    ) -> UserWrite:
        payload = body(email=email, name=name, role=role, password=password)
        return await self._http.call("POST", self.path, UserWrite, json=payload)

    async def list(self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None) -> Page[User]:
        page: Page[User] = await self._page(Page[User], limit, cursor, min_position)
        return page

    async def iterate(self, *, page_size: int = 100) -> AsyncIterator[User]:
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor)
            for user in page.items:
                yield user
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, user_id: str) -> User:
        return await self._http.call("GET", f"{self.path}/{user_id}", User)

    async def update(
        self,
        user_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        role: str | NotGiven = NOT_GIVEN,
        password: str | NotGiven = NOT_GIVEN,
    ) -> UserWrite:
        payload = changes(name=name, role=role, password=password)
        return await self._http.call("PATCH", f"{self.path}/{user_id}", UserWrite, json=payload)

    async def disable(self, user_id: str) -> UserWrite:
        return await self._http.call("POST", f"{self.path}/{user_id}/disable", UserWrite)

    async def enable(self, user_id: str) -> UserWrite:
        return await self._http.call("POST", f"{self.path}/{user_id}/enable", UserWrite)

    async def delete(self, user_id: str) -> Deleted:
        return Deleted(user_id, await self._http.position_of("DELETE", f"{self.path}/{user_id}"))


class Organizations(_Directory):
    """Organizations (tenants): yours, or every one for platform superadmins."""

    path = "/v1/organizations"

    async def create(self, name: str, *, quotas: dict[str, int | None] | None = None) -> OrganizationCreated:
        """Superadmins: creates an organization; the answer holds its first owner key (shown once)."""
        return await self._http.call("POST", self.path, OrganizationCreated, json=body(name=name, quotas=quotas))

    async def list(
        self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None
    ) -> Page[Organization]:
        page: Page[Organization] = await self._page(Page[Organization], limit, cursor, min_position)
        return page

    async def get(self, organization_id: str) -> Organization:
        return await self._http.call("GET", f"{self.path}/{organization_id}", Organization)

    async def update(
        self,
        organization_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        status: Literal["active", "suspended"] | NotGiven = NOT_GIVEN,
        quotas: dict[str, int | None] | NotGiven = NOT_GIVEN,
    ) -> OrganizationWrite:
        payload = changes(name=name, status=status, quotas=quotas)
        return await self._http.call("PATCH", f"{self.path}/{organization_id}", OrganizationWrite, json=payload)

    async def delete(self, organization_id: str) -> Deleted:
        return Deleted(organization_id, await self._http.position_of("DELETE", f"{self.path}/{organization_id}"))


class Audit:
    """Your organization's audit trail (owners): every event, who made it, when, in which request."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def list(
        self,
        *,
        actor_id: str | None = None,
        aggregate_type: str | None = None,
        aggregate_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        order: Literal["asc", "desc"] = "asc",
        limit: int = 100,
        cursor: str | None = None,
        min_position: int | None = None,
    ) -> Page[AuditEntry]:
        params = query(
            actor_id=actor_id,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            action=action,
            since=since,
            until=until,
            order=order,
            limit=limit,
            cursor=cursor,
            min_position=self._http.min_position(min_position),
        )
        return await self._http.call("GET", "/v1/audit", Page[AuditEntry], params=params)

    async def iterate(self, *, page_size: int = 1000, **filters: Any) -> AsyncIterator[AuditEntry]:
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor, **filters)
            for entry in page.items:
                yield entry
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class Auth:
    """Tokens for people (email and password); machines use API keys."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def token(self, email: str, password: str, *, organization: str | None = None) -> Token:
        """Signs in; use the token as `api_key` of a new client (it goes in the same Bearer header)."""
        payload = body(email=email, password=password, organization=organization)
        return await self._http.call("POST", "/v1/auth/token", Token, json=payload)

    async def refresh(self) -> Token:
        """A new token for the one this client holds (which is revoked)."""
        return await self._http.call("POST", "/v1/auth/refresh", Token)

    async def logout(self) -> None:
        """Revokes the token this client holds."""
        await self._http.request("POST", "/v1/auth/logout")

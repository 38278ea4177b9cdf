# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""client.api_keys, client.users, client.organizations, client.audit and client.auth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from agentmem_client._params import NOT_GIVEN, NotGiven, body, changes, query
from agentmem_client._sync.http import HttpCore
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

    def _page(self, into: Any, limit: int, cursor: str | None, min_position: int | None) -> Any:
        params = query(limit=limit, cursor=cursor, min_position=self._http.min_position(min_position))
        return self._http.call("GET", self.path, into, params=params)


class ApiKeys(_Directory):
    """Your organization's API keys (owners): issue, list, read, revoke."""

    path = "/v1/api-keys"

    def create(self, name: str, *, role: KeyRole = "member", expires_at: datetime | None = None) -> ApiKeyCreated:
        """Issues a key no more powerful than yours; its `key` is shown only in this answer."""
        payload = body(name=name, role=role, expires_at=expires_at)
        return self._http.call("POST", self.path, ApiKeyCreated, json=payload)

    def list(self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None) -> Page[ApiKey]:
        page: Page[ApiKey] = self._page(Page[ApiKey], limit, cursor, min_position)
        return page

    def iterate(self, *, page_size: int = 100) -> Iterator[ApiKey]:
        cursor: str | None = None
        while True:
            page = self.list(limit=page_size, cursor=cursor)
            for key in page.items:
                yield key
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, key_id: str) -> ApiKey:
        return self._http.call("GET", f"{self.path}/{key_id}", ApiKey)

    def revoke(self, key_id: str) -> Deleted:
        """Revokes a key: the next request with it gets AuthenticationError."""
        return Deleted(key_id, self._http.position_of("DELETE", f"{self.path}/{key_id}"))


class Users(_Directory):
    """The people of your organization: add, list, read, change, disable, enable, delete."""

    path = "/v1/users"

    def create(
        self, email: str, *, name: str | None = None, role: str | None = None, password: str | None = None
    ) -> UserWrite:
        payload = body(email=email, name=name, role=role, password=password)
        return self._http.call("POST", self.path, UserWrite, json=payload)

    def list(self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None) -> Page[User]:
        page: Page[User] = self._page(Page[User], limit, cursor, min_position)
        return page

    def iterate(self, *, page_size: int = 100) -> Iterator[User]:
        cursor: str | None = None
        while True:
            page = self.list(limit=page_size, cursor=cursor)
            for user in page.items:
                yield user
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, user_id: str) -> User:
        return self._http.call("GET", f"{self.path}/{user_id}", User)

    def update(
        self,
        user_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        role: str | NotGiven = NOT_GIVEN,
        password: str | NotGiven = NOT_GIVEN,
    ) -> UserWrite:
        payload = changes(name=name, role=role, password=password)
        return self._http.call("PATCH", f"{self.path}/{user_id}", UserWrite, json=payload)

    def disable(self, user_id: str) -> UserWrite:
        return self._http.call("POST", f"{self.path}/{user_id}/disable", UserWrite)

    def enable(self, user_id: str) -> UserWrite:
        return self._http.call("POST", f"{self.path}/{user_id}/enable", UserWrite)

    def delete(self, user_id: str) -> Deleted:
        return Deleted(user_id, self._http.position_of("DELETE", f"{self.path}/{user_id}"))


class Organizations(_Directory):
    """Organizations (tenants): yours, or every one for platform superadmins."""

    path = "/v1/organizations"

    def create(self, name: str, *, quotas: dict[str, int | None] | None = None) -> OrganizationCreated:
        """Superadmins: creates an organization; the answer holds its first owner key (shown once)."""
        return self._http.call("POST", self.path, OrganizationCreated, json=body(name=name, quotas=quotas))

    def list(
        self, *, limit: int = 20, cursor: str | None = None, min_position: int | None = None
    ) -> Page[Organization]:
        page: Page[Organization] = self._page(Page[Organization], limit, cursor, min_position)
        return page

    def get(self, organization_id: str) -> Organization:
        return self._http.call("GET", f"{self.path}/{organization_id}", Organization)

    def update(
        self,
        organization_id: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        status: Literal["active", "suspended"] | NotGiven = NOT_GIVEN,
        quotas: dict[str, int | None] | NotGiven = NOT_GIVEN,
    ) -> OrganizationWrite:
        payload = changes(name=name, status=status, quotas=quotas)
        return self._http.call("PATCH", f"{self.path}/{organization_id}", OrganizationWrite, json=payload)

    def delete(self, organization_id: str) -> Deleted:
        return Deleted(organization_id, self._http.position_of("DELETE", f"{self.path}/{organization_id}"))


class Audit:
    """Your organization's audit trail (owners): every event, who made it, when, in which request."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    def list(
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
        return self._http.call("GET", "/v1/audit", Page[AuditEntry], params=params)

    def iterate(self, *, page_size: int = 1000, **filters: Any) -> Iterator[AuditEntry]:
        cursor: str | None = None
        while True:
            page = self.list(limit=page_size, cursor=cursor, **filters)
            for entry in page.items:
                yield entry
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class Auth:
    """Tokens for people (email and password); machines use API keys."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    def token(self, email: str, password: str, *, organization: str | None = None) -> Token:
        """Signs in; use the token as `api_key` of a new client (it goes in the same Bearer header)."""
        payload = body(email=email, password=password, organization=organization)
        return self._http.call("POST", "/v1/auth/token", Token, json=payload)

    def refresh(self) -> Token:
        """A new token for the one this client holds (which is revoked)."""
        return self._http.call("POST", "/v1/auth/refresh", Token)

    def logout(self) -> None:
        """Revokes the token this client holds."""
        self._http.request("POST", "/v1/auth/logout")

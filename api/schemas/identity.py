"""Request and response bodies of organizations, users, API keys, tokens and /v1/me."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from agentmem.domain.organization import MAX_NAME_CHARS as MAX_ORG_NAME
from agentmem.domain.user import MAX_EMAIL_CHARS
from agentmem.domain.user import MAX_NAME_CHARS as MAX_USER_NAME

Role = Literal["owner", "member", "viewer"]
KeyRole = Literal["owner", "member", "viewer", "superadmin"]
Status = Literal["active", "suspended"]
OrgName = Annotated[str, Meta(min_length=1, max_length=MAX_ORG_NAME)]
Email = Annotated[str, Meta(min_length=3, max_length=MAX_EMAIL_CHARS)]
UserName = Annotated[str, Meta(max_length=MAX_USER_NAME)]
Password = Annotated[str, Meta(min_length=8, max_length=1024, description="At least 8 characters; stored as argon2id.")]
Quotas = Annotated[
    dict[str, int | None],
    Meta(
        description="`requests_per_minute`, `max_memories` and `llm_tokens_per_day`; null means the server default "
        "(no cap for tokens)."
    ),
]
AwareDatetime = Annotated[datetime, Meta(tz=True, description="ISO-8601 with a time zone.")]
T = TypeVar("T", bound=Struct)


class OrganizationCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """An organization to create (platform superadmins only)."""

    name: OrgName
    quotas: Quotas = {}


class OrganizationPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; `status` and `quotas` need a platform superadmin."""

    name: OrgName | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    quotas: Quotas | UnsetType = UNSET


class OrganizationOut(Struct, kw_only=True):
    """An organization: a tenant with its status and quotas."""

    id: str
    name: str
    status: str
    quotas: dict[str, int | None]
    version: int
    created_at: datetime
    updated_at: datetime


class OrganizationWriteOut(OrganizationOut, kw_only=True):
    """An organization after a change, with the log position."""

    position: int


class OrganizationCreatedOut(OrganizationWriteOut, kw_only=True):
    """A new organization and its first owner API key (shown only this once)."""

    owner_api_key: str
    owner_api_key_id: str


class OrganizationPageOut(Struct):
    items: list[OrganizationOut]
    next_cursor: str | None


class UserCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A user to add to the caller's organization."""

    email: Email
    name: UserName = ""
    role: Role = "member"
    password: Password | None = None


class UserPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; absent fields stay as they are."""

    name: UserName | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    password: Password | UnsetType = UNSET


class UserOut(Struct, kw_only=True):
    """A user of the organization (never the password hash)."""

    id: str
    email: str
    name: str
    role: str
    superadmin: bool
    disabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UserWriteOut(UserOut, kw_only=True):
    position: int


class UserPageOut(Struct):
    items: list[UserOut]
    next_cursor: str | None


class ApiKeyCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A key to issue; its role can be at most the caller's own."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    role: KeyRole = "member"
    expires_at: AwareDatetime | None = None


class ApiKeyOut(Struct, kw_only=True):
    """An API key's record: its lookup prefix, never the key."""

    id: str
    name: str
    role: str
    prefix: str
    user_id: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class ApiKeyCreatedOut(ApiKeyOut, kw_only=True):
    """A new key: `key` is shown only this once."""

    key: str
    position: int


class ApiKeyPageOut(Struct):
    items: list[ApiKeyOut]
    next_cursor: str | None


class TokenRequest(Struct, forbid_unknown_fields=True, kw_only=True):
    """Email and password; `organization` (name or id) only when the email has accounts in several."""

    email: Annotated[str, Meta(max_length=MAX_EMAIL_CHARS)]
    password: Annotated[str, Meta(max_length=1024)]
    organization: Annotated[str, Meta(min_length=1, max_length=MAX_ORG_NAME)] | None = None


class TokenOut(Struct):
    """A bearer token for `Authorization: Bearer …`."""

    access_token: str
    token_type: str
    expires_in: int
    expires_at: datetime


class MeOut(Struct, kw_only=True):
    """Who the credentials belong to and what they may do."""

    kind: str
    actor_id: str
    organization_id: str
    organization_name: str
    role: str
    superadmin: bool
    permissions: list[str]
    user_id: str | None = None
    key_id: str | None = None
    token_expires_at: datetime | None = None
    requests_per_minute: int
    max_memories: int


def row_out(cls: type[T], row: dict[str, Any]) -> T:
    """A response Struct from a directory row (uuids as strings; columns it does not show are dropped)."""
    fields = cls.__struct_fields__
    return cls(**{k: str(v) if isinstance(v, UUID) else v for k, v in row.items() if k in fields})

"""/v1/organizations: tenants. Platform superadmins create, list all, suspend and delete; owners rename theirs."""

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
from agentmem.api.schemas.identity import (
    OrganizationCreate,
    OrganizationCreatedOut,
    OrganizationOut,
    OrganizationPageOut,
    OrganizationPatch,
    OrganizationWriteOut,
    row_out,
)
from agentmem.application.authentication import Principal
from agentmem.application.identity import IdentityApplication, OrganizationNotFoundError
from agentmem.application.lists import Lists
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, Forbidden
from agentmem.domain.organization import Organization

PLATFORM = "orgs:manage"


def organization_fields(organization: Organization) -> dict[str, Any]:
    return {
        "id": str(organization.id),
        "name": organization.name,
        "status": organization.status,
        "quotas": organization.quotas,
        "version": organization.version,
        "created_at": organization.created_on,
        "updated_at": organization.modified_on,
    }


def visible(principal: Principal, organization_id: UUID) -> bool:
    """Platform admins see every organization; everyone else only their own (others are 404)."""
    return PLATFORM in principal.permissions or str(organization_id) == principal.tenant_id


class OrganizationController(Controller):
    """Organizations (tenants): their names, status and quotas."""

    path = "/v1/organizations"
    tags = ["organizations"]
    dependencies = {"identity": provide("identity"), "lists": provide("lists")}

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "orgs:create"})
    async def create(
        self, data: OrganizationCreate, context: Context, identity: IdentityApplication
    ) -> OrganizationCreatedOut:
        """Creates an organization; answers with it and its first owner API key (shown once)."""
        created = await asyncio.to_thread(identity.create_organization, data.name, context, data.quotas)
        return OrganizationCreatedOut(
            **organization_fields(created.organization),
            position=created.position,
            owner_api_key=created.owner_key.secret,
            owner_api_key_id=str(created.owner_key.key.id),
        )

    @get("/", opt={"permission": "org:read"})
    async def list_organizations(
        self,
        principal: Principal,
        lists: Lists,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> OrganizationPageOut:
        """Your organization; every organization for platform superadmins. Oldest first."""
        page = await lists.directory(
            "organizations",
            principal.tenant_id,
            limit=limit,
            cursor=cursor,
            platform=PLATFORM in principal.permissions,
            min_position=min_position,
        )
        return OrganizationPageOut([row_out(OrganizationOut, row) for row in page.items], page.next_cursor)

    @get("/{organization_id:uuid}", opt={"permission": "org:read"})
    async def get_organization(
        self, organization_id: UUID, principal: Principal, identity: IdentityApplication
    ) -> OrganizationOut:
        """One organization."""
        organization = await self._get(organization_id, principal, identity)
        return OrganizationOut(**organization_fields(organization))

    @patch("/{organization_id:uuid}", opt={"permission": "org:manage"})
    async def update(
        self,
        organization_id: UUID,
        data: OrganizationPatch,
        principal: Principal,
        context: Context,
        identity: IdentityApplication,
    ) -> Response[OrganizationWriteOut]:
        """Renames an organization; changing `status` or `quotas` needs a platform superadmin."""
        changes = {n: getattr(data, n) for n in data.__struct_fields__ if getattr(data, n) is not UNSET}
        if {"status", "quotas"} & set(changes) and PLATFORM not in principal.permissions:
            raise Forbidden("only a platform superadmin may change status or quotas")
        if changes.get("status", "active") != "active" and str(organization_id) == principal.tenant_id:
            raise Conflict("you cannot suspend the organization you are signed in to")
        await self._get(organization_id, principal, identity)
        saved = await asyncio.to_thread(identity.update_organization, organization_id, changes, context)
        body = OrganizationWriteOut(**organization_fields(saved.aggregate), position=saved.position)
        return written(body, saved.position)

    @delete("/{organization_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": PLATFORM})
    async def delete_organization(
        self, organization_id: UUID, principal: Principal, context: Context, identity: IdentityApplication
    ) -> Response[None]:
        """Deletes an organization: its keys and users stop working at once; its events stay in the log."""
        if str(organization_id) == principal.tenant_id:
            raise Conflict("you cannot delete the organization you are signed in to")
        saved = await asyncio.to_thread(identity.delete_organization, organization_id, context)
        return no_content(saved.position)

    @staticmethod
    async def _get(organization_id: UUID, principal: Principal, identity: IdentityApplication) -> Organization:
        if not visible(principal, organization_id):
            raise OrganizationNotFoundError(f"organization {organization_id} not found")
        return await asyncio.to_thread(identity.get_organization, organization_id)

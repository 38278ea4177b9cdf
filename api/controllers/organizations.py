"""/v1/organizations: tenants. Platform superadmins create, list all, suspend and delete; owners rename theirs."""

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
from agentmem.api.schemas.identity import (
    OrganizationCreate,
    OrganizationCreatedOut,
    OrganizationOut,
    OrganizationPageOut,
    OrganizationPatch,
    OrganizationWriteOut,
)
from agentmem.api.services import Services
from agentmem.application.identity import OrganizationNotFoundError
from agentmem.domain.base import Context
from agentmem.domain.organization import Organization
from agentmem.projections.directory import DIRECTORY

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

    @post("/", status_code=HTTP_201_CREATED, opt={"permission": "orgs:create"})
    async def create(self, data: OrganizationCreate, context: Context, services: Services) -> OrganizationCreatedOut:
        """Creates an organization; answers with it and its first owner API key (shown once)."""
        created = await asyncio.to_thread(services.identity.create_organization, data.name, context, data.quotas)
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
        services: Services,
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> OrganizationPageOut:
        """Your organization; every organization for platform superadmins. Oldest first."""
        await wait_for_read_model(services, DIRECTORY, min_position)
        assert services.auth.directory is not None
        platform = PLATFORM in principal.permissions
        page = await services.auth.directory.page(
            "organizations", principal.tenant_id, limit, cursor, platform=platform
        )
        return OrganizationPageOut([row_out(OrganizationOut, row) for row in page.items], page.next_cursor)

    @get("/{organization_id:uuid}", opt={"permission": "org:read"})
    async def get_organization(
        self, organization_id: UUID, principal: Principal, services: Services
    ) -> OrganizationOut:
        """One organization."""
        organization = await self._get(organization_id, principal, services)
        return OrganizationOut(**organization_fields(organization))

    @patch("/{organization_id:uuid}", opt={"permission": "org:manage"})
    async def update(
        self,
        organization_id: UUID,
        data: OrganizationPatch,
        principal: Principal,
        context: Context,
        services: Services,
    ) -> Response[OrganizationWriteOut]:
        """Renames an organization; changing `status` or `quotas` needs a platform superadmin."""
        changes = {n: getattr(data, n) for n in data.__struct_fields__ if getattr(data, n) is not UNSET}
        if {"status", "quotas"} & set(changes) and PLATFORM not in principal.permissions:
            raise PermissionDeniedException("only a platform superadmin may change status or quotas")
        await self._get(organization_id, principal, services)
        saved = await asyncio.to_thread(services.identity.update_organization, organization_id, changes, context)
        body = OrganizationWriteOut(**organization_fields(saved.aggregate), position=saved.position)
        return Response(body, headers={POSITION_HEADER: str(saved.position)})

    @delete("/{organization_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": PLATFORM})
    async def delete_organization(
        self, organization_id: UUID, principal: Principal, context: Context, services: Services
    ) -> Response[None]:
        """Deletes an organization: its keys and users stop working at once; its events stay in the log."""
        if str(organization_id) == principal.tenant_id:
            raise HTTPException(status_code=409, detail="you cannot delete the organization you are signed in to")
        saved = await asyncio.to_thread(services.identity.delete_organization, organization_id, context)
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

    @staticmethod
    async def _get(organization_id: UUID, principal: Principal, services: Services) -> Organization:
        if not visible(principal, organization_id):
            raise OrganizationNotFoundError(f"organization {organization_id} not found")
        return await asyncio.to_thread(services.identity.get_organization, organization_id)

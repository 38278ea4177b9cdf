"""/v1/export: the caller's organization's whole event history as NDJSON, the file `agentmem import` reads."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.response import Stream

from agentmem.api.dependencies import provide
from agentmem.application.authentication import Principal
from agentmem.application.transfer import OrganizationExport

NDJSON = "application/x-ndjson"


class ExportController(Controller):
    """An organization's history to move to another server (no API keys, no password hashes)."""

    path = "/v1/export"
    tags = ["export"]
    dependencies = {"exports": provide("exports")}

    @get("/", opt={"permission": "events:read"}, media_type=NDJSON)
    async def export(self, principal: Principal, exports: OrganizationExport) -> Stream:
        """Streams the organization's events (header line, one event per line, end line) for `agentmem import`."""
        organization_id = UUID(principal.tenant_id)
        headers = {"Content-Disposition": f'attachment; filename="agentmem-{organization_id}.ndjson"'}
        return Stream(exports.lines(organization_id), media_type=NDJSON, headers=headers)

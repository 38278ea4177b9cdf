"""/v1/usage: language-model calls, tokens and cost, summed by day, model, purpose or agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import Parameter

from agentmem.api.dependencies import provide
from agentmem.api.params import MinPosition
from agentmem.api.schemas.llm import UsageGroupOut, UsageOut
from agentmem.application.authentication import Principal
from agentmem.application.usage import UsageReport
from agentmem.domain.errors import BadRequest, Forbidden
from agentmem.projections.usage import UsageQuery

DEFAULT_DAYS = 30
ALL = "all"


class UsageController(Controller):
    """What the organization's language-model calls used; platform superadmins see every organization."""

    path = "/v1/usage"
    tags = ["usage"]
    dependencies = {"usage_report": provide("usage_report")}

    @get("/", opt={"permission": "usage:read"})
    async def usage(
        self,
        principal: Principal,
        usage_report: UsageReport,
        since: Annotated[
            datetime | None, Parameter(description="At or after this instant (default: 30 days ago).")
        ] = None,
        until: Annotated[datetime | None, Parameter(description="Before this instant (default: now).")] = None,
        group_by: Literal["day", "model", "purpose", "agent"] = "day",
        organization_id: Annotated[
            str | None, Parameter(max_length=100, description="Superadmins: one organization, or `all` (default).")
        ] = None,
        min_position: MinPosition = None,
    ) -> UsageOut:
        """Calls, errors, retries, tokens and cost per group, oldest first; superadmins get every organization."""
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a time zone, e.g. 2026-01-01T00:00:00Z", field=name)
        until = until or datetime.now(UTC)
        since = since or until - timedelta(days=DEFAULT_DAYS)
        if since >= until:
            raise BadRequest("since must be before until", field="since")
        tenant_id, all_tenants = principal.tenant_id, False
        if principal.superadmin:
            all_tenants = organization_id in (None, ALL)
            tenant_id = principal.tenant_id if all_tenants else str(organization_id)
        elif organization_id not in (None, principal.tenant_id):
            raise Forbidden("only a platform superadmin may read another organization's usage")
        query = UsageQuery(tenant_id, all_tenants, since, until, group_by)
        groups = await usage_report.summary(query, min_position)
        return UsageOut(
            since=since.isoformat(),
            until=until.isoformat(),
            group_by=group_by,
            groups=[UsageGroupOut(**{f: getattr(g, f) for f in UsageGroupOut.__struct_fields__}) for g in groups],
        )

"""/v1/audit: every event of the caller's organization, from the audit-trail projection of the log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from agentmem.api.dependencies import provide
from agentmem.api.params import Cursor, MinPosition
from agentmem.api.schemas.audit import AuditEntryOut, AuditPageOut
from agentmem.application.authentication import Principal
from agentmem.application.lists import Lists
from agentmem.domain.errors import BadRequest
from agentmem.projections.audit import AuditEntry, AuditQuery

NDJSON = "application/x-ndjson"
EXPORT_PAGE = 1000


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        position=entry.position,
        actor_id=entry.actor_id,
        action=entry.action,
        aggregate_type=entry.aggregate_type,
        aggregate_id=str(entry.aggregate_id),
        version=entry.version,
        timestamp=entry.timestamp,
        request_id=entry.request_id,
    )


def position_of(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise BadRequest("invalid cursor", field="cursor")
    return int(cursor)


async def export(entries: AsyncIterator[AuditEntry]) -> AsyncIterator[bytes]:
    """Every entry as one JSON object per line."""
    encoder = msgspec.json.Encoder()
    async for entry in entries:
        yield encoder.encode(entry_out(entry)) + b"\n"


class AuditController(Controller):
    """Who changed what, when, in which request: the organization's whole event history."""

    path = "/v1/audit"
    tags = ["audit"]
    dependencies = {"lists": provide("lists")}

    @get(
        "/",
        opt={"permission": "audit:read", "ndjson": "With Accept: application/x-ndjson: every event, one JSON per line"},
        responses={
            200: ResponseSpec(AuditPageOut, description="A page of the organization's events", generate_examples=False)
        },
    )
    async def audit(
        self,
        request: Request,
        principal: Principal,
        lists: Lists,
        actor_id: Annotated[str | None, Parameter(max_length=200, description="e.g. key:<id> or user:<id>")] = None,
        aggregate_type: Annotated[str | None, Parameter(max_length=100, description="e.g. Memory, User")] = None,
        aggregate_id: UUID | None = None,
        action: Annotated[str | None, Parameter(max_length=200, description="e.g. Memory.Updated")] = None,
        since: Annotated[datetime | None, Parameter(description="At or after this instant.")] = None,
        until: Annotated[datetime | None, Parameter(description="Before this instant.")] = None,
        order: Literal["asc", "desc"] = "asc",
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> Response[AuditPageOut] | Stream:
        """Lists the organization's events (oldest first by default); `Accept: application/x-ndjson` exports all."""
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise BadRequest(f"{name} needs a time zone, e.g. 2026-01-01T00:00:00Z", field=name)
        query = AuditQuery(
            tenant_id=principal.tenant_id,
            actor_id=actor_id,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            action=action,
            since=since,
            until=until,
            order=order,
            after=position_of(cursor),
            limit=limit,
        )
        if NDJSON in request.headers.get("accept", ""):
            export_query = replace(query, limit=EXPORT_PAGE)
            return Stream(export(await lists.audit_export(export_query, min_position)), media_type=NDJSON)
        page = await lists.audit(query, min_position)
        next_cursor = str(page.next_after) if page.next_after is not None else None
        return Response(AuditPageOut([entry_out(e) for e in page.items], next_cursor))

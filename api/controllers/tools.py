"""/v1/tools: register, read (now, at a version, at an instant), list, edit, delete, restore, history, run, runs."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.dependencies import provide
from agentmem.api.params import (
    AsOf,
    Cursor,
    IfMatch,
    Limit,
    ListOrderParam,
    MinPosition,
    Version,
    check_reads,
    expected_version,
)
from agentmem.api.responses import no_content
from agentmem.api.schemas.common import HistoryOut, history_out
from agentmem.api.schemas.tools import (
    Language,
    RunIn,
    RunOut,
    ToolCreate,
    ToolOut,
    ToolPageOut,
    ToolPatch,
    ToolRunPageOut,
    ToolWriteOut,
    run_out,
    tool_fields,
    tool_run_out,
    tool_written,
)
from agentmem.application.authentication import Principal
from agentmem.application.lists import Lists
from agentmem.application.tool_runs import ToolRunner
from agentmem.application.tools import SECRETS_PERMISSION, NewTool, ToolApplication
from agentmem.domain.base import Context


class ToolController(Controller):
    """Tools of the caller's tenant: user code run in the sandbox, each an event-sourced aggregate."""

    path = "/v1/tools"
    tags = ["tools"]
    dependencies = {"tools": provide("tools"), "lists": provide("lists"), "runner": provide("tool_runner")}

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "tools:write"})
    def create(
        self, data: ToolCreate, context: Context, principal: Principal, tools: ToolApplication
    ) -> Response[ToolWriteOut]:
        """Registers a tool; a schema or Python source that does not check out gets 422, a taken name 409."""
        new = NewTool(**{name: getattr(data, name) for name in data.__struct_fields__})
        saved = tools.create(new, context, may_manage_secrets=SECRETS_PERMISSION in principal.permissions)
        return tool_written(saved, HTTP_201_CREATED)

    @get("/{tool_id:uuid}", sync_to_thread=True, opt={"permission": "tools:read"})
    def get_tool(
        self,
        tool_id: UUID,
        context: Context,
        tools: ToolApplication,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[ToolOut]:
        """Reads a tool now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        tool = tools.get(tool_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted)
        return Response(ToolOut(**tool_fields(tool)), headers={"ETag": f'"{tool.version}"'})

    @get("/", opt={"permission": "tools:read"})
    async def list_tools(
        self,
        context: Context,
        lists: Lists,
        tag: Annotated[list[str] | None, Parameter(description="Only tools with every one of these tags.")] = None,
        name: Annotated[str | None, Parameter(max_length=64, description="Only the tool of this name.")] = None,
        language: Language | None = None,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> ToolPageOut:
        """Lists tools, newest first by default, by tag, name or language, with cursor pagination."""
        page = await lists.tools(
            context.tenant_id,
            tags=tag or [],
            name=name,
            language=language,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            min_position=min_position,
        )
        return ToolPageOut(items=[ToolOut(**tool_fields(t)) for t in page.items], next_cursor=page.next_cursor)

    @patch("/{tool_id:uuid}", sync_to_thread=True, opt={"permission": "tools:write"})
    def update(
        self,
        tool_id: UUID,
        data: ToolPatch,
        context: Context,
        principal: Principal,
        tools: ToolApplication,
        if_match: IfMatch = None,
    ) -> Response[ToolWriteOut]:
        """Changes a tool's fields; `If-Match` as usual. A tool given secrets is changed by owners only."""
        changes = {n: getattr(data, n) for n in data.__struct_fields__ if getattr(data, n) is not UNSET}
        saved = tools.update(
            tool_id,
            changes,
            context,
            expected_version(if_match),
            may_manage_secrets=SECRETS_PERMISSION in principal.permissions,
        )
        return tool_written(saved)

    @delete("/{tool_id:uuid}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "tools:write"})
    def delete_tool(
        self, tool_id: UUID, context: Context, tools: ToolApplication, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes a tool: it no longer runs and its name is free; its history and runs stay."""
        return no_content(tools.delete(tool_id, context, expected_version(if_match)).position)

    @post("/{tool_id:uuid}/restore", status_code=200, sync_to_thread=True, opt={"permission": "tools:write"})
    def restore(
        self, tool_id: UUID, context: Context, tools: ToolApplication, if_match: IfMatch = None
    ) -> Response[ToolWriteOut]:
        """Restores a soft-deleted tool (409 if another tool took its name meanwhile)."""
        return tool_written(tools.restore(tool_id, context, expected_version(if_match)))

    @get("/{tool_id:uuid}/history", sync_to_thread=True, opt={"permission": "tools:read"})
    def history(self, tool_id: UUID, context: Context, tools: ToolApplication) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(tool_id, tools.history(tool_id, context.tenant_id))

    @post("/{tool_id:uuid}/run", status_code=200, sync_to_thread=True, opt={"permission": "tools:execute"})
    def run(self, tool_id: UUID, data: RunIn, context: Context, runner: ToolRunner) -> RunOut:
        """Runs the tool in the sandbox: 422 before anything runs if the arguments miss the schema, 503 when this
        server cannot sandbox, 429 when every run slot and the queue are taken."""
        return run_out(runner.run(tool_id, data.args, context))

    @get("/{tool_id:uuid}/runs", opt={"permission": "tools:read"})
    async def runs(
        self,
        tool_id: UUID,
        context: Context,
        tools: ToolApplication,
        lists: Lists,
        order: Literal["created_desc", "created_asc"] = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> ToolRunPageOut:
        """The tool's recorded runs, newest first by default (the run answer's `position` reads them at once)."""
        await asyncio.to_thread(partial(tools.get, tool_id, context.tenant_id, include_deleted=True))  # or 404
        page = await lists.tool_runs(
            context.tenant_id, tool_id, order=order, limit=limit, cursor=cursor, min_position=min_position
        )
        return ToolRunPageOut(items=[tool_run_out(r) for r in page.items], next_cursor=page.next_cursor)

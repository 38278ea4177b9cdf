"""/v1/agents: create, read (now, at a version, at an instant), list by tag, edit, delete, restore, history."""

from __future__ import annotations

from typing import Annotated
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
from agentmem.api.schemas.agents import (
    AgentCreate,
    AgentOut,
    AgentPageOut,
    AgentPatch,
    AgentWriteOut,
    agent_fields,
    agent_written,
    plain,
)
from agentmem.api.schemas.common import HistoryOut, history_out
from agentmem.application.agents import AgentApplication, NewAgent
from agentmem.application.lists import Lists
from agentmem.domain.base import Context


class AgentController(Controller):
    """Agents of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/agents"
    tags = ["agents"]
    dependencies = {"agents": provide("agents"), "lists": provide("lists")}

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "agents:write"})
    def create(self, data: AgentCreate, context: Context, agents: AgentApplication) -> Response[AgentWriteOut]:
        """Creates an agent; blocks must exist, and a context template that does not render gets 422."""
        new = NewAgent(**{name: plain(getattr(data, name)) for name in data.__struct_fields__})
        return agent_written(agents.create(new, context), HTTP_201_CREATED)

    @get("/{agent_id:uuid}", sync_to_thread=True, opt={"permission": "agents:read"})
    def get_agent(
        self,
        agent_id: UUID,
        context: Context,
        agents: AgentApplication,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[AgentOut]:
        """Reads an agent now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        agent = agents.get(agent_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted)
        return Response(AgentOut(**agent_fields(agent)), headers={"ETag": f'"{agent.version}"'})

    @get("/", opt={"permission": "agents:read"})
    async def list_agents(
        self,
        context: Context,
        lists: Lists,
        tag: Annotated[list[str] | None, Parameter(description="Only agents with every one of these tags.")] = None,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> AgentPageOut:
        """Lists agents, newest first by default, by tag, with cursor pagination."""
        page = await lists.agents(
            context.tenant_id,
            tags=tag or [],
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            min_position=min_position,
        )
        return AgentPageOut(items=[AgentOut(**agent_fields(a)) for a in page.items], next_cursor=page.next_cursor)

    @patch("/{agent_id:uuid}", sync_to_thread=True, opt={"permission": "agents:write"})
    def update(
        self, agent_id: UUID, data: AgentPatch, context: Context, agents: AgentApplication, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Changes an agent's fields (and, with `block_ids`, which blocks are attached); `If-Match` as usual."""
        changes = {n: plain(getattr(data, n)) for n in data.__struct_fields__ if getattr(data, n) is not UNSET}
        return agent_written(agents.update(agent_id, changes, context, expected_version(if_match)))

    @delete(
        "/{agent_id:uuid}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "agents:delete"}
    )
    def delete_agent(
        self, agent_id: UUID, context: Context, agents: AgentApplication, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes an agent; its blocks and conversation stay in the log."""
        return no_content(agents.delete(agent_id, context, expected_version(if_match)).position)

    @post("/{agent_id:uuid}/restore", status_code=200, sync_to_thread=True, opt={"permission": "agents:delete"})
    def restore(
        self, agent_id: UUID, context: Context, agents: AgentApplication, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Restores a soft-deleted agent."""
        return agent_written(agents.restore(agent_id, context, expected_version(if_match)))

    @get("/{agent_id:uuid}/history", sync_to_thread=True, opt={"permission": "agents:read"})
    def history(self, agent_id: UUID, context: Context, agents: AgentApplication) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(agent_id, agents.history(agent_id, context.tenant_id))

"""/v1/agents: create, read (now, at a version, at an instant), list by tag, edit, delete, restore, history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.context import POSITION_HEADER
from agentmem.api.controllers.blocks import AsOf, MinPosition, Version, check_reads, history_out, wait_for_lists
from agentmem.api.controllers.memories import IfMatch, expected_version
from agentmem.api.controllers.memory_search import ListOrderParam
from agentmem.api.schemas.agents import AgentCreate, AgentOut, AgentPageOut, AgentPatch, AgentWriteOut
from agentmem.api.schemas.common import HistoryOut
from agentmem.api.services import Services
from agentmem.application.agents import NewAgent, SavedAgent
from agentmem.domain.agent import Agent
from agentmem.domain.base import Context
from agentmem.infrastructure.postgres_agents import PostgresAgentQueries
from agentmem.projections.agents import AgentRow


def agent_out(agent: Agent | AgentRow) -> AgentOut:
    return AgentOut(**_fields(agent))


def _fields(agent: Agent | AgentRow) -> dict[str, Any]:
    timestamps = (
        (agent.created_on, agent.modified_on) if isinstance(agent, Agent) else (agent.created_at, agent.updated_at)
    )
    return {
        "id": str(agent.id),
        "version": agent.version,
        "name": agent.name,
        "description": agent.description,
        "system": agent.system,
        "llm": agent.llm,
        "embedding": agent.embedding,
        "block_ids": [str(b) for b in agent.block_ids],
        "tool_ids": [str(t) for t in agent.tool_ids],
        "tags": list(agent.tags),
        "metadata": agent.metadata,
        "context_template": agent.context_template,
        "deleted": agent.deleted,
        "created_at": timestamps[0],
        "updated_at": timestamps[1],
        "created_by": agent.created_by,
        "updated_by": agent.updated_by,
    }


def written(saved: SavedAgent, status_code: int = 200) -> Response[AgentWriteOut]:
    return Response(
        AgentWriteOut(**_fields(saved.agent), position=saved.position),
        status_code=status_code,
        headers={POSITION_HEADER: str(saved.position), "ETag": f'"{saved.agent.version}"'},
    )


def plain(value: Any) -> Any:
    """Settings structs as the plain dicts the domain stores."""
    return msgspec.to_builtins(value) if isinstance(value, msgspec.Struct) else value


class AgentController(Controller):
    """Agents of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/agents"
    tags = ["agents"]

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "agents:write"})
    def create(self, data: AgentCreate, context: Context, services: Services) -> Response[AgentWriteOut]:
        """Creates an agent; blocks must exist, and a context template that does not render gets 422."""
        new = NewAgent(**{name: plain(getattr(data, name)) for name in data.__struct_fields__})
        return written(services.agents.create(new, context), HTTP_201_CREATED)

    @get("/{agent_id:uuid}", sync_to_thread=True, opt={"permission": "agents:read"})
    def get_agent(
        self,
        agent_id: UUID,
        context: Context,
        services: Services,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[AgentOut]:
        """Reads an agent now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        agent = services.agents.get(
            agent_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted
        )
        return Response(agent_out(agent), headers={"ETag": f'"{agent.version}"'})

    @get("/", opt={"permission": "agents:read"})
    async def list_agents(
        self,
        context: Context,
        services: Services,
        tag: Annotated[list[str] | None, Parameter(description="Only agents with every one of these tags.")] = None,
        order: ListOrderParam = "created_desc",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Parameter(max_length=512)] = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> AgentPageOut:
        """Lists agents, newest first by default, by tag, with cursor pagination."""
        await wait_for_lists(services, min_position, "agents")
        assert services.pool is not None
        page = await PostgresAgentQueries(services.pool).list(
            context.tenant_id,
            tags=tag or [],
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
        )
        return AgentPageOut(items=[agent_out(a) for a in page.items], next_cursor=page.next_cursor)

    @patch("/{agent_id:uuid}", sync_to_thread=True, opt={"permission": "agents:write"})
    def update(
        self, agent_id: UUID, data: AgentPatch, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Changes an agent's fields (and, with `block_ids`, which blocks are attached); `If-Match` as usual."""
        changes = {n: plain(getattr(data, n)) for n in data.__struct_fields__ if getattr(data, n) is not UNSET}
        return written(services.agents.update(agent_id, changes, context, expected_version(if_match)))

    @delete(
        "/{agent_id:uuid}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "agents:delete"}
    )
    def delete_agent(
        self, agent_id: UUID, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes an agent; its blocks and conversation stay in the log."""
        saved = services.agents.delete(agent_id, context, expected_version(if_match))
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

    @post("/{agent_id:uuid}/restore", status_code=200, sync_to_thread=True, opt={"permission": "agents:delete"})
    def restore(
        self, agent_id: UUID, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Restores a soft-deleted agent."""
        return written(services.agents.restore(agent_id, context, expected_version(if_match)))

    @get("/{agent_id:uuid}/history", sync_to_thread=True, opt={"permission": "agents:read"})
    def history(self, agent_id: UUID, context: Context, services: Services) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(agent_id, services.agents.history(agent_id, context.tenant_id))

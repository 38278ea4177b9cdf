"""/v1/agents/{agent_id}/blocks and /context: the blocks an agent sees and the system prompt they compile into."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.status_codes import HTTP_200_OK

from agentmem.api.dependencies import provide
from agentmem.api.params import AsOf, IfMatch, check_reads, expected_version
from agentmem.api.schemas.agents import AgentWriteOut, BlockIdsIn, ContextBlockOut, ContextOut, agent_written
from agentmem.api.schemas.blocks import BlockOut, block_out
from agentmem.application.agents import AgentApplication
from agentmem.application.chat_context import sha256
from agentmem.domain.base import Context


class AgentBlocksController(Controller):
    """The blocks attached to an agent: list, attach, detach."""

    path = "/v1/agents/{agent_id:uuid}/blocks"
    tags = ["agents"]
    dependencies = {"agents": provide("agents")}

    @get("/", sync_to_thread=True, opt={"permission": "agents:read"})
    def list_attached(self, agent_id: UUID, context: Context, agents: AgentApplication) -> list[BlockOut]:
        """The agent's live attached blocks, in attachment order, as they are now."""
        agent = agents.get(agent_id, context.tenant_id)
        return [block_out(b) for b in agents.blocks_of(agent)]

    @post("/", status_code=HTTP_200_OK, sync_to_thread=True, opt={"permission": "agents:write"})
    def attach(
        self, agent_id: UUID, data: BlockIdsIn, context: Context, agents: AgentApplication, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Attaches blocks of the tenant to the agent (a block may be shared by many agents)."""
        return agent_written(agents.attach(agent_id, data.block_ids, context, expected_version(if_match)))

    @delete("/{block_id:uuid}", status_code=HTTP_200_OK, sync_to_thread=True, opt={"permission": "agents:write"})
    def detach(
        self, agent_id: UUID, block_id: UUID, context: Context, agents: AgentApplication, if_match: IfMatch = None
    ) -> Response[AgentWriteOut]:
        """Detaches a block from the agent; the block itself stays."""
        return agent_written(agents.detach(agent_id, [block_id], context, expected_version(if_match)))


class AgentContextController(Controller):
    """The system prompt an agent would be given."""

    path = "/v1/agents/{agent_id:uuid}/context"
    tags = ["agents"]
    dependencies = {"agents": provide("agents")}

    @get("/", sync_to_thread=True, opt={"permission": "agents:read"})
    def compile_context(
        self, agent_id: UUID, context: Context, agents: AgentApplication, as_of: AsOf = None
    ) -> ContextOut:
        """Compiles the agent's instructions and attached blocks (label, size, limit) through its template."""
        check_reads(None, as_of)
        compiled = agents.context(agent_id, context.tenant_id, as_of)
        return ContextOut(
            agent_id=str(agent_id),
            agent_version=compiled.agent.version,
            as_of=as_of,
            context=compiled.text,
            size=len(compiled.text),
            blocks=[
                ContextBlockOut(id=str(b.id), label=b.label, version=b.version, size=b.size, limit=b.limit)
                for b in compiled.blocks
            ],
            hash=sha256(compiled.text),
        )

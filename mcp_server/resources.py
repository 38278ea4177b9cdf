"""MCP resources: an agent's compiled context and its blocks, each read through the use case of its HTTP twin."""

from __future__ import annotations

import asyncio
import re
from uuid import UUID

import msgspec
from mcp import types

from agentmem.domain.errors import InvalidInput
from agentmem.mcp_server import shapes
from agentmem.mcp_server.calls import Call

CONTEXT = "agentmem://agents/{agent_id}/context"
BLOCKS = "agentmem://agents/{agent_id}/blocks"
_URI = re.compile(r"^agentmem://agents/(?P<agent_id>[^/]+)/(?P<what>context|blocks)$")
LISTED_AGENTS = 50

TEMPLATES = [
    types.ResourceTemplate(
        uri_template=CONTEXT,
        name="agent-context",
        description="The system prompt the agent is given: its instructions and each block (label, size, limit).",
        mime_type="text/plain",
    ),
    types.ResourceTemplate(
        uri_template=BLOCKS,
        name="agent-blocks",
        description="The agent's attached core-memory blocks, in order, as JSON.",
        mime_type="application/json",
    ),
]


async def list_resources(call: Call) -> list[types.Resource]:
    """The context and blocks of the caller's newest agents."""
    call.require("agents:read")
    page = await call.container.lists.agents(call.principal.tenant_id, limit=LISTED_AGENTS)
    listed: list[types.Resource] = []
    for agent in page.items:
        listed.append(
            types.Resource(
                uri=CONTEXT.format(agent_id=agent.id),
                name=f"{agent.name}: context",
                mime_type="text/plain",
            )
        )
        listed.append(
            types.Resource(
                uri=BLOCKS.format(agent_id=agent.id),
                name=f"{agent.name}: blocks",
                mime_type="application/json",
            )
        )
    return listed


async def read_resource(call: Call, uri: str) -> types.TextResourceContents:
    """The compiled context (`agents:read`, like GET /v1/agents/{id}/context) or the attached blocks."""
    call.require("agents:read")
    match = _URI.match(uri)
    if match is None:
        raise InvalidInput("uri", f"unknown resource {uri!r}; known: {CONTEXT}, {BLOCKS}")
    try:
        agent_id = UUID(match["agent_id"])
    except ValueError:
        raise InvalidInput("uri", f"{match['agent_id']!r} is not an agent id") from None
    agents, tenant = call.container.agents, call.principal.tenant_id
    if match["what"] == "context":
        compiled = await asyncio.to_thread(agents.context, agent_id, tenant)
        return types.TextResourceContents(uri=uri, text=compiled.text, mime_type="text/plain")
    agent = await asyncio.to_thread(agents.get, agent_id, tenant)
    blocks = await asyncio.to_thread(agents.blocks_of, agent)
    text = msgspec.json.encode([shapes.aggregate(b) for b in blocks]).decode()
    return types.TextResourceContents(uri=uri, text=text, mime_type="application/json")

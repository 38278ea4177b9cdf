"""`agentmem mcp`: MCP over stdio for desktop clients, relaying every request to a running server's /mcp.

The relay holds no tools of its own: it lists and calls the server's, with the caller's API key, so the tools,
their permissions and their errors are exactly those of the server, local or remote. It imports nothing of the
server's use cases, so a desktop client starts it in a fraction of the server's start-up time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

from agentmem.mcp_server import INSTRUCTIONS, NAME

TIMEOUT = httpx2.Timeout(30.0, read=120.0)


def relay(remote: Client) -> Server[Any]:
    """A server whose every handler asks `remote` (an MCP client connected to AgentMem's /mcp)."""

    async def list_tools(_: ServerRequestContext[Any], __: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=(await remote.list_tools()).tools)

    async def call_tool(_: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        answer = await remote.call_tool(params.name, params.arguments or {})
        assert isinstance(answer, types.CallToolResult)
        return answer

    async def list_resources(_: ServerRequestContext[Any], __: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=(await remote.list_resources()).resources)

    async def list_templates(_: ServerRequestContext[Any], __: Any) -> types.ListResourceTemplatesResult:
        templates = (await remote.list_resource_templates()).resource_templates
        return types.ListResourceTemplatesResult(resource_templates=templates)

    async def read_resource(
        _: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        answer = await remote.read_resource(str(params.uri))
        assert isinstance(answer, types.ReadResourceResult)
        return types.ReadResourceResult(contents=answer.contents)

    return Server(
        NAME,
        version="0.1.0",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


@asynccontextmanager
async def connected(url: str, api_key: str) -> AsyncIterator[Client]:
    """An MCP client session with AgentMem's /mcp at `url`, presenting the API key."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=TIMEOUT) as http,
        Client(streamable_http_client(f"{url.rstrip('/')}/mcp", http_client=http)) as remote,
    ):
        yield remote


async def serve(url: str, api_key: str) -> None:
    """Relays MCP from stdin/stdout to the server until stdin closes."""
    async with connected(url, api_key) as remote, stdio_server() as (read, write):
        server = relay(remote)
        await server.run(read, write, server.create_initialization_options())


def run(url: str, api_key: str) -> None:
    anyio.run(serve, url, api_key)

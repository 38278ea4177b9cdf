"""The MCP server mounted on the HTTP app at /mcp (streamable HTTP, stateless, JSON answers).

The HTTP app authenticates each request with the same guard as every route (401, rate limit); each tool then
checks the permission of its HTTP twin with the principal of that request. Stateless mode keeps no session in
the process, so any API worker can answer any request. Errors are tool errors carrying the HTTP error body.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from mcp import types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.types import Receive, Scope, Send

from agentmem.application.authentication import Principal
from agentmem.domain.errors import AgentMemError, InvalidInput, Unauthenticated
from agentmem.mcp_server import INSTRUCTIONS, NAME, resources, shapes
from agentmem.mcp_server.calls import Call, Tool
from agentmem.mcp_server.tools import TOOLS
from agentmem.runtime.container import Container

_AT = re.compile(r"^(.*) - at `\$\.?(.*)`$")


def input_schema(arguments: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments, with nested shapes under `$defs`."""
    _, components = msgspec.json.schema_components([arguments], ref_template="#/$defs/{name}")
    root = dict(components.pop(arguments.__name__))
    root.pop("title", None)
    if components:
        root["$defs"] = components
    return root


def decode(tool: Tool, arguments: dict[str, Any] | None) -> Any:
    """The tool's arguments, decoded strictly ("10" is not 10), or InvalidInput naming the field."""
    try:
        return msgspec.json.decode(msgspec.json.encode(arguments or {}), type=tool.arguments, strict=True)
    except msgspec.ValidationError as error:
        match = _AT.match(str(error))
        field = match.group(2) if match and match.group(2) else _named_field(str(error))
        raise InvalidInput(field, str(error)) from None


def _named_field(message: str) -> str:
    named = re.search(r"field `([^`]+)`", message)
    return named.group(1) if named else "arguments"


def error_body(error: AgentMemError) -> dict[str, Any]:
    """The HTTP API's error body for this error: status, detail, the field, and extra details."""
    body: dict[str, Any] = {"status": error.status, "detail": str(error)}
    field = getattr(error, "field", None)
    if field:
        body["errors"] = [{"field": field, "message": str(error)}]
    body.update({k: v for k, v in error.details.items() if k in ("current_version", "limit", "size", "active_run_id")})
    return body


def result(value: Any, is_error: bool = False) -> types.CallToolResult:
    plain = shapes.plain(value)
    text = msgspec.json.encode(plain).decode()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=plain, is_error=is_error
    )


def principal_of(ctx: ServerRequestContext[Container]) -> Principal:
    """The principal the HTTP guard authenticated for the request that carried this message."""
    request = ctx.request
    state = getattr(request, "scope", {}).get("state", {}) if request is not None else {}
    principal = state.get("principal")
    if principal is None:
        raise Unauthenticated("credentials required: Authorization: Bearer <API key or token>")
    return principal


def call_of(ctx: ServerRequestContext[Container]) -> Call:
    principal = principal_of(ctx)
    request = ctx.request
    request_id = getattr(request, "scope", {}).get("state", {}).get("request_id") or "mcp"
    return Call(ctx.lifespan_context, principal, principal.context(request_id))


def build_server(container: Container, tools: list[Tool] = TOOLS) -> Server[Container]:
    """The low-level MCP server: tool and resource handlers over the container's use cases."""
    by_name = {tool.name: tool for tool in tools}
    listed = [
        types.Tool(
            name=t.name,
            description=t.description,
            input_schema=input_schema(t.arguments),
            annotations=types.ToolAnnotations(read_only_hint=t.read_only),
        )
        for t in tools
    ]

    @asynccontextmanager
    async def lifespan(_: Server[Container]) -> AsyncIterator[Container]:
        yield container

    async def list_tools(_: ServerRequestContext[Container], __: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(
        ctx: ServerRequestContext[Container], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            raise MCPError(code=types.INVALID_PARAMS, message=f"unknown tool {params.name!r}")
        try:
            return result(await tool.run(call_of(ctx), decode(tool, params.arguments)))
        except AgentMemError as error:
            return result(error_body(error), is_error=True)

    async def list_resources(ctx: ServerRequestContext[Container], _: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=await _resource_call(resources.list_resources(call_of(ctx))))

    async def list_templates(_: ServerRequestContext[Container], __: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=resources.TEMPLATES)

    async def read_resource(
        ctx: ServerRequestContext[Container], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        content = await _resource_call(resources.read_resource(call_of(ctx), str(params.uri)))
        return types.ReadResourceResult(contents=[content])

    return Server(
        NAME,
        version="0.1.0",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


async def _resource_call(pending: Any) -> Any:
    """Resource errors are protocol errors carrying the HTTP error body (resources have no error results)."""
    try:
        return await pending
    except AgentMemError as error:
        code = types.INVALID_PARAMS if error.status in (400, 404, 422) else types.INTERNAL_ERROR
        raise MCPError(code=code, message=str(error), data=error_body(error)) from None


class McpEndpoint:
    """The ASGI app mounted at /mcp; `serving(container)` runs it for the lifetime of the HTTP app."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def serving(self, container: Container) -> AsyncIterator[None]:
        manager = StreamableHTTPSessionManager(app=build_server(container), json_response=True, stateless=True)
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._manager is None:
            raise RuntimeError("the MCP endpoint is not serving (the app's lifespan has not started it)")
        await self._manager.handle_request(scope, receive, send)

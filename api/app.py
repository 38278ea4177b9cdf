"""The Litestar application: every controller, the guards, the boundary rules and the error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.handlers import ASGIRouteHandler, asgi
from litestar.types import Receive, Scope, Send

from agentmem.api.boundary import boundary_middleware, strict_body
from agentmem.api.context import request_context, request_id_middleware, request_principal
from agentmem.api.controllers.admin import AdminController
from agentmem.api.controllers.agent_memory import AgentBlocksController, AgentContextController
from agentmem.api.controllers.agents import AgentController
from agentmem.api.controllers.api_keys import ApiKeyController
from agentmem.api.controllers.audit import AuditController
from agentmem.api.controllers.auth import AuthController
from agentmem.api.controllers.blocks import BlockController
from agentmem.api.controllers.chat import ChatController, RunController
from agentmem.api.controllers.chat_ws import chat_socket
from agentmem.api.controllers.episodes import EpisodeController
from agentmem.api.controllers.events import EventController
from agentmem.api.controllers.export import ExportController
from agentmem.api.controllers.health import HealthController
from agentmem.api.controllers.jobs import JobController
from agentmem.api.controllers.llm import LanguageModelController
from agentmem.api.controllers.me import MeController
from agentmem.api.controllers.memories import MemoryController
from agentmem.api.controllers.memory_search import MemorySearchController
from agentmem.api.controllers.messages import MessageController
from agentmem.api.controllers.metrics import MetricsController
from agentmem.api.controllers.organizations import OrganizationController
from agentmem.api.controllers.secrets import SecretController
from agentmem.api.controllers.tools import ToolController
from agentmem.api.controllers.usage import UsageController
from agentmem.api.controllers.users import UserController
from agentmem.api.errors import EXCEPTION_HANDLERS
from agentmem.api.guards import require_permission
from agentmem.api.observe import observe_middleware
from agentmem.api.openapi import docs_assets, document_answers, openapi_config
from agentmem.mcp_server.server import McpEndpoint
from agentmem.runtime.container import Container
from agentmem.runtime.observability import configure_logging
from agentmem.runtime.settings import Settings

VERSION = "0.1.0"


def mcp_route(endpoint: McpEndpoint) -> ASGIRouteHandler:
    """/mcp: the MCP server over streamable HTTP. The guard authenticates and rate-limits each request like any
    route (every role may connect: `me:read`); each tool then checks the permission of its HTTP twin."""

    @asgi("/mcp", is_mount=True, copy_scope=False, opt={"permission": "me:read"})
    async def mcp(scope: Scope, receive: Receive, send: Send) -> None:
        await endpoint(scope, receive, send)

    return mcp


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    """Builds the app; the container is created at startup from the settings unless given."""
    settings = settings or Settings.from_env()
    configure_logging(settings)

    endpoint = McpEndpoint()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        running = container or Container(settings)
        await running.start()
        app.state.container = running
        try:
            async with endpoint.serving(running):
                yield
        finally:
            if container is None:
                await running.close()
            else:
                await running.stop()

    app = Litestar(
        route_handlers=[
            HealthController,
            MetricsController,
            MemoryController,
            MemorySearchController,
            AdminController,
            BlockController,
            AgentController,
            AgentBlocksController,
            AgentContextController,
            MessageController,
            ChatController,
            RunController,
            chat_socket,
            AuthController,
            MeController,
            OrganizationController,
            UserController,
            ApiKeyController,
            AuditController,
            LanguageModelController,
            UsageController,
            JobController,
            EpisodeController,
            mcp_route(endpoint),
            EventController,
            ExportController,
            ToolController,
            SecretController,
            docs_assets(),
        ],
        dependencies={
            "context": Provide(request_context, sync_to_thread=False),
            "principal": Provide(request_principal, sync_to_thread=False),
        },
        middleware=[request_id_middleware, observe_middleware, boundary_middleware(settings.max_body_bytes)],
        guards=[require_permission, strict_body],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # configured by configure_logging above (Litestar's default would replace it)
        openapi_config=openapi_config(VERSION),
    )
    document_answers(app)
    return app

"""The Litestar application: every controller, dependency and error handler wired in one place."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, Reference, SecurityScheme

from agentmem.api.context import request_context, request_id_middleware, request_principal
from agentmem.api.controllers.admin import AdminController
from agentmem.api.controllers.agent_memory import AgentBlocksController, AgentContextController
from agentmem.api.controllers.agents import AgentController
from agentmem.api.controllers.api_keys import ApiKeyController
from agentmem.api.controllers.audit import AuditController
from agentmem.api.controllers.auth import AuthController
from agentmem.api.controllers.blocks import BlockController
from agentmem.api.controllers.health import HealthController
from agentmem.api.controllers.me import MeController
from agentmem.api.controllers.memories import MemoryController
from agentmem.api.controllers.memory_search import MemorySearchController
from agentmem.api.controllers.messages import MessageController
from agentmem.api.controllers.organizations import OrganizationController
from agentmem.api.controllers.users import UserController
from agentmem.api.errors import EXCEPTION_HANDLERS
from agentmem.api.guards import require_permission
from agentmem.api.services import Services, services_from_state
from agentmem.infrastructure.settings import Settings

VERSION = "0.1.0"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "bearer": SecurityScheme(type="http", scheme="bearer", description="An API key (am_…) or a token"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
}


def create_app(settings: Settings | None = None, services: Services | None = None) -> Litestar:
    """Builds the app; services are created at startup from the settings unless given."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        running = services or Services.build(settings)
        await running.start()
        app.state.services = running
        try:
            yield
        finally:
            if services is None:
                await running.close()
            else:
                await running.stop()

    return Litestar(
        route_handlers=[
            HealthController,
            MemoryController,
            MemorySearchController,
            AdminController,
            BlockController,
            AgentController,
            AgentBlocksController,
            AgentContextController,
            MessageController,
            AuthController,
            MeController,
            OrganizationController,
            UserController,
            ApiKeyController,
            AuditController,
        ],
        dependencies={
            "services": Provide(services_from_state, sync_to_thread=False),
            "context": Provide(request_context, sync_to_thread=False),
            "principal": Provide(request_principal, sync_to_thread=False),
        },
        middleware=[request_id_middleware],
        guards=[require_permission],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="AgentMem",
            version=VERSION,
            description="Event-sourced memory for AI agents: versioned, auditable, hybrid search.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes=SECURITY_SCHEMES),
            security=[{"bearer": []}, {"apiKey": []}],
        ),
    )

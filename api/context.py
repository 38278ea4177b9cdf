"""Per-request context: the request id, and who is acting for which tenant."""

from __future__ import annotations

import re
import uuid

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from agentmem.application.authentication import Principal
from agentmem.domain.base import Context

REQUEST_ID_HEADER = "x-request-id"
POSITION_HEADER = "AgentMem-Position"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Takes a well-formed X-Request-ID from the caller or makes one, and echoes it in the response."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def request_principal(request: Request) -> Principal:
    """The authenticated caller (set by the permission guard before any handler runs)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:
        raise NotAuthorizedException("credentials required: Authorization: Bearer <API key or token>")
    return principal


def request_context(request: Request) -> Context:
    """The tenant, actor and request id that every event of this request carries."""
    return request_principal(request).context(request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex)

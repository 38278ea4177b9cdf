"""WebSocket /v1/agents/{agent_id}/ws: chat turns and cancels as frames, the run's events back as frames.

Credentials come in the `Authorization` (or `X-API-Key`) header of the upgrade request or, when a browser cannot
set headers, in the first frame `{"type": "auth", "token": "<API key or token>"}` — never in the URL, where
proxies and logs would keep them. Bad credentials close the socket with 4401, a role without `messages:write`
with 4403. Then `{"type": "chat", "messages": [...], "max_steps"?, "user_id"?}` starts a run whose events come
back as `{"type": <event>, "id": "<run_id>:<seq>", "data": {...}}` (the SSE events), and `{"type": "cancel"}`
stops it at the next step boundary. Closing the socket mid-run detaches it, as an SSE client leaving does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.datastructures import Headers
from litestar.exceptions import WebSocketDisconnect

from agentmem.api.controllers.chat import chat_request
from agentmem.api.dependencies import container_of
from agentmem.api.guards import presented_secret
from agentmem.api.schemas.chat import ChatIn
from agentmem.application.authentication import Principal
from agentmem.application.chat import Chat
from agentmem.domain.errors import AgentMemError, Unauthenticated

AUTH_SECONDS = 10.0
"""How long a socket without credentials in its headers may take to send its auth frame."""
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
PERMISSION = "messages:write"


def error_frame(error: AgentMemError) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "status": error.status, "detail": str(error), **error.details}
    if getattr(error, "field", None):
        frame["field"] = error.field
    return frame


async def first_frame_secret(socket: WebSocket) -> str:
    try:
        raw = await asyncio.wait_for(socket.receive_text(), AUTH_SECONDS)
        frame = json.loads(raw)
    except (TimeoutError, ValueError):
        raise Unauthenticated('send credentials first: {"type": "auth", "token": "<key>"}') from None
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
    if not isinstance(token, str) or not token.strip():
        raise Unauthenticated('send credentials first: {"type": "auth", "token": "<key>"}')
    return token.strip()


async def authenticate(socket: WebSocket) -> Principal | None:
    """The caller, or None after closing the socket with 4401 or 4403."""
    auth = container_of(socket.app.state).auth
    headers = Headers(socket.scope["headers"])
    try:
        has_header = headers.get("authorization") or headers.get("x-api-key")
        secret = presented_secret(headers) if has_header else await first_frame_secret(socket)
        principal = await auth.authenticate(secret)
        await auth.admit(principal)
    except AgentMemError as error:
        await socket.close(code=CLOSE_FORBIDDEN if error.status == 403 else CLOSE_UNAUTHENTICATED, reason=str(error))
        return None
    if PERMISSION not in principal.permissions:
        await socket.close(code=CLOSE_FORBIDDEN, reason=f"your role ({principal.role}) does not grant {PERMISSION}")
        return None
    return principal


class Session:
    """One socket's conversation: at most one run at a time, its events pumped back as frames."""

    def __init__(self, socket: WebSocket, chat: Chat, principal: Principal, agent_id: UUID) -> None:
        self.socket = socket
        self.chat = chat
        self.principal = principal
        self.agent_id = agent_id
        self.run_id: UUID | None = None
        self.pump: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.pump is not None and not self.pump.done()

    async def handle(self, raw: str) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = None
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "chat":
            await self.start({k: v for k, v in frame.items() if k != "type"})
        elif kind == "cancel" and self.running and self.run_id is not None:
            await self.chat.cancel(self.run_id, self.principal.tenant_id, self.principal.actor_id, via="websocket")
        elif kind == "cancel":
            await self.socket.send_json({"type": "error", "status": 409, "detail": "no run is going on this socket"})
        else:
            await self.socket.send_json({"type": "error", "status": 400, "detail": "frames are chat, cancel or auth"})

    async def start(self, body: dict[str, Any]) -> None:
        if self.running:
            detail = f"run {self.run_id} is still going on this socket; cancel it or wait for run.completed"
            await self.socket.send_json({"type": "error", "status": 409, "detail": detail})
            return
        try:
            data = msgspec.convert(body, ChatIn, strict=True)
        except msgspec.ValidationError as error:
            await self.socket.send_json({"type": "error", "status": 422, "detail": str(error)})
            return
        context = self.principal.context(f"ws-{id(self.socket):x}")
        prepared = await self.chat.begin(chat_request(self.agent_id, data), self.principal, context)
        await self.chat.stream(prepared)
        events = await self.chat.follow(prepared.run_id, self.principal.tenant_id)
        self.run_id = prepared.run_id

        async def pump() -> None:
            async for event in events:
                await self.socket.send_json({"type": event.kind, "id": event.id, "data": event.data})

        self.pump = asyncio.create_task(pump())

    async def close(self) -> None:
        """The socket closed: a run still going is detached; the pump stops."""
        if self.running and self.run_id is not None:
            await self.chat.detach(self.run_id)
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(BaseException):
                await self.pump


@websocket("/v1/agents/{agent_id:uuid}/ws", opt={"public": True})
async def chat_socket(socket: WebSocket, agent_id: UUID) -> None:
    """Chat with an agent over a WebSocket (see the module docstring)."""
    await socket.accept()
    principal = await authenticate(socket)
    if principal is None:
        return
    session = Session(socket, container_of(socket.app.state).chat, principal, agent_id)
    try:
        while True:
            raw = await socket.receive_text()
            try:
                await session.handle(raw)
            except AgentMemError as error:
                await socket.send_json(error_frame(error))
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()

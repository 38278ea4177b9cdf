"""/v1/agents/{agent_id}/chat and /runs, /v1/runs/{run_id}: talk to an agent, streamed (SSE) or not; its runs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import anyio
from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from agentmem.api.context import POSITION_HEADER
from agentmem.api.dependencies import provide
from agentmem.api.params import Cursor, Limit, ListOrderParam, MinPosition
from agentmem.api.schemas.chat import (
    CancelOut,
    ChatIn,
    ChatOut,
    RunOut,
    RunPageOut,
    chat_out,
    run_out,
    run_summary,
)
from agentmem.application.authentication import Principal
from agentmem.application.chat import Chat
from agentmem.application.chat_runs import ChatInput, ChatRequest
from agentmem.application.run_signals import RunEvent, parse_event_id
from agentmem.application.runs import RunApplication, RunList, RunNotFoundError
from agentmem.domain.base import Context

LastEventId = Annotated[
    str | None,
    Parameter(
        header="Last-Event-ID",
        required=False,
        max_length=128,
        description="Resume a streamed run after this event id (`<run_id>:<seq>`) instead of starting a new one.",
    ),
]
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_frame(event: RunEvent) -> bytes:
    """One server-sent event: `id: <run_id>:<seq>`, `event: <kind>`, `data: <json>`."""
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.data, default=str)}\n\n".encode()


def event_stream(chat: Chat, run_id: UUID, events: AsyncIterator[RunEvent]) -> Stream:
    """The run's events as SSE; a client that leaves before the end detaches (the run is cancelled unless it
    resumes with Last-Event-ID within the grace)."""

    async def frames() -> AsyncIterator[bytes]:
        ended = False
        try:
            async for event in events:
                ended = event.terminal
                yield sse_frame(event)
        finally:
            if not ended:
                with anyio.CancelScope(shield=True):
                    await chat.detach(run_id)

    return Stream(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


def chat_request(agent_id: UUID, data: ChatIn) -> ChatRequest:
    messages = [ChatInput(m.role, m.content) for m in data.messages]
    return ChatRequest(agent_id, messages, data.max_steps, data.user_id, data.stream)


class ChatController(Controller):
    """Chat turns with an agent: every message, tool call and step is recorded."""

    path = "/v1/agents/{agent_id:uuid}"
    tags = ["chat"]
    dependencies = {"chat": provide("chat"), "run_list": provide("run_list"), "runs": provide("runs")}

    @post("/chat", status_code=HTTP_200_OK, opt={"permission": "messages:write"})
    async def chat(
        self,
        agent_id: UUID,
        data: ChatIn,
        context: Context,
        principal: Principal,
        chat: Chat,
        runs: RunApplication,
        last_event_id: LastEventId = None,
    ) -> Response[ChatOut] | Stream:
        """Runs the agent on these messages: 200 with the new messages and usage, or (`stream: true`) an event
        stream; with Last-Event-ID, the rest of that run's stream. 409 names the agent's active run."""
        if last_event_id is not None:
            run_id, after = parse_event_id(last_event_id)
            run = await anyio.to_thread.run_sync(runs.get, run_id, context.tenant_id)
            if run.agent_id != agent_id:
                raise RunNotFoundError(f"run {run_id} not found for agent {agent_id}")
            return event_stream(chat, run_id, await chat.follow(run_id, context.tenant_id, after))
        prepared = await chat.begin(chat_request(agent_id, data), principal, context)
        if not data.stream:
            outcome = await chat.execute(prepared)
            return Response(chat_out(outcome), headers={POSITION_HEADER: str(outcome.position)})
        await chat.stream(prepared)
        return event_stream(chat, prepared.run_id, await chat.follow(prepared.run_id, context.tenant_id))

    @get("/runs", opt={"permission": "agents:read"})
    async def list_runs(
        self,
        agent_id: UUID,
        context: Context,
        run_list: RunList,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        min_position: MinPosition = None,
    ) -> RunPageOut:
        """The agent's runs, newest first by default, with status, stop reason and steps."""
        page = await run_list.page(
            context.tenant_id, agent_id, order=order, limit=limit, cursor=cursor, min_position=min_position
        )
        return RunPageOut(items=[run_summary(r) for r in page.items], next_cursor=page.next_cursor)


class RunController(Controller):
    """One run: its start, context, steps and end, read from the log; cancel; follow its stream."""

    path = "/v1/runs/{run_id:uuid}"
    tags = ["chat"]
    dependencies = {"chat": provide("chat"), "runs": provide("runs")}

    @get("/", sync_to_thread=True, opt={"permission": "agents:read"})
    def get_run(self, run_id: UUID, context: Context, runs: RunApplication) -> RunOut:
        """The run: status, model, context hash, what its first step was shown, each step's usage and latency."""
        return run_out(runs.get(run_id, context.tenant_id))

    @post("/cancel", status_code=HTTP_202_ACCEPTED, opt={"permission": "messages:write"})
    async def cancel(self, run_id: UUID, context: Context, chat: Chat) -> CancelOut:
        """Asks the run to stop at its next step boundary (what was said stays); 409 when it has ended."""
        run = await chat.cancel(run_id, context.tenant_id, context.actor_id)
        return CancelOut(id=str(run.id), status=run.status, cancel_requested=True)

    @get("/stream", opt={"permission": "messages:read"})
    async def stream(self, run_id: UUID, context: Context, chat: Chat, last_event_id: LastEventId = None) -> Stream:
        """The run's event stream from the start, or after Last-Event-ID, while its events are kept."""
        after = 0
        if last_event_id is not None:
            resumed, after = parse_event_id(last_event_id)
            if resumed != run_id:
                raise RunNotFoundError(f"event {last_event_id} is not an event of run {run_id}")
        return event_stream(chat, run_id, await chat.follow(run_id, context.tenant_id, after))

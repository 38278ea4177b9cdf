"""/v1/agents/{agent_id}/messages: append, list in order, read by id (from the log) and search (the read model)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Annotated, Literal
from uuid import UUID

import msgspec
import psycopg
from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from agentmem.api.context import POSITION_HEADER
from agentmem.api.controllers.memory_search import wait_for
from agentmem.api.schemas.messages import (
    MessageHitOut,
    MessageOut,
    MessagePageOut,
    MessageSearchIn,
    MessageSearchOut,
    MessagesIn,
    MessagesOut,
)
from agentmem.api.services import Services
from agentmem.application.conversations import Message
from agentmem.domain.base import Context
from agentmem.domain.conversation import NewMessage
from agentmem.infrastructure.postgres_search import CursorError
from agentmem.projections.filters import Compare
from agentmem.projections.messages import MESSAGE_MEMORY_TYPE, message_content
from agentmem.projections.queries import Hit, Scope

MessageOrder = Annotated[Literal["asc", "desc"], Parameter(description="asc (oldest first, default) or desc")]


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=str(message.id),
        agent_id=str(message.agent_id),
        seq=message.seq,
        role=message.role,
        content=message.content,
        name=message.name,
        tool_calls=message.tool_calls,
        tool_call_id=message.tool_call_id,
        created_at=message.created_at,
        created_by=message.created_by,
    )


def hit_out(hit: Hit) -> MessageHitOut:
    row, metadata = hit.memory, hit.memory.metadata
    return MessageHitOut(
        id=str(row.id),
        agent_id=str(row.agent_id),
        seq=int(metadata.get("seq", 0)),
        role=str(metadata.get("role")),
        content=message_content(row.text, metadata),
        name=metadata.get("name"),
        tool_calls=metadata.get("tool_calls", []),
        tool_call_id=metadata.get("tool_call_id"),
        created_at=row.created_at,
        created_by=row.created_by,
        score=round(hit.score, 6),
        vector_rank=hit.vector_rank,
        text_rank=hit.text_rank,
    )


def encode_slot(order: str, slot: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps([order, *slot]).encode()).decode().rstrip("=")


def decode_slot(cursor: str, order: str) -> tuple[int, int]:
    try:
        cursor_order, segment, index = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = cursor_order == order and isinstance(segment, int) and isinstance(index, int)
    except Exception:  # noqa: BLE001 - any decoding failure is a bad cursor
        valid = False
    if not valid or segment < 0 or index < 0:
        raise CursorError("invalid cursor for this list")
    return segment, index


class MessageController(Controller):
    """One agent's conversation: messages are events in the agent's conversation stream."""

    path = "/v1/agents/{agent_id:uuid}/messages"
    tags = ["messages"]

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "messages:write"})
    def append(self, agent_id: UUID, data: MessagesIn, context: Context, services: Services) -> Response[MessagesOut]:
        """Appends messages to the conversation in order, atomically."""
        new = [
            NewMessage(
                role=m.role,
                content=m.content,
                name=m.name,
                tool_calls=msgspec.to_builtins(m.tool_calls),
                tool_call_id=m.tool_call_id,
            )
            for m in data.messages
        ]
        appended = services.conversations.append(agent_id, new, context)
        body = MessagesOut(messages=[message_out(m) for m in appended.messages], position=appended.position)
        return Response(body, status_code=HTTP_201_CREATED, headers={POSITION_HEADER: str(appended.position)})

    @get("/", sync_to_thread=True, opt={"permission": "messages:read"})
    def list_messages(
        self,
        agent_id: UUID,
        context: Context,
        services: Services,
        order: MessageOrder = "asc",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=512)] = None,
    ) -> MessagePageOut:
        """Lists the conversation in order (oldest first, or newest first with `order=desc`), by cursor."""
        after = decode_slot(cursor, order) if cursor is not None else None
        page = services.conversations.page(agent_id, context.tenant_id, after, limit, order)
        next_cursor = encode_slot(order, page.next_slot) if page.next_slot is not None else None
        return MessagePageOut(items=[message_out(m) for m in page.messages], next_cursor=next_cursor)

    @get("/{message_id:uuid}", sync_to_thread=True, opt={"permission": "messages:read"})
    def get_message(self, agent_id: UUID, message_id: UUID, context: Context, services: Services) -> MessageOut:
        """Reads one message by id."""
        return message_out(services.conversations.get(agent_id, message_id, context.tenant_id))

    @post("/search", status_code=HTTP_200_OK, opt={"permission": "messages:read"})
    async def search(
        self, agent_id: UUID, data: MessageSearchIn, context: Context, services: Services
    ) -> MessageSearchOut:
        """Hybrid (default), vector or text search over this agent's conversation."""
        await asyncio.to_thread(services.agents.get, agent_id, context.tenant_id)
        roles = [data.role] if isinstance(data.role, str) else list(data.role or [])
        scope = Scope(
            tenant_id=context.tenant_id,
            agent_id=str(agent_id),
            memory_types=(MESSAGE_MEMORY_TYPE,),
            metadata=Compare(("role",), "in", roles) if roles else None,
            created_after=data.created_after,
            created_before=data.created_before,
        )
        for attempt in (1, 2):
            active = await services.active("messages", refresh=attempt == 2)
            await wait_for(services, active, data.min_position)
            started = time.perf_counter()
            vector = await active.embed(data.query) if data.mode != "text" else None
            embedded = time.perf_counter()
            try:
                hits = await active.search.search(scope, data.query, vector, data.mode, data.limit, data.min_score)
            except psycopg.errors.UndefinedTable:
                if attempt == 2:
                    raise
                continue  # the read model was switched under us: follow it
            return MessageSearchOut(
                results=[hit_out(h) for h in hits],
                mode=data.mode,
                embedding_ms=round((embedded - started) * 1000, 3),
                search_ms=round((time.perf_counter() - embedded) * 1000, 3),
            )
        raise AssertionError("unreachable")  # pragma: no cover

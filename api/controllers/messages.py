"""/v1/agents/{agent_id}/messages: append, list in order, read by id (from the log) and search (the read model)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from agentmem.api.dependencies import provide
from agentmem.api.params import AscDesc, Cursor
from agentmem.api.responses import written
from agentmem.api.schemas.messages import (
    MessageHitOut,
    MessageOut,
    MessagePageOut,
    MessageSearchIn,
    MessageSearchOut,
    MessagesIn,
    MessagesOut,
    message_out,
)
from agentmem.application.agents import AgentApplication
from agentmem.application.conversations import ConversationApplication, decode_slot, encode_slot
from agentmem.application.reads import Reads
from agentmem.domain.base import Context
from agentmem.domain.conversation import NewMessage
from agentmem.projections.filters import Compare
from agentmem.projections.messages import MESSAGE_MEMORY_TYPE, message_content
from agentmem.projections.queries import Hit, Scope

MessageOrder = Annotated[AscDesc, Parameter(description="asc (oldest first, default) or desc")]


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
        run_id=metadata.get("run_id"),
        incomplete=bool(metadata.get("incomplete", False)),
        score=round(hit.score, 6),
        vector_rank=hit.vector_rank,
        text_rank=hit.text_rank,
    )


class MessageController(Controller):
    """One agent's conversation: messages are events in the agent's conversation stream."""

    path = "/v1/agents/{agent_id:uuid}/messages"
    tags = ["messages"]
    dependencies = {
        "conversations": provide("conversations"),
        "agents": provide("agents"),
        "reads": provide("reads"),
    }

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "messages:write"})
    def append(
        self, agent_id: UUID, data: MessagesIn, context: Context, conversations: ConversationApplication
    ) -> Response[MessagesOut]:
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
        appended = conversations.append(agent_id, new, context)
        body = MessagesOut(messages=[message_out(m) for m in appended.messages], position=appended.position)
        return written(body, appended.position, status_code=HTTP_201_CREATED)

    @get("/", sync_to_thread=True, opt={"permission": "messages:read"})
    def list_messages(
        self,
        agent_id: UUID,
        context: Context,
        conversations: ConversationApplication,
        order: MessageOrder = "asc",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 50,
        cursor: Cursor = None,
    ) -> MessagePageOut:
        """Lists the conversation in order (oldest first, or newest first with `order=desc`), by cursor."""
        after = decode_slot(cursor, order) if cursor is not None else None
        page = conversations.page(agent_id, context.tenant_id, after, limit, order)
        next_cursor = encode_slot(order, page.next_slot) if page.next_slot is not None else None
        return MessagePageOut(items=[message_out(m) for m in page.messages], next_cursor=next_cursor)

    @get("/{message_id:uuid}", sync_to_thread=True, opt={"permission": "messages:read"})
    def get_message(
        self, agent_id: UUID, message_id: UUID, context: Context, conversations: ConversationApplication
    ) -> MessageOut:
        """Reads one message by id."""
        return message_out(conversations.get(agent_id, message_id, context.tenant_id))

    @post("/search", status_code=HTTP_200_OK, opt={"permission": "messages:read"})
    async def search(
        self, agent_id: UUID, data: MessageSearchIn, context: Context, agents: AgentApplication, reads: Reads
    ) -> MessageSearchOut:
        """Hybrid (default), vector or text search over this agent's conversation."""
        await asyncio.to_thread(agents.get, agent_id, context.tenant_id)
        roles = [data.role] if isinstance(data.role, str) else list(data.role or [])
        scope = Scope(
            tenant_id=context.tenant_id,
            agent_id=str(agent_id),
            memory_types=(MESSAGE_MEMORY_TYPE,),
            metadata=Compare(("role",), "in", roles) if roles else None,
            created_after=data.created_after,
            created_before=data.created_before,
        )
        result = await reads.search(
            "messages",
            scope,
            data.query,
            mode=data.mode,
            limit=data.limit,
            min_score=data.min_score,
            min_position=data.min_position,
        )
        return MessageSearchOut(
            results=[hit_out(h) for h in result.hits],
            mode=data.mode,
            embedding_ms=result.embedding_ms,
            search_ms=result.search_ms,
        )

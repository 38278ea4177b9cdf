"""client.agents and client.messages: agents, their blocks and compiled context, and their conversations."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal

from agentmem_client._async.http import HttpCore
from agentmem_client._params import NotGiven, body, changes, if_match
from agentmem_client._params import query as query_params
from agentmem_client.types import (
    Agent,
    AgentContext,
    AgentWrite,
    Block,
    Deleted,
    History,
    Message,
    MessageSearchResult,
    MessagesWrite,
    Order,
    Page,
    SearchMode,
)


class Agents:
    """Agents: instructions, attached blocks, model settings; each an event-sourced aggregate."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def create(
        self,
        name: str,
        *,
        system: str | None = None,
        description: str | None = None,
        llm: dict[str, Any] | None = None,
        embedding: dict[str, Any] | None = None,
        block_ids: Sequence[str] | None = None,
        tool_ids: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        context_template: str | None = None,
    ) -> AgentWrite:
        payload = body(
            name=name,
            system=system,
            description=description,
            llm=llm,
            embedding=embedding,
            block_ids=block_ids,
            tool_ids=tool_ids,
            tags=tags,
            metadata=metadata,
            context_template=context_template,
        )
        return await self._http.call("POST", "/v1/agents", AgentWrite, json=payload)

    async def get(
        self, agent_id: str, *, version: int | None = None, as_of: datetime | None = None, include_deleted: bool = False
    ) -> Agent:
        params = query_params(version=version, as_of=as_of, include_deleted=include_deleted or None)
        return await self._http.call("GET", f"/v1/agents/{agent_id}", Agent, params=params)

    async def list(
        self,
        *,
        tags: Sequence[str] | None = None,
        order: Order = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> Page[Agent]:
        """One page of agents holding every one of `tags`."""
        params = query_params(
            tag=tags,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted or None,
            min_position=self._http.min_position(min_position),
        )
        return await self._http.call("GET", "/v1/agents", Page[Agent], params=params)

    async def iterate(self, *, page_size: int = 100, **filters: Any) -> AsyncIterator[Agent]:
        cursor: str | None = None
        while True:
            page = await self.list(limit=page_size, cursor=cursor, **filters)
            for agent in page.items:
                yield agent
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def update(
        self, agent_id: str, *, expected_version: int | None = None, **fields: Any | NotGiven
    ) -> AgentWrite:
        """Changes the given fields (`name`, `system`, `block_ids`, `llm`, …; None clears the nullable ones)."""
        path = f"/v1/agents/{agent_id}"
        return await self._http.call(
            "PATCH", path, AgentWrite, json=changes(**fields), headers=if_match(expected_version)
        )

    async def delete(self, agent_id: str, *, expected_version: int | None = None) -> Deleted:
        path = f"/v1/agents/{agent_id}"
        return Deleted(agent_id, await self._http.position_of("DELETE", path, headers=if_match(expected_version)))

    async def restore(self, agent_id: str, *, expected_version: int | None = None) -> AgentWrite:
        path = f"/v1/agents/{agent_id}/restore"
        return await self._http.call("POST", path, AgentWrite, headers=if_match(expected_version))

    async def history(self, agent_id: str) -> History:
        return await self._http.call("GET", f"/v1/agents/{agent_id}/history", History)

    async def blocks(self, agent_id: str) -> builtins.list[Block]:
        """The agent's live attached blocks, in attachment order."""
        return await self._http.call("GET", f"/v1/agents/{agent_id}/blocks", builtins.list[Block])

    async def attach_blocks(
        self, agent_id: str, block_ids: Sequence[str], *, expected_version: int | None = None
    ) -> AgentWrite:
        path = f"/v1/agents/{agent_id}/blocks"
        payload = {"block_ids": list(block_ids)}
        return await self._http.call("POST", path, AgentWrite, json=payload, headers=if_match(expected_version))

    async def detach_block(self, agent_id: str, block_id: str, *, expected_version: int | None = None) -> AgentWrite:
        path = f"/v1/agents/{agent_id}/blocks/{block_id}"
        return await self._http.call("DELETE", path, AgentWrite, headers=if_match(expected_version))

    async def context(self, agent_id: str, *, as_of: datetime | None = None) -> AgentContext:
        """The compiled system prompt (instructions + blocks), now or as it was at an instant."""
        params = query_params(as_of=as_of)
        return await self._http.call("GET", f"/v1/agents/{agent_id}/context", AgentContext, params=params)


class Messages:
    """An agent's conversation: append, read in order, read one, search."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def append(self, agent_id: str, messages: Sequence[dict[str, Any]]) -> MessagesWrite:
        """Appends 1 to 100 messages (`role`, `content`, `name`?, `tool_calls`?, `tool_call_id`?) atomically."""
        path = f"/v1/agents/{agent_id}/messages"
        return await self._http.call("POST", path, MessagesWrite, json={"messages": list(messages)})

    async def list(
        self, agent_id: str, *, order: Literal["asc", "desc"] = "asc", limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        params = query_params(order=order, limit=limit, cursor=cursor)
        return await self._http.call("GET", f"/v1/agents/{agent_id}/messages", Page[Message], params=params)

    async def iterate(
        self, agent_id: str, *, order: Literal["asc", "desc"] = "asc", page_size: int = 100
    ) -> AsyncIterator[Message]:
        cursor: str | None = None
        while True:
            page = await self.list(agent_id, order=order, limit=page_size, cursor=cursor)
            for message in page.items:
                yield message
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, agent_id: str, message_id: str) -> Message:
        return await self._http.call("GET", f"/v1/agents/{agent_id}/messages/{message_id}", Message)

    async def search(
        self,
        agent_id: str,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        limit: int = 10,
        role: str | Sequence[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        min_score: float | None = None,
        min_position: int | None = None,
    ) -> MessageSearchResult:
        payload = body(
            query=query,
            mode=mode,
            limit=limit,
            role=list(role) if isinstance(role, (list, tuple)) else role,
            created_after=created_after,
            created_before=created_before,
            min_score=min_score,
            min_position=self._http.min_position(min_position),
        )
        path = f"/v1/agents/{agent_id}/messages/search"
        return await self._http.call("POST", path, MessageSearchResult, json=payload)

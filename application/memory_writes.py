"""Memory writes as every entrypoint makes them: the command, inside the organization's memory quota."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from agentmem.application.base import Saved
from agentmem.application.jobs import NewConversation
from agentmem.application.memories import MemoryApplication, NewMemory
from agentmem.application.quota import MemoryQuota
from agentmem.application.telemetry import span
from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.memory import MAX_TEXT_CHARS, Memory


def episodic_memories(conversation: NewConversation) -> list[NewMemory]:
    """Each message as an episodic memory of the conversation's scope; role, name and time go into metadata."""
    items = []
    for index, message in enumerate(conversation.messages):
        if len(message["content"]) > MAX_TEXT_CHARS:
            field = f"messages[{index}].content"
            raise InvalidInput(field, f"a message stored as a memory holds at most {MAX_TEXT_CHARS} characters")
        said = {k: message[k] for k in ("role", "name") if message.get(k) is not None}
        if message.get("created_at") is not None:
            said["created_at"] = message["created_at"].isoformat()
        items.append(
            NewMemory(
                text=message["content"],
                memory_type="episodic",
                metadata={**conversation.metadata, **said},
                **conversation.scope,
            )
        )
    return items


class MemoryWrites:
    """Adds, deletes and restores memories within the quota (429 past it); edits need no quota."""

    def __init__(self, memories: MemoryApplication, quota: MemoryQuota) -> None:
        self.memories = memories
        self.quota = quota

    async def add(
        self, new: NewMemory, context: Context, max_memories: int, idempotency_key: str | None = None
    ) -> Saved[Memory]:
        with span("memories.add"):
            async with self.quota.reserve(context.tenant_id, 1, max_memories):
                return await asyncio.to_thread(self.memories.add, new, context, idempotency_key)

    async def add_batch(
        self, items: Sequence[NewMemory], context: Context, max_memories: int, idempotency_key: str | None = None
    ) -> list[Saved[Memory]]:
        with span("memories.add_batch", {"agentmem.memories": len(items)}):
            async with self.quota.reserve(context.tenant_id, len(items), max_memories):
                return await asyncio.to_thread(self.memories.add_batch, items, context, idempotency_key)

    async def add_messages(
        self, conversation: NewConversation, context: Context, max_memories: int, idempotency_key: str | None = None
    ) -> list[Saved[Memory]]:
        """Stores each message as an episodic memory, in one atomic batch (no model involved)."""
        return await self.add_batch(episodic_memories(conversation), context, max_memories, idempotency_key)

    async def update(
        self, memory_id: UUID, changes: dict[str, Any], context: Context, expected_version: int | None = None
    ) -> Saved[Memory]:
        with span("memories.update"):
            return await asyncio.to_thread(self.memories.update, memory_id, changes, context, expected_version)

    async def delete(self, memory_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Memory]:
        with span("memories.delete"):
            saved = await asyncio.to_thread(self.memories.delete, memory_id, context, expected_version)
            await self.quota.release(context.tenant_id, 1)
            return saved

    async def restore(
        self, memory_id: UUID, context: Context, max_memories: int, expected_version: int | None = None
    ) -> Saved[Memory]:
        with span("memories.restore"):
            async with self.quota.reserve(context.tenant_id, 1, max_memories):
                return await asyncio.to_thread(self.memories.restore, memory_id, context, expected_version)

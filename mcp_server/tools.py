"""The MCP tools: memories and an agent's core-memory blocks, each over the use case its HTTP twin calls.

Tools are plain `Tool` values in `TOOLS`; a new group (jobs, chat, tools) is a module with its own list of
`Tool`s added to `TOOLS`, e.g. `get_job` over the jobs use case, checking `memories:read` like `GET /v1/jobs/{id}`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from msgspec import UNSET

from agentmem.application.memories import NewMemory
from agentmem.application.scopes import memory_scope
from agentmem.domain.errors import InvalidInput, Unavailable
from agentmem.mcp_server import shapes
from agentmem.mcp_server.arguments import (
    AddMemory,
    CoreMemoryAppend,
    CoreMemoryReplace,
    DeleteMemory,
    GetBlock,
    GetMemory,
    ListBlocks,
    ListMemories,
    MemoryId,
    SearchMemories,
    UpdateMemory,
)
from agentmem.mcp_server.calls import Call, Tool, check_reads
from agentmem.mcp_server.chat_tools import CHAT_TOOLS

NO_EXTRACTION = (
    "extracting facts from messages (infer=true) needs a language model and extraction jobs, which this server "
    "does not offer yet; pass infer=false to store each message as it is"
)


async def add_memory(call: Call, args: AddMemory) -> dict[str, Any]:
    call.require("memories:write")
    scope = {"user_id": args.user_id, "agent_id": args.agent_id, "run_id": args.run_id}
    fields = {"metadata": args.metadata, "valid_from": args.valid_from, "valid_to": args.valid_to}
    writes, limit = call.container.memory_writes, call.principal.max_memories
    if (args.text is None) == (args.messages is None):
        raise InvalidInput("text", "give either text or messages")
    if args.text is not None:
        new = NewMemory(text=args.text, memory_type=args.memory_type or "semantic", **scope, **fields)
        saved = await writes.add(new, call.context, limit)
        await call.wrote(saved.position)
        return {**shapes.aggregate(saved.aggregate), "position": saved.position}
    if args.infer:
        raise Unavailable(NO_EXTRACTION)
    assert args.messages is not None
    items = [
        NewMemory(
            text=m.content,
            memory_type=args.memory_type or "episodic",
            **scope,
            **{**fields, "metadata": {**args.metadata, "role": m.role}},
        )
        for m in args.messages
    ]
    results = await writes.add_batch(items, call.context, limit)
    position = max(r.position for r in results)
    await call.wrote(position)
    return {"memories": [shapes.aggregate(r.aggregate) for r in results], "position": position}


def scope_of(call: Call, args: SearchMemories | ListMemories) -> Any:
    return memory_scope(
        call.principal.tenant_id,
        user_id=args.user_id,
        agent_id=args.agent_id,
        run_id=args.run_id,
        memory_type=args.memory_type,
        filters=args.filters,
    )


async def search_memories(call: Call, args: SearchMemories) -> dict[str, Any]:
    call.require("memories:read")
    result = await call.container.reads.search(
        "memories",
        scope_of(call, args),
        args.query,
        mode=args.mode,
        limit=args.limit,
        min_score=args.min_score,
        min_position=await call.min_position(args.min_position),
    )
    return {"results": [shapes.hit(h) for h in result.hits], "mode": args.mode}


async def list_memories(call: Call, args: ListMemories) -> dict[str, Any]:
    call.require("memories:read")
    page = await call.container.reads.list_memories(
        scope_of(call, args),
        order=args.order,
        limit=args.limit,
        cursor=args.cursor,
        include_deleted=args.include_deleted,
        min_position=await call.min_position(args.min_position),
    )
    return {"items": [shapes.row(m) for m in page.items], "next_cursor": page.next_cursor}


async def get_memory(call: Call, args: GetMemory) -> dict[str, Any]:
    call.require("memories:read")
    check_reads(args.version, args.as_of)
    memory = await asyncio.to_thread(
        lambda: call.container.memories.get(
            args.memory_id,
            call.principal.tenant_id,
            version=args.version,
            as_of=args.as_of,
            include_deleted=args.include_deleted,
        )
    )
    return shapes.aggregate(memory)


async def update_memory(call: Call, args: UpdateMemory) -> dict[str, Any]:
    call.require("memories:write")
    names = ("text", "memory_type", "metadata", "valid_from", "valid_to")
    changes = {n: getattr(args, n) for n in names if getattr(args, n) is not UNSET}
    saved = await call.container.memory_writes.update(args.memory_id, changes, call.context, args.expected_version)
    await call.wrote(saved.position)
    return {**shapes.aggregate(saved.aggregate), "position": saved.position}


async def delete_memory(call: Call, args: DeleteMemory) -> dict[str, Any]:
    call.require("memories:delete")
    saved = await call.container.memory_writes.delete(args.memory_id, call.context, args.expected_version)
    await call.wrote(saved.position)
    return {"id": str(args.memory_id), "deleted": True, "version": saved.aggregate.version, "position": saved.position}


async def memory_history(call: Call, args: MemoryId) -> dict[str, Any]:
    call.require("memories:read")
    entries = await asyncio.to_thread(call.container.memories.history, args.memory_id, call.principal.tenant_id)
    return shapes.history(args.memory_id, entries)


async def list_blocks(call: Call, args: ListBlocks) -> dict[str, Any]:
    call.require("blocks:read")
    page = await call.container.lists.blocks(
        call.principal.tenant_id,
        label=args.label,
        agent_id=args.agent_id,
        limit=args.limit,
        cursor=args.cursor,
        min_position=await call.min_position(args.min_position),
    )
    return {"items": [shapes.row(b) for b in page.items], "next_cursor": page.next_cursor}


async def get_block(call: Call, args: GetBlock) -> dict[str, Any]:
    call.require("blocks:read")
    check_reads(args.version, args.as_of)
    tenant = call.principal.tenant_id
    block_id = args.block_id
    if block_id is None:
        if args.agent_id is None or args.label is None:
            raise InvalidInput("block_id", "give block_id, or agent_id and label")
        agent_id, label = args.agent_id, args.label
        block_id = (await asyncio.to_thread(call.container.core_memory.block, agent_id, label, tenant)).id
    block = await asyncio.to_thread(
        lambda: call.container.blocks.get(block_id, tenant, version=args.version, as_of=args.as_of)
    )
    return shapes.aggregate(block)


async def core_memory_append(call: Call, args: CoreMemoryAppend) -> dict[str, Any]:
    call.require("blocks:write")
    core = call.container.core_memory
    saved = await asyncio.to_thread(core.append, args.agent_id, args.label, args.content, call.context)
    await call.wrote(saved.position)
    return {**shapes.aggregate(saved.aggregate), "position": saved.position}


async def core_memory_replace(call: Call, args: CoreMemoryReplace) -> dict[str, Any]:
    call.require("blocks:write")
    core = call.container.core_memory
    saved = await asyncio.to_thread(
        core.replace, args.agent_id, args.label, args.old_content, args.new_content, call.context
    )
    await call.wrote(saved.position)
    return {**shapes.aggregate(saved.aggregate), "position": saved.position}


MEMORY_TOOLS = [
    Tool(
        "add_memory",
        "Remember something: `text`, or the `messages` of a conversation (each stored as an episodic memory). "
        "Scope it with user_id / agent_id / run_id. Answers with the memory and its log `position`.",
        AddMemory,
        add_memory,
    ),
    Tool(
        "search_memories",
        "Find memories relevant to a query (hybrid: meaning and words), within a scope and metadata filters. "
        "Your own earlier writes are always visible.",
        SearchMemories,
        search_memories,
        read_only=True,
    ),
    Tool(
        "get_memory",
        "Read one memory by id: as it is now, at a `version`, or as it was at an instant (`as_of`).",
        GetMemory,
        get_memory,
        read_only=True,
    ),
    Tool(
        "update_memory",
        "Change a memory's text, type, metadata or validity; every change is a new version.",
        UpdateMemory,
        update_memory,
    ),
    Tool("delete_memory", "Delete a memory (its history is kept).", DeleteMemory, delete_memory),
    Tool(
        "list_memories",
        "List memories in a scope, newest first, a page at a time (pass `next_cursor` as `cursor`).",
        ListMemories,
        list_memories,
        read_only=True,
    ),
    Tool(
        "memory_history",
        "Every version of a memory: what changed (old and new values), when, by whom.",
        MemoryId,
        memory_history,
        read_only=True,
    ),
]
BLOCK_TOOLS = [
    Tool(
        "list_blocks",
        "List core-memory blocks (labelled, size-limited texts an agent always sees), e.g. an agent's.",
        ListBlocks,
        list_blocks,
        read_only=True,
    ),
    Tool(
        "get_block",
        "Read a block by id, or an agent's block by label; now, at a version or at an instant.",
        GetBlock,
        get_block,
        read_only=True,
    ),
    Tool(
        "core_memory_append",
        "Append text to one of an agent's blocks (by label); refused past the block's character limit.",
        CoreMemoryAppend,
        core_memory_append,
    ),
    Tool(
        "core_memory_replace",
        "Replace text in one of an agent's blocks (by label): old_content must occur in the block.",
        CoreMemoryReplace,
        core_memory_replace,
    ),
]
TOOLS: list[Tool] = [*MEMORY_TOOLS, *BLOCK_TOOLS, *CHAT_TOOLS]

"""/v1/memories: add, batch add, read (now, at a version, at an instant), edit, delete, restore, history, list."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import UNSET, structs

from agentmem.api.boundary import decode_json_parameter
from agentmem.api.dependencies import provide
from agentmem.api.params import (
    AsOf,
    Cursor,
    IdempotencyKey,
    IfMatch,
    Limit,
    ListOrderParam,
    MinPosition,
    Version,
    check_reads,
    expected_version,
)
from agentmem.api.responses import no_content, written
from agentmem.api.schemas.common import HistoryOut, WriteOut, history_out
from agentmem.api.schemas.jobs import ConsolidateIn, ExtractionQueuedOut
from agentmem.api.schemas.memories import (
    MemoryAdd,
    MemoryBatchCreate,
    MemoryBatchOut,
    MemoryCreate,
    MemoryOut,
    MemoryPageOut,
    MemoryPatch,
    MemoryType,
    MemoryWriteOut,
    memory_fields,
    memory_written,
)
from agentmem.application.authentication import Principal
from agentmem.application.base import Saved
from agentmem.application.job_requests import Jobs
from agentmem.application.jobs import NewConversation, Queued
from agentmem.application.memories import MemoryApplication, NewMemory
from agentmem.application.memory_writes import MemoryWrites
from agentmem.application.reads import Reads
from agentmem.application.scopes import memory_scope
from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.memory import DEFAULT_MEMORY_TYPE, Memory

TEXT_ONLY = ("memory_type", "valid_from", "valid_to")


def new_memory(data: MemoryCreate) -> NewMemory:
    return NewMemory(**{name: getattr(data, name) for name in data.__struct_fields__})


def conversation(data: MemoryAdd) -> NewConversation:
    """The messages of an add, checked to come without the fields only a single text takes."""
    if data.text is not None:
        raise InvalidInput("text", "give text or messages, not both")
    for name in TEXT_ONLY:
        if getattr(data, name) is not None:
            raise InvalidInput(name, f"{name} applies to text; extraction sets it for each memory it finds")
    messages = [{k: v for k, v in structs.asdict(m).items() if v is not None} for m in data.messages or ()]
    return NewConversation(messages, data.user_id, data.agent_id, data.run_id, data.metadata)


def batch_written(results: list[Saved[Memory]]) -> Response[MemoryBatchOut]:
    position = max(r.position for r in results)
    body = MemoryBatchOut(
        memories=[WriteOut(id=str(r.aggregate.id), version=1, position=r.position) for r in results],
        position=position,
    )
    return written(body, position, status_code=HTTP_201_CREATED)


def queued_out(queued: Queued) -> Response[ExtractionQueuedOut]:
    """202 for a queued job: its id, its episode's, its status, and the position of its Created event."""
    job = queued.job
    episode_id = str(job.episode_id) if job.episode_id else None
    body = ExtractionQueuedOut(job_id=str(job.id), episode_id=episode_id, status=job.status, position=queued.position)
    return written(body, queued.position, status_code=HTTP_202_ACCEPTED)


class MemoryController(Controller):
    """Memories of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/memories"
    tags = ["memories"]
    dependencies = {
        "memories": provide("memories"),
        "writes": provide("memory_writes"),
        "reads": provide("reads"),
        "jobs": provide("jobs"),
    }

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        opt={"permission": "memories:write"},
        responses={
            HTTP_202_ACCEPTED: ResponseSpec(
                ExtractionQueuedOut, description="The conversation is queued for extraction."
            )
        },
    )
    async def add(
        self,
        data: MemoryAdd,
        context: Context,
        principal: Principal,
        writes: MemoryWrites,
        jobs: Jobs,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        """Adds a memory (`text`) → 201; or a conversation (`messages`): extracted by the model in a job → 202
        (`infer`, the default; 503 without a model), or each message as an episodic memory → 201 (`infer: false`)."""
        if data.messages is None:
            if data.text is None:
                raise InvalidInput("text", "give text, or messages to remember")
            if data.infer is not None:
                raise InvalidInput("infer", "infer applies to messages")
            fields = {k: getattr(data, k) for k in ("text", "user_id", "agent_id", "run_id", "metadata", *TEXT_ONLY)}
            new = NewMemory(**fields | {"memory_type": data.memory_type or DEFAULT_MEMORY_TYPE})
            return memory_written(await writes.add(new, context, principal.max_memories, idempotency_key), 201)
        said = conversation(data)
        if data.infer is False:
            return batch_written(await writes.add_messages(said, context, principal.max_memories, idempotency_key))
        return queued_out(await jobs.add_conversation(said, context, principal.max_memories, idempotency_key))

    @post("/consolidate", status_code=HTTP_202_ACCEPTED, opt={"permission": "memories:write"})
    async def consolidate(
        self, data: ConsolidateIn, context: Context, principal: Principal, jobs: Jobs
    ) -> Response[ExtractionQueuedOut]:
        """Queues a job that merges near-duplicates and retires contradicted memories of a scope (`dry_run`
        records what it would do); 503 without a model."""
        scope = {"user_id": data.user_id, "agent_id": data.agent_id, "run_id": data.run_id}
        queued = await jobs.consolidate(
            scope,
            context,
            principal.max_memories,
            dry_run=data.dry_run,
            limit=data.limit,
            model=data.model,
            prompt_version=data.prompt_version,
        )
        return queued_out(queued)

    @post("/batch", status_code=HTTP_201_CREATED, opt={"permission": "memories:write"})
    async def add_batch(
        self,
        data: MemoryBatchCreate,
        context: Context,
        principal: Principal,
        writes: MemoryWrites,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[MemoryBatchOut]:
        """Adds up to 1,000 memories in one transaction: all or none."""
        items = [new_memory(m) for m in data.memories]
        return batch_written(await writes.add_batch(items, context, principal.max_memories, idempotency_key))

    @get("/{memory_id:uuid}", sync_to_thread=True, opt={"permission": "memories:read"})
    def get_memory(
        self,
        memory_id: UUID,
        context: Context,
        memories: MemoryApplication,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[MemoryOut]:
        """Reads a memory now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        memory = memories.get(
            memory_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted
        )
        return Response(MemoryOut(**memory_fields(memory)), headers={"ETag": f'"{memory.version}"'})

    @patch("/{memory_id:uuid}", opt={"permission": "memories:write"})
    async def update(
        self, memory_id: UUID, data: MemoryPatch, context: Context, writes: MemoryWrites, if_match: IfMatch = None
    ) -> Response[MemoryWriteOut]:
        """Changes a memory's text, type, metadata or validity; `If-Match` guards against lost updates."""
        changes = {name: getattr(data, name) for name in data.__struct_fields__ if getattr(data, name) is not UNSET}
        return memory_written(await writes.update(memory_id, changes, context, expected_version(if_match)))

    @delete("/{memory_id:uuid}", status_code=HTTP_204_NO_CONTENT, opt={"permission": "memories:delete"})
    async def delete_memory(
        self, memory_id: UUID, context: Context, writes: MemoryWrites, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes a memory: it leaves reads and search; its history stays."""
        saved = await writes.delete(memory_id, context, expected_version(if_match))
        return no_content(saved.position)

    @post("/{memory_id:uuid}/restore", status_code=200, opt={"permission": "memories:delete"})
    async def restore(
        self, memory_id: UUID, context: Context, principal: Principal, writes: MemoryWrites, if_match: IfMatch = None
    ) -> Response[MemoryWriteOut]:
        """Restores a soft-deleted memory (it counts against the memory quota again)."""
        saved = await writes.restore(memory_id, context, principal.max_memories, expected_version(if_match))
        return memory_written(saved)

    @get("/{memory_id:uuid}/history", opt={"permission": "memories:read"})
    async def history(self, memory_id: UUID, context: Context, memories: MemoryApplication) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(memory_id, await asyncio.to_thread(memories.history, memory_id, context.tenant_id))

    @get("/", status_code=200, opt={"permission": "memories:read"})
    async def list_memories(
        self,
        context: Context,
        reads: Reads,
        user_id: Annotated[str | None, Parameter(max_length=255)] = None,
        agent_id: Annotated[str | None, Parameter(max_length=255)] = None,
        run_id: Annotated[str | None, Parameter(max_length=255)] = None,
        memory_type: list[MemoryType] | None = None,
        filters: Annotated[str | None, Parameter(max_length=16_384, description="A metadata filter as JSON.")] = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        valid_at: datetime | None = None,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> MemoryPageOut:
        """Lists memories, newest first by default, with cursor pagination."""
        scope = memory_scope(
            context.tenant_id,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=memory_type,
            filters=decode_json_parameter("filters", filters) if filters is not None else None,
            created_after=created_after,
            created_before=created_before,
            valid_at=valid_at,
        )
        page = await reads.list_memories(
            scope, order=order, limit=limit, cursor=cursor, include_deleted=include_deleted, min_position=min_position
        )
        return MemoryPageOut(items=[MemoryOut(**memory_fields(m)) for m in page.items], next_cursor=page.next_cursor)

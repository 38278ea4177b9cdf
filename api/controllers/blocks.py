"""/v1/blocks: create, read (now, at a version, at an instant), list, edit, append, revert, delete, restore, history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.context import POSITION_HEADER
from agentmem.api.controllers.memories import IfMatch, expected_version
from agentmem.api.controllers.memory_search import ListOrderParam
from agentmem.api.schemas.blocks import (
    BlockAppend,
    BlockCreate,
    BlockOut,
    BlockPageOut,
    BlockPatch,
    BlockRevert,
    BlockWriteOut,
)
from agentmem.api.schemas.common import HistoryChange, HistoryEntryOut, HistoryOut
from agentmem.api.services import Services
from agentmem.application.base import HistoryEntry
from agentmem.application.blocks import NewBlock, SavedBlock
from agentmem.domain.base import Context
from agentmem.domain.block import Block
from agentmem.infrastructure.postgres_blocks import PostgresBlockQueries
from agentmem.projections.blocks import BlockRow

Version = Annotated[int | None, Parameter(ge=1, description="Replay to this version.")]
AsOf = Annotated[datetime | None, Parameter(description="As it was at this instant (ISO-8601 with a time zone).")]
MinPosition = Annotated[int | None, Parameter(ge=0, description="Wait until the list has applied this position.")]


def check_reads(version: int | None, as_of: datetime | None) -> None:
    if version is not None and as_of is not None:
        raise HTTPException(status_code=400, detail="give either version or as_of, not both")
    if as_of is not None and as_of.tzinfo is None:
        raise HTTPException(status_code=400, detail="as_of needs a time zone, e.g. 2026-01-01T00:00:00Z")


def history_out(aggregate_id: UUID, entries: list[HistoryEntry]) -> HistoryOut:
    """Every version of an aggregate, oldest first, in the shape all histories share."""
    return HistoryOut(
        id=str(aggregate_id),
        versions=[
            HistoryEntryOut(
                version=e.version,
                event_type=e.event_type,
                timestamp=e.timestamp.isoformat(),
                actor_id=e.actor_id,
                request_id=e.request_id,
                changes={k: HistoryChange(old=v["old"], new=v["new"]) for k, v in e.changes.items()},
            )
            for e in entries
        ],
    )


def block_out(block: Block | BlockRow) -> BlockOut:
    return BlockOut(**_fields(block))


def _fields(block: Block | BlockRow) -> dict[str, object]:
    timestamps = (
        (block.created_on, block.modified_on) if isinstance(block, Block) else (block.created_at, block.updated_at)
    )
    return {
        "id": str(block.id),
        "version": block.version,
        "label": block.label,
        "value": block.value,
        "size": len(block.value),
        "limit": block.limit,
        "description": block.description,
        "read_only": block.read_only,
        "metadata": block.metadata,
        "deleted": block.deleted,
        "created_at": timestamps[0],
        "updated_at": timestamps[1],
        "created_by": block.created_by,
        "updated_by": block.updated_by,
    }


def written(saved: SavedBlock, status_code: int = 200) -> Response[BlockWriteOut]:
    return Response(
        BlockWriteOut(**_fields(saved.block), position=saved.position),
        status_code=status_code,
        headers={POSITION_HEADER: str(saved.position), "ETag": f'"{saved.block.version}"'},
    )


async def wait_for_lists(services: Services, min_position: int | None, *names: str) -> None:
    """Read-your-writes for plain read models: waits until each has applied `min_position`."""
    if min_position:
        assert services.waiter is not None
        for name in names:
            await services.waiter.wait_for(name, min_position, services.settings.read_wait_timeout)


class BlockController(Controller):
    """Core-memory blocks of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/blocks"
    tags = ["blocks"]

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "blocks:write"})
    def create(self, data: BlockCreate, context: Context, services: Services) -> Response[BlockWriteOut]:
        """Creates a block; a value longer than the limit gets 422."""
        new = NewBlock(
            label=data.label,
            value=data.value,
            limit=data.limit,
            description=data.description,
            read_only=data.read_only,
            metadata=data.metadata,
        )
        return written(services.blocks.create(new, context), HTTP_201_CREATED)

    @get("/{block_id:uuid}", sync_to_thread=True, opt={"permission": "blocks:read"})
    def get_block(
        self,
        block_id: UUID,
        context: Context,
        services: Services,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[BlockOut]:
        """Reads a block now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        block = services.blocks.get(
            block_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted
        )
        return Response(block_out(block), headers={"ETag": f'"{block.version}"'})

    @get("/", opt={"permission": "blocks:read"})
    async def list_blocks(
        self,
        context: Context,
        services: Services,
        label: Annotated[str | None, Parameter(max_length=64)] = None,
        agent_id: Annotated[UUID | None, Parameter(description="Only the blocks attached to this agent.")] = None,
        order: ListOrderParam = "created_desc",
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Parameter(max_length=512)] = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> BlockPageOut:
        """Lists blocks, newest first by default, by label and by agent, with cursor pagination."""
        await wait_for_lists(services, min_position, "blocks", *(["agents"] if agent_id else []))
        assert services.pool is not None
        page = await PostgresBlockQueries(services.pool).list(
            context.tenant_id,
            label=label,
            agent_id=agent_id,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
        )
        return BlockPageOut(items=[block_out(b) for b in page.items], next_cursor=page.next_cursor)

    @patch("/{block_id:uuid}", sync_to_thread=True, opt={"permission": "blocks:write"})
    def update(
        self, block_id: UUID, data: BlockPatch, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Replaces the value and/or changes other fields; `If-Match` guards against lost updates."""
        changes = {name: getattr(data, name) for name in data.__struct_fields__ if getattr(data, name) is not UNSET}
        return written(services.blocks.update(block_id, changes, context, expected_version(if_match)))

    @post("/{block_id:uuid}/append", status_code=200, sync_to_thread=True, opt={"permission": "blocks:write"})
    def append(
        self, block_id: UUID, data: BlockAppend, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Adds text at the end of the value; past the limit gets 422 naming the limit and the size."""
        saved = services.blocks.append(block_id, data.text, context, data.separator, expected_version(if_match))
        return written(saved)

    @post("/{block_id:uuid}/revert", status_code=200, sync_to_thread=True, opt={"permission": "blocks:write"})
    def revert(
        self, block_id: UUID, data: BlockRevert, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Gives the block back the value it had at a version, as a new version (history stays append-only)."""
        return written(services.blocks.revert(block_id, data.version, context, expected_version(if_match)))

    @delete(
        "/{block_id:uuid}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "blocks:delete"}
    )
    def delete_block(
        self, block_id: UUID, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes a block: agents stop seeing it; its history stays."""
        saved = services.blocks.delete(block_id, context, expected_version(if_match))
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={POSITION_HEADER: str(saved.position)})

    @post("/{block_id:uuid}/restore", status_code=200, sync_to_thread=True, opt={"permission": "blocks:delete"})
    def restore(
        self, block_id: UUID, context: Context, services: Services, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Restores a soft-deleted block."""
        return written(services.blocks.restore(block_id, context, expected_version(if_match)))

    @get("/{block_id:uuid}/history", sync_to_thread=True, opt={"permission": "blocks:read"})
    def history(self, block_id: UUID, context: Context, services: Services) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(block_id, services.blocks.history(block_id, context.tenant_id))

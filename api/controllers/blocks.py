"""/v1/blocks: create, read (now, at a version, at an instant), list, edit, append, revert, delete, restore, history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from agentmem.api.dependencies import provide
from agentmem.api.params import (
    AsOf,
    Cursor,
    IfMatch,
    Limit,
    ListOrderParam,
    MinPosition,
    Version,
    check_reads,
    expected_version,
)
from agentmem.api.responses import no_content
from agentmem.api.schemas.blocks import (
    BlockAppend,
    BlockCreate,
    BlockOut,
    BlockPageOut,
    BlockPatch,
    BlockRevert,
    BlockWriteOut,
    block_out,
    block_written,
)
from agentmem.api.schemas.common import HistoryOut, history_out
from agentmem.application.block_rewrite import BlockWrites
from agentmem.application.blocks import BlockApplication, NewBlock
from agentmem.application.lists import Lists
from agentmem.domain.base import Context


class BlockController(Controller):
    """Core-memory blocks of the caller's tenant, each an event-sourced aggregate."""

    path = "/v1/blocks"
    tags = ["blocks"]
    dependencies = {"blocks": provide("blocks"), "lists": provide("lists"), "writes": provide("block_writes")}

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, opt={"permission": "blocks:write"})
    def create(self, data: BlockCreate, context: Context, blocks: BlockApplication) -> Response[BlockWriteOut]:
        """Creates a block; a value longer than the limit gets 422."""
        new = NewBlock(**{name: getattr(data, name) for name in data.__struct_fields__})
        return block_written(blocks.create(new, context), HTTP_201_CREATED)

    @get("/{block_id:uuid}", sync_to_thread=True, opt={"permission": "blocks:read"})
    def get_block(
        self,
        block_id: UUID,
        context: Context,
        blocks: BlockApplication,
        version: Version = None,
        as_of: AsOf = None,
        include_deleted: bool = False,
    ) -> Response[BlockOut]:
        """Reads a block now, at a version (`?version=N`) or at an instant (`?as_of=`)."""
        check_reads(version, as_of)
        block = blocks.get(block_id, context.tenant_id, version=version, as_of=as_of, include_deleted=include_deleted)
        return Response(block_out(block), headers={"ETag": f'"{block.version}"'})

    @get("/", opt={"permission": "blocks:read"})
    async def list_blocks(
        self,
        context: Context,
        lists: Lists,
        label: Annotated[str | None, Parameter(max_length=64)] = None,
        agent_id: Annotated[UUID | None, Parameter(description="Only the blocks attached to this agent.")] = None,
        order: ListOrderParam = "created_desc",
        limit: Limit = 20,
        cursor: Cursor = None,
        include_deleted: bool = False,
        min_position: MinPosition = None,
    ) -> BlockPageOut:
        """Lists blocks, newest first by default, by label and by agent, with cursor pagination."""
        page = await lists.blocks(
            context.tenant_id,
            label=label,
            agent_id=agent_id,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            min_position=min_position,
        )
        return BlockPageOut(items=[block_out(b) for b in page.items], next_cursor=page.next_cursor)

    @patch("/{block_id:uuid}", opt={"permission": "blocks:write"})
    async def update(
        self, block_id: UUID, data: BlockPatch, context: Context, writes: BlockWrites, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Replaces the value and/or changes other fields; `If-Match` guards against lost updates; `rewrite: true`
        has the language model condense a value past the limit (422 without a model or if it still does not fit)."""
        changes = {
            name: getattr(data, name)
            for name in data.__struct_fields__
            if name != "rewrite" and getattr(data, name) is not UNSET
        }
        saved = await writes.update(block_id, changes, context, expected_version(if_match), data.rewrite)
        return block_written(saved)

    @post("/{block_id:uuid}/append", status_code=200, opt={"permission": "blocks:write"})
    async def append(
        self, block_id: UUID, data: BlockAppend, context: Context, writes: BlockWrites, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Adds text at the end of the value; past the limit gets 422 naming the limit and the size, unless
        `rewrite: true` has the language model condense value and text to fit."""
        saved = await writes.append(
            block_id, data.text, context, data.separator, expected_version(if_match), data.rewrite
        )
        return block_written(saved)

    @post("/{block_id:uuid}/revert", status_code=200, sync_to_thread=True, opt={"permission": "blocks:write"})
    def revert(
        self, block_id: UUID, data: BlockRevert, context: Context, blocks: BlockApplication, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Gives the block back the value it had at a version, as a new version (history stays append-only)."""
        return block_written(blocks.revert(block_id, data.version, context, expected_version(if_match)))

    @delete(
        "/{block_id:uuid}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True, opt={"permission": "blocks:delete"}
    )
    def delete_block(
        self, block_id: UUID, context: Context, blocks: BlockApplication, if_match: IfMatch = None
    ) -> Response[None]:
        """Soft-deletes a block: agents stop seeing it; its history stays."""
        saved = blocks.delete(block_id, context, expected_version(if_match))
        return no_content(saved.position)

    @post("/{block_id:uuid}/restore", status_code=200, sync_to_thread=True, opt={"permission": "blocks:delete"})
    def restore(
        self, block_id: UUID, context: Context, blocks: BlockApplication, if_match: IfMatch = None
    ) -> Response[BlockWriteOut]:
        """Restores a soft-deleted block."""
        return block_written(blocks.restore(block_id, context, expected_version(if_match)))

    @get("/{block_id:uuid}/history", sync_to_thread=True, opt={"permission": "blocks:read"})
    def history(self, block_id: UUID, context: Context, blocks: BlockApplication) -> HistoryOut:
        """Every version: event type, time, actor, request id, and each changed field's old and new value."""
        return history_out(block_id, blocks.history(block_id, context.tenant_id))

"""Request and response bodies of /v1/blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Response
from msgspec import UNSET, Meta, Struct, UnsetType, structs

from agentmem.api.responses import written
from agentmem.application.base import Saved
from agentmem.domain.block import DEFAULT_LIMIT, MAX_DESCRIPTION_CHARS, MAX_LIMIT, Block
from agentmem.projections.blocks import BlockRow

Label = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$",
        description="`persona`, `human` or your own: a letter, then up to 63 letters, digits, `_`, `.` or `-`.",
    ),
]
Limit = Annotated[
    int, Meta(ge=1, le=MAX_LIMIT, description=f"The most characters the value may hold (default {DEFAULT_LIMIT:,}).")
]
Value = Annotated[str, Meta(max_length=MAX_LIMIT, description="The block's text; never longer than its limit.")]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)]


class BlockCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A block to create."""

    label: Label
    value: Value = ""
    limit: Limit = DEFAULT_LIMIT
    description: Description | None = None
    read_only: bool = False
    metadata: dict[str, Any] = {}


class BlockPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; absent fields stay. A read-only block accepts only a patch that sets read_only to false."""

    value: Value | UnsetType = UNSET
    limit: Limit | UnsetType = UNSET
    label: Label | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    read_only: bool | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    rewrite: bool = False
    """A value past the limit is condensed by the language model to fit, instead of refused."""


class BlockAppend(Struct, forbid_unknown_fields=True, kw_only=True):
    """Text to add at the end of the value; `separator` goes before it when the value is not empty."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_LIMIT)]
    separator: Annotated[str, Meta(max_length=16)] = "\n"
    rewrite: bool = False
    """Past the limit, the language model condenses the value and the text together to fit, instead of a 422."""


class BlockRevert(Struct, forbid_unknown_fields=True, kw_only=True):
    """The version whose value the block gets back (as a new version)."""

    version: Annotated[int, Meta(ge=1)]


class BlockOut(Struct):
    """A block as stored, at one version; `size` is the value's length in characters."""

    id: str
    version: int
    label: str
    value: str
    size: int
    limit: int
    description: str | None
    read_only: bool
    metadata: dict[str, Any]
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class BlockWriteOut(BlockOut):
    """A block after a write, with the log position to pass as `min_position` to later reads."""

    position: int


class BlockPageOut(Struct):
    """One page of blocks; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[BlockOut]
    next_cursor: str | None


def block_out(block: Block | BlockRow) -> BlockOut:
    """A block answer from the aggregate (by-id reads) or a read-model row (lists)."""
    created, updated = (
        (block.created_on, block.modified_on) if isinstance(block, Block) else (block.created_at, block.updated_at)
    )
    return BlockOut(
        id=str(block.id),
        version=block.version,
        label=block.label,
        value=block.value,
        size=len(block.value),
        limit=block.limit,
        description=block.description,
        read_only=block.read_only,
        metadata=block.metadata,
        deleted=block.deleted,
        created_at=created,
        updated_at=updated,
        created_by=block.created_by,
        updated_by=block.updated_by,
    )


def block_written(saved: Saved[Block], status_code: int = 200) -> Response[BlockWriteOut]:
    """The answer to a write on a block: the block, the position to read after, its version as ETag."""
    body = BlockWriteOut(**structs.asdict(block_out(saved.aggregate)), position=saved.position)
    return written(body, saved.position, saved.aggregate.version, status_code)

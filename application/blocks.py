"""Blocks: create, edit within the limit, append, revert, delete, restore; reads by id, version, instant and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from agentmem.application.base import AgentMemApplication, HistoryEntry, NotFoundError
from agentmem.domain.base import Context
from agentmem.domain.block import DEFAULT_LIMIT, Block, InvalidBlockError


class BlockNotFoundError(NotFoundError):
    """No such block for this tenant."""


@dataclass(frozen=True, slots=True)
class NewBlock:
    """What a caller gives to create a block."""

    label: str
    value: str = ""
    limit: int = DEFAULT_LIMIT
    description: str | None = None
    read_only: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SavedBlock:
    """A block as a command left it, and the log position of its last event."""

    block: Block
    position: int


class BlockApplication(AgentMemApplication):
    """Commands and by-id reads on core-memory blocks."""

    aggregate_cache_size = 1_000

    def create(self, new: NewBlock, context: Context) -> SavedBlock:
        """Creates a block; a value longer than the limit is refused."""
        block = Block.create(
            id=uuid4(),
            context=context,
            label=new.label,
            value=new.value,
            limit=new.limit,
            description=new.description,
            read_only=new.read_only,
            metadata=new.metadata,
        )
        return SavedBlock(block, self.record(block))

    def update(
        self, block_id: UUID, changes: dict[str, Any], context: Context, expected_version: int | None = None
    ) -> SavedBlock:
        """Changes the value, the limit and other fields together; a stale expected_version is a conflict."""
        return self._change(block_id, context, expected_version, lambda b: b.update(context, changes))

    def append(
        self, block_id: UUID, text: str, context: Context, separator: str = "\n", expected_version: int | None = None
    ) -> SavedBlock:
        """Adds text at the end of the value, within the limit."""

        def append(block: Block) -> bool:
            block.append(context, text, separator)
            return True

        return self._change(block_id, context, expected_version, append)

    def revert(
        self, block_id: UUID, to_version: int, context: Context, expected_version: int | None = None
    ) -> SavedBlock:
        """Records a new version whose value is the value at `to_version`; history stays append-only."""
        old = self.load(Block, block_id, context.tenant_id, version=to_version)
        if old is None:
            self._get_block(block_id, context.tenant_id)
            raise InvalidBlockError("version", f"block {block_id} has no version {to_version}")
        return self._change(block_id, context, expected_version, lambda b: b.revert(context, to_version, old.value))

    def delete(self, block_id: UUID, context: Context, expected_version: int | None = None) -> SavedBlock:
        """Soft-deletes a block: agents stop seeing it."""

        def delete(block: Block) -> bool:
            if block.deleted:
                raise BlockNotFoundError(f"block {block_id} not found")
            block.delete(context)
            return True

        return self._change(block_id, context, expected_version, delete)

    def restore(self, block_id: UUID, context: Context, expected_version: int | None = None) -> SavedBlock:
        """Restores a soft-deleted block."""

        def restore(block: Block) -> bool:
            block.restore(context)
            return True

        return self._change(block_id, context, expected_version, restore)

    def get(
        self,
        block_id: UUID,
        tenant_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Block:
        """The block now, at a version, or at an instant; deleted ones only when asked for."""
        block = self.load(Block, block_id, tenant_id, version=version, as_of=as_of)
        if block is None or (block.deleted and not include_deleted and version is None):
            raise BlockNotFoundError(f"block {block_id} not found")
        return block

    def history(self, block_id: UUID, tenant_id: str) -> list[HistoryEntry]:
        """Every version of the block, with who changed which fields, in which request."""
        self._get_block(block_id, tenant_id)
        return self.history_of(block_id, Block.state)

    def _get_block(self, block_id: UUID, tenant_id: str) -> Block:
        block = self.load(Block, block_id, tenant_id)
        if block is None:
            raise BlockNotFoundError(f"block {block_id} not found") from None
        return block

    def _change(self, block_id: UUID, context: Context, expected_version: int | None, change: Any) -> SavedBlock:
        block, position = self.change(
            Block,
            block_id,
            context,
            expected_version,
            change,
            lambda: BlockNotFoundError(f"block {block_id} not found"),
        )
        return SavedBlock(block, position)

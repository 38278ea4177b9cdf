"""Blocks: create, edit within the limit, append, revert, delete, restore; reads by id, version, instant and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from agentmem.application.base import AgentMemApplication, HistoryEntry, NotFoundError, Saved
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


class BlockApplication(AgentMemApplication):
    """Commands and by-id reads on core-memory blocks."""

    aggregate_cache_size = 1_000

    def create(self, new: NewBlock, context: Context) -> Saved[Block]:
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
        return Saved(block, self.record(block))

    def update(
        self,
        block_id: UUID,
        changes: dict[str, Any],
        context: Context,
        expected_version: int | None = None,
        rewritten: dict[str, Any] | None = None,
    ) -> Saved[Block]:
        """Changes the value, the limit and other fields together; a stale expected_version is a conflict.

        `rewritten` (the provenance of a model's condensed value) records the new value as ValueRewritten.
        """
        return self._change(block_id, context, expected_version, lambda b: b.update(context, changes, rewritten))

    def append(
        self, block_id: UUID, text: str, context: Context, separator: str = "\n", expected_version: int | None = None
    ) -> Saved[Block]:
        """Adds text at the end of the value, within the limit."""

        def append(block: Block) -> bool:
            block.append(context, text, separator)
            return True

        return self._change(block_id, context, expected_version, append)

    def revert(
        self, block_id: UUID, to_version: int, context: Context, expected_version: int | None = None
    ) -> Saved[Block]:
        """Records a new version whose value is the value at `to_version`; history stays append-only."""
        old = self.load(Block, block_id, context.tenant_id, version=to_version)
        if old is None:
            self.get_live(Block, block_id, context.tenant_id, BlockNotFoundError)
            raise InvalidBlockError("version", f"block {block_id} has no version {to_version}")
        return self._change(block_id, context, expected_version, lambda b: b.revert(context, to_version, old.value))

    def delete(self, block_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Block]:
        """Soft-deletes a block: agents stop seeing it."""

        def delete(block: Block) -> bool:
            block.delete(context)
            return True

        return self._change(block_id, context, expected_version, delete)

    def restore(self, block_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Block]:
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
        return self.read(
            Block,
            block_id,
            tenant_id,
            BlockNotFoundError,
            version=version,
            as_of=as_of,
            include_deleted=include_deleted,
        )

    def history(self, block_id: UUID, tenant_id: str) -> list[HistoryEntry]:
        """Every version of the block, with who changed which fields, in which request."""
        self.get_live(Block, block_id, tenant_id, BlockNotFoundError)
        return self.history_of(block_id, Block.state)

    def _change(self, block_id: UUID, context: Context, expected_version: int | None, change: Any) -> Saved[Block]:
        return self.change(Block, block_id, context, expected_version, change, BlockNotFoundError)

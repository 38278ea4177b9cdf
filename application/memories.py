"""Memories: add (single, batch, idempotent), edit, delete, restore; reads by id, version, instant and history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.persistence import IntegrityError

from agentmem.application.base import (
    AgentMemApplication,
    ApplicationError,
    HistoryEntry,
    IdempotencyKeyReusedError,
    NotFoundError,
    Saved,
    stamp_trace,
)
from agentmem.application.group_commit import GroupCommit
from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.memory import DEFAULT_MEMORY_TYPE, Memory

MAX_BATCH = 1_000
IDEMPOTENCY_NAMESPACE = UUID("6f1c2a8e-0a57-4d0b-9a53-6a0f3f1b2c11")


class MemoryNotFoundError(NotFoundError):
    """No such memory for this tenant."""


class BatchTooLargeError(ApplicationError, InvalidInput):
    """A batch holds more memories than MAX_BATCH."""


@dataclass(frozen=True, slots=True)
class NewMemory:
    """What a caller gives to add a memory."""

    text: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    memory_type: str = DEFAULT_MEMORY_TYPE
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def matches(self, memory: Memory) -> bool:
        """True when the memory was created from exactly these fields (for idempotent retries)."""
        state = memory.state()
        return all(state[name] == getattr(self, name) for name in NEW_MEMORY_FIELDS)


NEW_MEMORY_FIELDS = tuple(NewMemory.__dataclass_fields__)


def idempotent_id(tenant_id: str, key: str, index: int | None = None) -> UUID:
    """The id a memory gets from an idempotency key: the same key always names the same memory."""
    name = f"{tenant_id}\x1f{key}" if index is None else f"{tenant_id}\x1f{key}\x1f{index}"
    return uuid5(IDEMPOTENCY_NAMESPACE, name)


class MemoryApplication(AgentMemApplication):
    """Commands and by-id reads on memories."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit(self.record_each)

    def add(self, new: NewMemory, context: Context, idempotency_key: str | None = None) -> Saved[Memory]:
        """Adds one memory; the same idempotency key and body again returns the first result."""
        memory_id = idempotent_id(context.tenant_id, idempotency_key) if idempotency_key else uuid4()
        memory = self._create(memory_id, new, context)
        try:
            # stamped in the caller's thread: the group commit may save these events from another caller's
            position = self.group_commit.save(stamp_trace(memory.collect_events()))
        except IntegrityError:
            if idempotency_key is None:
                raise
            return self._replay(memory_id, new, context)
        return Saved(memory, position)

    def add_batch(
        self, items: Sequence[NewMemory], context: Context, idempotency_key: str | None = None
    ) -> list[Saved[Memory]]:
        """Adds up to MAX_BATCH memories in one transaction: all of them or none."""
        if len(items) > MAX_BATCH:
            raise BatchTooLargeError("memories", f"a batch holds at most {MAX_BATCH} memories, got {len(items)}")
        ids = [
            idempotent_id(context.tenant_id, idempotency_key, index) if idempotency_key else uuid4()
            for index in range(len(items))
        ]
        memories = [self._create(memory_id, new, context) for memory_id, new in zip(ids, items, strict=True)]
        if not memories:
            return []
        try:
            recordings = self.save(*memories)
        except IntegrityError:
            if idempotency_key is None:
                raise
            return [self._replay(memory_id, new, context) for memory_id, new in zip(ids, items, strict=True)]
        return [Saved(m, r.notification.id) for m, r in zip(memories, recordings, strict=True)]

    def update(
        self, memory_id: UUID, changes: dict[str, Any], context: Context, expected_version: int | None = None
    ) -> Saved[Memory]:
        """Changes fields; with expected_version, a stale version raises VersionConflictError."""
        return self._change(memory_id, context, expected_version, lambda m: m.update(context, changes))

    def delete(self, memory_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Memory]:
        """Soft-deletes a memory (a deleted one is refused by the domain: MemoryDeletedError)."""

        def delete(memory: Memory) -> bool:
            memory.delete(context)
            return True

        return self._change(memory_id, context, expected_version, delete)

    def restore(self, memory_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Memory]:
        """Restores a soft-deleted memory."""

        def restore(memory: Memory) -> bool:
            memory.restore(context)
            return True

        return self._change(memory_id, context, expected_version, restore)

    def get(
        self,
        memory_id: UUID,
        tenant_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Memory:
        """The memory now, at a version, or at an instant; deleted ones only when asked for."""
        return self.read(
            Memory,
            memory_id,
            tenant_id,
            MemoryNotFoundError,
            version=version,
            as_of=as_of,
            include_deleted=include_deleted,
        )

    def history(self, memory_id: UUID, tenant_id: str) -> list[HistoryEntry]:
        """Every version of the memory, with who changed which fields, in which request."""
        self.get_live(Memory, memory_id, tenant_id, MemoryNotFoundError)
        return self.history_of(memory_id, Memory.state)

    @staticmethod
    def _create(memory_id: UUID, new: NewMemory, context: Context) -> Memory:
        return Memory.create(id=memory_id, context=context, **{name: getattr(new, name) for name in NEW_MEMORY_FIELDS})

    def _replay(self, memory_id: UUID, new: NewMemory, context: Context) -> Saved[Memory]:
        original = self.load(Memory, memory_id, context.tenant_id, version=1)
        if original is None or not new.matches(original):
            raise IdempotencyKeyReusedError("this Idempotency-Key was already used with a different request")
        return Saved(original, self.position_of(memory_id, 1))

    def _change(
        self, memory_id: UUID, context: Context, expected_version: int | None, change: Callable[[Memory], bool]
    ) -> Saved[Memory]:
        return self.change(Memory, memory_id, context, expected_version, change, MemoryNotFoundError)

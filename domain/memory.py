"""The memory aggregate: one remembered fact, episode or document, versioned by its events."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.metadata import check_metadata

MEMORY_TYPES = ("core", "episodic", "semantic", "procedural", "resource", "knowledge")
DEFAULT_MEMORY_TYPE = "semantic"
MAX_TEXT_CHARS = 20_000
MAX_SCOPE_ID_CHARS = 255
EDITABLE_FIELDS = ("text", "memory_type", "metadata", "valid_from", "valid_to")


class MemoryRuleError(DomainError):
    """A memory rule refused a change."""


class InvalidMemoryError(MemoryRuleError, InvalidInput):
    """A field value breaks a memory rule; `field` names it."""


class MemoryDeletedError(MemoryRuleError, Conflict):
    """The memory is deleted: restore it before editing it."""


class MemoryNotDeletedError(MemoryRuleError, Conflict):
    """Only a deleted memory can be restored."""


def check_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidMemoryError("text", "text must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidMemoryError("text", f"text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


def check_memory_type(memory_type: str) -> str:
    if memory_type not in MEMORY_TYPES:
        raise InvalidMemoryError("memory_type", f"memory_type must be one of {', '.join(MEMORY_TYPES)}")
    return memory_type


def check_scope_id(field: str, value: str | None) -> str | None:
    if value is not None and (not value or len(value) > MAX_SCOPE_ID_CHARS):
        raise InvalidMemoryError(field, f"{field} must be 1 to {MAX_SCOPE_ID_CHARS} characters")
    return value


def check_validity(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise InvalidMemoryError("valid_to", "valid_to must not be before valid_from")


def _no_provenance(state: dict[str, Any]) -> None:
    """Version 1 of the event had no provenance: it was written by a person through the API."""
    state["provenance"] = None


class Memory(TenantAggregate):
    """One memory of a tenant, optionally scoped to a user, an agent and a run.

    Events written by a job (extraction, consolidation) carry `provenance`: where the change came from (job,
    episode, source messages, provider, model, prompt version); events written through the API carry None.
    """

    class Created(TenantAggregate.Created):
        class_version = 2
        upcast_v1_v2 = staticmethod(_no_provenance)
        text: str
        user_id: str | None
        agent_id: str | None
        run_id: str | None
        memory_type: str
        metadata: dict[str, Any]
        valid_from: datetime | None
        valid_to: datetime | None
        provenance: dict[str, Any] | None

    class Updated(TenantAggregate.Event):
        class_version = 2
        upcast_v1_v2 = staticmethod(_no_provenance)
        changes: dict[str, Any]
        provenance: dict[str, Any] | None

    class Deleted(TenantAggregate.Event):
        class_version = 2
        upcast_v1_v2 = staticmethod(_no_provenance)
        provenance: dict[str, Any] | None

    class Restored(TenantAggregate.Event):
        pass

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        text: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory_type: str = DEFAULT_MEMORY_TYPE,
        metadata: dict[str, Any] | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> Memory:
        """Checks every rule, then records Created."""
        metadata = {} if metadata is None else metadata
        check_text(text)
        check_memory_type(memory_type)
        check_metadata(metadata, InvalidMemoryError)
        for field, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
            check_scope_id(field, value)
        check_validity(valid_from, valid_to)
        return cls(
            id=id,
            text=text,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            memory_type=memory_type,
            metadata=metadata,
            valid_from=valid_from,
            valid_to=valid_to,
            provenance=provenance,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        text: str,
        user_id: str | None,
        agent_id: str | None,
        run_id: str | None,
        memory_type: str,
        metadata: dict[str, Any],
        valid_from: datetime | None,
        valid_to: datetime | None,
        provenance: dict[str, Any] | None,  # noqa: ARG002 - kept in the event only
    ) -> None:
        self.tenant_id = tenant_id
        self.text = text
        self.user_id = user_id
        self.agent_id = agent_id
        self.run_id = run_id
        self.memory_type = memory_type
        self.metadata = metadata
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.deleted = False
        self.created_by = actor_id
        self.updated_by = actor_id

    def state(self) -> dict[str, Any]:
        """The memory's fields as a plain dict (without id, version and timestamps)."""
        return {
            "text": self.text,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "memory_type": self.memory_type,
            "metadata": self.metadata,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "deleted": self.deleted,
        }

    def update(self, context: Context, changes: dict[str, Any], provenance: dict[str, Any] | None = None) -> bool:
        """Changes editable fields; records Updated with only the fields that differ. False if none did."""
        if self.deleted:
            raise MemoryDeletedError("the memory is deleted; restore it before editing it")
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidMemoryError(field, f"{field} cannot be changed")
        if "text" in changes:
            check_text(changes["text"])
        if "memory_type" in changes:
            check_memory_type(changes["memory_type"])
        if "metadata" in changes:
            check_metadata(changes["metadata"], InvalidMemoryError)
        check_validity(changes.get("valid_from", self.valid_from), changes.get("valid_to", self.valid_to))
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        self._updated(changes=differing, provenance=provenance, **context.event_fields())
        return True

    @event(Updated)
    def _updated(
        self,
        changes: dict[str, Any],
        provenance: dict[str, Any] | None,  # noqa: ARG002
        tenant_id: str,  # noqa: ARG002
        actor_id: str,
        request_id: str,  # noqa: ARG002
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_by = actor_id

    def delete(self, context: Context, provenance: dict[str, Any] | None = None) -> None:
        """Soft delete: the memory leaves reads and search until it is restored."""
        if self.deleted:
            raise MemoryDeletedError("the memory is already deleted")
        self._deleted(provenance=provenance, **context.event_fields())

    @event(Deleted)
    def _deleted(self, provenance: dict[str, Any] | None, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True
        self.updated_by = actor_id

    def restore(self, context: Context) -> None:
        """Undoes a soft delete."""
        if not self.deleted:
            raise MemoryNotDeletedError("the memory is not deleted")
        self._restored(**context.event_fields())

    @event(Restored)
    def _restored(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = False
        self.updated_by = actor_id

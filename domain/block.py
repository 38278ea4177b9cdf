"""The block aggregate: a labelled piece of core memory that agents see in their context, within a size limit."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.metadata import check_metadata

DEFAULT_LIMIT = 5_000
MAX_LIMIT = 100_000
MAX_DESCRIPTION_CHARS = 2_000
LABEL_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
DETAIL_FIELDS = ("label", "description", "read_only", "metadata")
EDITABLE_FIELDS = ("value", "limit", *DETAIL_FIELDS)


class BlockRuleError(DomainError):
    """A block rule refused a change."""


class InvalidBlockError(BlockRuleError, InvalidInput):
    """A field value breaks a block rule; `field` names it."""


class BlockLimitExceededError(InvalidBlockError):
    """The value would be longer than the block's limit; names both."""

    def __init__(self, limit: int, size: int, field: str = "value") -> None:
        message = f"the value would be {size:,} characters; the block's limit is {limit:,}"
        super().__init__(field, message, limit=limit, size=size)
        self.limit = limit
        self.size = size


class BlockReadOnlyError(BlockRuleError, Conflict):
    """The block is read-only: set read_only to false before editing it."""


class BlockDeletedError(BlockRuleError, Conflict):
    """The block is deleted: restore it before editing it."""


class BlockNotDeletedError(BlockRuleError, Conflict):
    """Only a deleted block can be restored."""


def check_label(label: str) -> str:
    if not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label):
        raise InvalidBlockError(
            "label", "label must start with a letter and hold 1 to 64 letters, digits, '_', '.' or '-'"
        )
    return label


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidBlockError("limit", f"limit must be a whole number of characters from 1 to {MAX_LIMIT:,}")
    return limit


def check_value(value: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidBlockError("value", "value must be a string")
    if len(value) > limit:
        raise BlockLimitExceededError(limit, len(value))
    return value


def check_description(description: str | None) -> str | None:
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS):
        raise InvalidBlockError("description", f"description must be at most {MAX_DESCRIPTION_CHARS:,} characters")
    return description


def _check_detail(name: str, value: Any) -> None:
    if name == "label":
        check_label(value)
    elif name == "description":
        check_description(value)
    elif name == "metadata":
        check_metadata(value, InvalidBlockError)
    elif not isinstance(value, bool):
        raise InvalidBlockError("read_only", "read_only must be true or false")


class Block(TenantAggregate):
    """A core-memory block of a tenant (`persona`, `human`, …); agents attach it, several may share it."""

    class Created(TenantAggregate.Created):
        label: str
        value: str
        limit: int
        description: str | None
        read_only: bool
        metadata: dict[str, Any]

    class ValueReplaced(TenantAggregate.Event):
        value: str

    class ValueAppended(TenantAggregate.Event):
        text: str

    class ValueRewritten(TenantAggregate.Event):
        """The value a language model condensed to fit the limit; `provenance` names the model and the prompt."""

        value: str
        provenance: dict[str, Any]

    class LimitChanged(TenantAggregate.Event):
        limit: int

    class DetailsChanged(TenantAggregate.Event):
        changes: dict[str, Any]

    class Reverted(TenantAggregate.Event):
        to_version: int
        value: str

    class Deleted(TenantAggregate.Event):
        pass

    class Restored(TenantAggregate.Event):
        pass

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        label: str,
        value: str = "",
        limit: int = DEFAULT_LIMIT,
        description: str | None = None,
        read_only: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> Block:
        """Checks every rule, then records Created."""
        metadata = {} if metadata is None else metadata
        for name, detail in (("label", label), ("description", description), ("read_only", read_only)):
            _check_detail(name, detail)
        check_metadata(metadata, InvalidBlockError)
        check_value(value, check_limit(limit))
        return cls(
            id=id,
            label=label,
            value=value,
            limit=limit,
            description=description,
            read_only=read_only,
            metadata=metadata,
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
        label: str,
        value: str,
        limit: int,
        description: str | None,
        read_only: bool,
        metadata: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.label = label
        self.value = value
        self.limit = limit
        self.description = description
        self.read_only = read_only
        self.metadata = metadata
        self.deleted = False
        self.created_by = actor_id
        self.updated_by = actor_id

    @property
    def size(self) -> int:
        """The value's length in characters."""
        return len(self.value)

    def state(self) -> dict[str, Any]:
        """The block's fields as a plain dict (without id, version and timestamps)."""
        return {
            "label": self.label,
            "value": self.value,
            "limit": self.limit,
            "description": self.description,
            "read_only": self.read_only,
            "metadata": self.metadata,
            "deleted": self.deleted,
        }

    def _check_editable(self, unlocking: bool = False) -> None:
        if self.deleted:
            raise BlockDeletedError("the block is deleted; restore it before editing it")
        if self.read_only and not unlocking:
            raise BlockReadOnlyError("the block is read-only; set read_only to false before editing it")

    def update(self, context: Context, changes: dict[str, Any], rewritten: dict[str, Any] | None = None) -> bool:
        """Changes any editable fields at once (limit and value checked together). False if none differ.

        `rewritten` says a model condensed the new value (its provenance): recorded as ValueRewritten.
        """
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidBlockError(field, f"{field} cannot be changed")
        for name in DETAIL_FIELDS:
            if name in changes:
                _check_detail(name, changes[name])
        limit = check_limit(changes["limit"]) if "limit" in changes else self.limit
        if "value" in changes and not isinstance(changes["value"], str):
            raise InvalidBlockError("value", "value must be a string")
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        unlocking = differing.get("read_only") is False
        self._check_editable(unlocking)
        value = differing.get("value", self.value)
        if len(value) > limit:
            raise BlockLimitExceededError(limit, len(value), "value" if "value" in differing else "limit")
        details = {name: differing[name] for name in DETAIL_FIELDS if name in differing}
        if unlocking:
            self._details_changed(changes=details, **context.event_fields())
            details = {}
        shrinking = "limit" in differing and limit < self.limit
        if "limit" in differing and not shrinking:
            self._limit_changed(limit=limit, **context.event_fields())
        if "value" in differing and rewritten is not None:
            self._value_rewritten(value=value, provenance=rewritten, **context.event_fields())
        elif "value" in differing:
            self._value_replaced(value=value, **context.event_fields())
        if shrinking:
            self._limit_changed(limit=limit, **context.event_fields())
        if details:
            self._details_changed(changes=details, **context.event_fields())
        return True

    def append(self, context: Context, text: str, separator: str = "\n") -> None:
        """Adds text at the end of the value (after `separator` when the value is not empty)."""
        self._check_editable()
        if not isinstance(text, str) or not text:
            raise InvalidBlockError("text", "text must not be empty")
        appended = (separator if self.value else "") + text
        size = len(self.value) + len(appended)
        if size > self.limit:
            raise BlockLimitExceededError(self.limit, size, "text")
        self._value_appended(text=appended, **context.event_fields())

    def revert(self, context: Context, to_version: int, value: str) -> bool:
        """Sets the value back to what it was at `to_version`, as a new event. False if it is the same already."""
        self._check_editable()
        if len(value) > self.limit:
            raise BlockLimitExceededError(self.limit, len(value))
        if value == self.value:
            return False
        self._reverted(to_version=to_version, value=value, **context.event_fields())
        return True

    def delete(self, context: Context) -> None:
        """Soft delete: agents stop seeing the block until it is restored."""
        if self.deleted:
            raise BlockDeletedError("the block is already deleted")
        self._deleted(**context.event_fields())

    def restore(self, context: Context) -> None:
        """Undoes a soft delete."""
        if not self.deleted:
            raise BlockNotDeletedError("the block is not deleted")
        self._restored(**context.event_fields())

    @event(ValueReplaced)
    def _value_replaced(self, value: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.value = value
        self.updated_by = actor_id

    @event(ValueRewritten)
    def _value_rewritten(
        self,
        value: str,
        provenance: dict[str, Any],  # noqa: ARG002 - kept in the event only
        tenant_id: str,  # noqa: ARG002
        actor_id: str,
        request_id: str,  # noqa: ARG002
    ) -> None:
        self.value = value
        self.updated_by = actor_id

    @event(ValueAppended)
    def _value_appended(self, text: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.value += text
        self.updated_by = actor_id

    @event(LimitChanged)
    def _limit_changed(self, limit: int, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.limit = limit
        self.updated_by = actor_id

    @event(DetailsChanged)
    def _details_changed(self, changes: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_by = actor_id

    @event(Reverted)
    def _reverted(self, to_version: int, value: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.value = value
        self.updated_by = actor_id

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True
        self.updated_by = actor_id

    @event(Restored)
    def _restored(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = False
        self.updated_by = actor_id

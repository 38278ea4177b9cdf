"""Shapes shared by every resource: errors and write results."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import UNSET, Struct, UnsetType

from agentmem.application.base import HistoryEntry


class ErrorItem(Struct, omit_defaults=True):
    """One problem with the input; `field` names where it is."""

    message: str
    field: str | None = None


class ErrorOut(Struct, omit_defaults=True):
    """Every error response: the HTTP status, a sentence, and per-field problems when there are any."""

    status: int
    detail: str
    errors: list[ErrorItem] | UnsetType = UNSET
    current_version: int | UnsetType = UNSET
    limit: int | UnsetType = UNSET
    size: int | UnsetType = UNSET
    active_run_id: str | UnsetType = UNSET


class WriteOut(Struct):
    """Where a write landed: the aggregate, its new version and the log position to read after."""

    id: str
    version: int
    position: int


class HistoryChange(Struct):
    """A field's value before and after one event."""

    old: Any
    new: Any


class HistoryEntryOut(Struct, omit_defaults=True):
    """One version of an aggregate: which event made it, when, by whom, in which request, changing what; and, for a
    change a job or a model made, its provenance (job, episode, source messages, provider, model, prompt version)."""

    version: int
    event_type: str
    timestamp: str
    actor_id: str
    request_id: str
    changes: dict[str, HistoryChange]
    provenance: dict[str, Any] | None = None


class HistoryOut(Struct):
    """Every version of an aggregate, oldest first."""

    id: str
    versions: list[HistoryEntryOut]


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
                provenance=e.provenance,
            )
            for e in entries
        ],
    )

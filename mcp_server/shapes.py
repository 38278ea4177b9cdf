"""What tools answer: the fields the HTTP API shows, as plain JSON values."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

import msgspec

from agentmem.application.base import HistoryEntry
from agentmem.projections.queries import Hit


def aggregate(item: Any) -> dict[str, Any]:
    """A memory, block or agent aggregate at its version (ids, state, times and actors)."""
    shape = {"id": str(item.id), "version": item.version, **item.state()}
    if "value" in shape:
        shape["size"] = len(shape["value"])
    for name in ("block_ids", "tool_ids"):
        if name in shape:
            shape[name] = [str(i) for i in shape[name]]
    shape.update(
        created_at=item.created_on,
        updated_at=item.modified_on,
        created_by=item.created_by,
        updated_by=item.updated_by,
    )
    return shape


def row(item: Any) -> dict[str, Any]:
    """A read-model row (lists, search) without its tenant."""
    shape = asdict(item) if is_dataclass(item) and not isinstance(item, type) else dict(item)
    shape.pop("tenant_id", None)
    shape["id"] = str(shape["id"])
    if "value" in shape:
        shape["size"] = len(shape["value"])
    return shape


def hit(found: Hit) -> dict[str, Any]:
    return {**row(found.memory), "score": round(found.score, 6)}


def history(aggregate_id: Any, entries: list[HistoryEntry]) -> dict[str, Any]:
    """Every version: event, time, actor, request id, each changed field's old and new value, and the provenance of
    a change a job made."""
    return {
        "id": str(aggregate_id),
        "versions": [
            {
                "version": e.version,
                "event_type": e.event_type,
                "timestamp": e.timestamp,
                "actor_id": e.actor_id,
                "request_id": e.request_id,
                "changes": e.changes,
                **({"provenance": e.provenance} if e.provenance else {}),
            }
            for e in entries
        ],
    }


def plain(value: Any) -> Any:
    """JSON-ready builtins (instants as ISO-8601, ids as strings)."""
    return msgspec.to_builtins(value)

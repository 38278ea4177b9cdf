"""Response bodies of /v1/events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct

from agentmem.application.events import FeedEvent


class EventOut(Struct):
    """One event of the organization's log: what happened to which aggregate, when, by whom, with its data."""

    position: int
    type: str
    aggregate_type: str
    aggregate_id: str
    version: int
    timestamp: datetime
    actor_id: str
    request_id: str
    data: dict[str, Any]


class EventPageOut(Struct):
    """Events in log order; pass `next_after` as `after` to continue; `has_more` when the next page is ready."""

    items: list[EventOut]
    next_after: int
    has_more: bool


def event_out(event: FeedEvent) -> EventOut:
    return EventOut(
        position=event.position,
        type=event.type,
        aggregate_type=event.aggregate_type,
        aggregate_id=str(event.aggregate_id),
        version=event.version,
        timestamp=event.timestamp,
        actor_id=event.actor_id,
        request_id=event.request_id,
        data=event.data,
    )

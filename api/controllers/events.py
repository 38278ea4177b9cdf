"""/v1/events: the organization's events from the log, as pages or as a live Server-Sent Events stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from agentmem.api.dependencies import container_of, provide
from agentmem.api.guards import presented_secret
from agentmem.api.schemas.events import EventPageOut, event_out
from agentmem.application.authentication import Authenticator, Principal
from agentmem.application.events import MAX_LIMIT, EventFeed, FeedQuery, feed_types
from agentmem.domain.errors import AgentMemError, BadRequest

After = Annotated[int, Parameter(ge=0, description="The last position already seen (0: from the beginning).")]
Types = Annotated[
    list[str] | None,
    Parameter(description="Only these event types, e.g. `Memory.Updated`, or `Memory` for all of an aggregate's."),
]
LastEventId = Annotated[
    str | None,
    Parameter(header="Last-Event-ID", required=False, description="Resume after this position (set by browsers)."),
]


def resume_position(after: int, last_event_id: str | None) -> int:
    """`Last-Event-ID` (a reconnecting EventSource sends it) wins over `after`."""
    if last_event_id is None:
        return after
    if not last_event_id.strip().isdigit():
        raise BadRequest("Last-Event-ID must be a log position", field="Last-Event-ID")
    return int(last_event_id.strip())


def still_allowed(auth: Authenticator, secret: str, principal: Principal) -> Callable[[], Awaitable[bool]]:
    """Whether the stream's credentials still hold: same organization, still granting `events:read`."""

    async def check() -> bool:
        try:
            current = await auth.authenticate(secret)
        except AgentMemError:
            return False
        return current.tenant_id == principal.tenant_id and "events:read" in current.permissions

    return check


async def messages(
    feed: EventFeed, query: FeedQuery, allowed: Callable[[], Awaitable[bool]]
) -> AsyncIterator[ServerSentEventMessage]:
    """Each event as one SSE message (id: position, event: type), a comment as a heartbeat when idle."""
    encoder = msgspec.json.Encoder()
    async for event in feed.follow(query, allowed):
        if event is None:
            yield ServerSentEventMessage(comment="keep-alive", data=None)
            continue
        data = encoder.encode(event_out(event)).decode()
        yield ServerSentEventMessage(data=data, event=event.type, id=event.position)


class EventController(Controller):
    """The organization's event log for analytics consumers and integrations (secrets redacted)."""

    path = "/v1/events"
    tags = ["events"]
    dependencies = {"feed": provide("events")}

    @get("/", opt={"permission": "events:read"})
    async def events(
        self,
        principal: Principal,
        feed: EventFeed,
        after: After = 0,
        types: Types = None,
        aggregate_id: UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 100,
    ) -> EventPageOut:
        """The organization's events after a position, oldest first; follow `next_after` to read on."""
        query = FeedQuery(principal.tenant_id, after, feed_types(types or ()), aggregate_id, limit)
        page = await feed.page(query)
        return EventPageOut([event_out(e) for e in page.items], page.next_after, page.has_more)

    @get("/stream", opt={"permission": "events:read"}, media_type="text/event-stream")
    async def stream(
        self,
        request: Request,
        principal: Principal,
        feed: EventFeed,
        after: After = 0,
        types: Types = None,
        aggregate_id: UUID | None = None,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        """Every event after a position, then each new one as it is written (Server-Sent Events, resumable); the
        stream ends within a heartbeat (15 s) once its credentials are revoked."""
        start = resume_position(after, last_event_id)
        query = FeedQuery(principal.tenant_id, start, feed_types(types or ()), aggregate_id, limit=MAX_LIMIT)
        allowed = still_allowed(container_of(request.app.state).auth, presented_secret(request.headers), principal)
        return ServerSentEvent(messages(feed, query, allowed))

"""Projection batches timed, counted and traced: a batch's span joins the traces of the requests that wrote it."""

from __future__ import annotations

from collections.abc import Sequence

from agentmem.application.base import TRACE_FIELD
from agentmem.application.metrics import PROJECTION_BATCH_EVENTS, PROJECTION_BATCH_SECONDS
from agentmem.application.telemetry import span
from agentmem.projections.base import Envelope, Projection, Tracking, Warming

MAX_LINKS = 32
"""Traces one batch span links to at most (a batch of 256 events may come from as many requests)."""


class ObservedProjection:
    """A projection whose `apply` reports its batches.

    When every event of a batch was written in one trace (one request), the batch span is a child in that trace:
    the request and the projection that made it searchable read as one waterfall. A batch of events from several
    traces is a span of its own, linked to each of them (up to MAX_LINKS).
    """

    def __init__(self, inner: Projection) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    def wants(self, topic: str) -> bool:
        return self.inner.wants(topic)

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        traces = list(dict.fromkeys(t for e in events if (t := getattr(e.event, TRACE_FIELD, None))))
        parent = traces[0] if len(traces) == 1 else None
        links = traces[:MAX_LINKS] if len(traces) > 1 else ()
        attributes = {
            "agentmem.projection": self.name,
            "agentmem.events": len(events),
            "agentmem.position": tracking.position,
        }
        with (
            span(f"projection {self.name}", attributes, parent=parent, links=links, kind="consumer"),
            PROJECTION_BATCH_SECONDS.time(projection=self.name),
        ):
            self.inner.apply(events, tracking)
        PROJECTION_BATCH_EVENTS.observe(len(events), projection=self.name)


class ObservedWarmingProjection(ObservedProjection):
    """The same, for a projection that prepares the next batch while the current one is written."""

    def __init__(self, inner: Projection) -> None:
        assert isinstance(inner, Warming)
        super().__init__(inner)
        self._warming = inner

    def warm(self, current: Sequence[Envelope], ahead: Sequence[Envelope]) -> None:
        self._warming.warm(current, ahead)


def observed(projection: Projection) -> Projection:
    """The projection, reporting its batches (and still warming ahead when it did)."""
    return ObservedWarmingProjection(projection) if isinstance(projection, Warming) else ObservedProjection(projection)

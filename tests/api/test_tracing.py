"""Traces: a request's span covers the use case, the event store and SQL; the projection batch joins its trace."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from agentmem.api.app import create_app
from agentmem.infrastructure.observed_projection import observed
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.tracing import start_tracing, stop_tracing
from agentmem.projections.base import Envelope, Tracking
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org

pytestmark = pytest.mark.usefixtures("worker")
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


class Spans(InMemorySpanExporter):
    """Keeps finished spans and wakes whoever waits for one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Condition()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = super().export(spans)
        with self.arrived:
            self.arrived.notify_all()
        return result

    def wait_for(self, name: str, trace_id: int) -> ReadableSpan:
        def found() -> ReadableSpan | None:
            return next((s for s in self.in_trace(trace_id) if s.name == name), None)

        with self.arrived:
            assert self.arrived.wait_for(lambda: found() is not None, timeout=20), f"no span {name}"
        span = found()
        assert span is not None
        return span

    def in_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [s for s in self.get_finished_spans() if s.context is not None and s.context.trace_id == trace_id]


@pytest.fixture(scope="module")
def spans(settings: Settings) -> Iterator[Spans]:
    exporter = Spans()
    provider = start_tracing(settings, "test", exporter)
    assert provider is not None
    try:
        yield exporter
    finally:
        stop_tracing(provider)


@pytest.fixture(scope="module")
def traced(settings: Settings, spans: Spans, org: Org) -> Iterator[ApiClient]:
    """The org's owner on an app whose container was built with tracing on (its connections are instrumented)."""
    container = Container(settings)
    try:
        with TestClient(create_app(settings, container)) as http:
            yield ApiClient(http, org.owner_key)
    finally:
        container.memories.close()


def child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return span.parent is not None and parent.context is not None and span.parent.span_id == parent.context.span_id


def descends(span: ReadableSpan, ancestor: ReadableSpan, spans: list[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    current: ReadableSpan | None = span
    while current is not None and current.parent is not None:
        current = by_id.get(current.parent.span_id)
        if current is ancestor:
            return True
    return False


def test_an_add_is_one_trace_from_the_request_through_sql_to_the_projection_batch(
    traced: ApiClient, spans: Spans
) -> None:
    created = traced.post("/v1/memories", json={"text": "the tide comes in at six"})
    assert created.status_code == 201
    server = next(s for s in spans.get_finished_spans() if s.name == "POST /v1/memories" and s.kind == SpanKind.SERVER)
    assert server.context is not None and server.parent is None
    trace_id = server.context.trace_id
    assert server.attributes is not None and server.attributes["http.response.status_code"] == 201
    assert server.attributes["agentmem.request_id"] == created.headers["x-request-id"]
    assert server.attributes["agentmem.tenant"] == traced.get("/v1/me").json()["organization_id"]

    batch = spans.wait_for("projection memories_g1", trace_id)
    in_trace = spans.in_trace(trace_id)
    add = next(s for s in in_trace if s.name == "memories.add")
    append = next(s for s in in_trace if s.name == "eventstore.append")
    assert child_of(add, server) and descends(append, add, in_trace)
    statements = [s for s in in_trace if s.kind == SpanKind.CLIENT and descends(s, append, in_trace)]
    assert len(statements) >= 2  # the table lock and NOTIFY, then the insert
    assert all(s.attributes and s.attributes.get("db.system") == "postgresql" for s in statements)
    assert child_of(batch, add) and batch.kind == SpanKind.CONSUMER  # the event carried the use case's span
    assert batch.attributes is not None and batch.attributes["agentmem.events"] >= 1


def test_a_caller_trace_is_continued_and_searches_are_traced(traced: ApiClient, spans: Spans) -> None:
    caller = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
    created = traced.post("/v1/memories", json={"text": "the ferry leaves at noon"}, headers={"traceparent": caller})
    assert created.status_code == 201
    trace_id = int(CALLER_TRACE, 16)
    spans.wait_for("projection memories_g1", trace_id)
    server = next(s for s in spans.in_trace(trace_id) if s.kind == SpanKind.SERVER)
    assert server.parent is not None and server.parent.span_id == int("00f067aa0ba902b7", 16)

    body = {"query": "when does the ferry leave", "min_position": created.json()["position"]}
    assert traced.post("/v1/memories/search", json=body).status_code == 200
    search = next(s for s in spans.get_finished_spans() if s.name == "search")
    assert search.attributes is not None and search.attributes["agentmem.mode"] == "hybrid"
    sql = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT and child_of(s, search)]
    assert sql, "the search's SQL statements are children of its span"


@dataclass
class Recording:
    """A projection that only records the batches given to it."""

    name: str = "recording"
    applied: int = 0
    position: int = 0

    def wants(self, topic: str) -> bool:
        return bool(topic)

    def apply(self, events: Sequence[Envelope], tracking: Tracking) -> None:
        self.applied += len(events)
        self.position = tracking.position


@dataclass
class Event:
    traceparent: str


def test_a_batch_of_events_from_several_traces_links_to_each(spans: Spans) -> None:
    traces = [f"00-{n:032x}-{n:016x}-01" for n in (0xA1, 0xB2, 0xC3)]
    events = [Envelope(position, Event(trace)) for position, trace in enumerate([*traces, traces[0]], 1)]  # type: ignore[arg-type]
    recording = Recording()
    observed(recording).apply(events, Tracking("recording", 0, 4))
    assert (recording.applied, recording.position) == (4, 4)
    batch = next(s for s in spans.get_finished_spans() if s.name == "projection recording")
    assert batch.parent is None
    assert sorted(link.context.trace_id for link in batch.links) == [0xA1, 0xB2, 0xC3]

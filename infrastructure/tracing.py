"""OpenTelemetry traces: spans of requests, use cases, the event store, SQL and projection batches, sent over OTLP.

Nothing is set up unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes an exporter): the telemetry port's
no-op tracer stays, psycopg is not instrumented, and a span costs one call. When on, every SQL statement run
inside traced work is a child span (psycopg instrumentation); statements outside any (pool checks, the projection
worker's polling) are not recorded, so the worker sends only its batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from agentmem.application import telemetry
from agentmem.infrastructure.settings import Settings

_KINDS = {
    "internal": SpanKind.INTERNAL,
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
}
_PROPAGATOR = TraceContextTextMapPropagator()


class OnlyInsideTraces(Sampler):
    """Drops client spans (SQL) that have no parent; samples the rest by trace id, following a remote parent."""

    def __init__(self, ratio: float) -> None:
        self._inner = ParentBased(TraceIdRatioBased(ratio))

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self._inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"OnlyInsideTraces({self._inner.get_description()})"


class _Span:
    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set(self, key: str, value: telemetry.AttributeValue) -> None:
        self._span.set_attribute(key, value)

    def error(self, error: BaseException) -> None:
        self._span.record_exception(error)
        self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))


def _context_of(traceparent: str) -> Context:
    return _PROPAGATOR.extract({"traceparent": traceparent})


class OpenTelemetryTracer:
    """The telemetry port's Tracer on an OpenTelemetry TracerProvider."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("agentmem")

    @contextmanager
    def span(
        self,
        name: str,
        attributes: dict[str, telemetry.AttributeValue] | None = None,
        *,
        parent: str | None = None,
        links: Sequence[str] = (),
        kind: telemetry.SpanKind = "internal",
    ) -> Iterator[telemetry.Span]:
        linked = [
            Link(c) for c in (trace.get_current_span(_context_of(p)).get_span_context() for p in links) if c.is_valid
        ]
        with self._tracer.start_as_current_span(
            name,
            context=_context_of(parent) if parent else None,
            kind=_KINDS[kind],
            attributes=attributes,
            links=linked,
        ) as current:
            yield _Span(current)

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")


def start_tracing(settings: Settings, role: str, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Installs a tracer sending to the OTLP endpoint (or to `exporter`, at once: tests); None when neither is set.

    Call before the process opens database pools: connections made earlier are not instrumented.
    """
    if exporter is None and not settings.otlp_endpoint:
        return None
    resource = Resource.create(
        {"service.name": settings.service_name, "service.instance.id": f"{role}-{os.getpid()}", "agentmem.role": role}
    )
    provider = TracerProvider(resource=resource, sampler=OnlyInsideTraces(settings.trace_sample_ratio))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = f"{(settings.otlp_endpoint or '').rstrip('/')}/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    PsycopgInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    telemetry.install_tracer(OpenTelemetryTracer(provider))
    return provider


def stop_tracing(provider: TracerProvider) -> None:
    """Sends what is pending and goes back to no tracing."""
    telemetry.install_tracer(None)
    PsycopgInstrumentor().uninstrument()
    provider.shutdown()

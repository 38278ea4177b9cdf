"""The telemetry port: named metrics and trace spans any layer reports to, doing nothing until a backend is installed.

A metric is declared once (application/metrics.py) and used in a line: `SEARCH_SECONDS.observe(0.01, mode="text")`.
The composition root binds every declared metric to a Prometheus series and installs an OpenTelemetry tracer; until
then (and whenever metrics or tracing are off) each call is one attribute check, so callers never test a setting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["counter", "histogram"]
SpanKind = Literal["internal", "server", "client", "producer", "consumer"]
AttributeValue = str | int | float | bool
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Latency buckets from 1 ms (a cached query) to 30 s (a slow model call)."""
SIZES = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
"""Batch-size buckets: one event up to the largest batch a write or a projection takes (1,000)."""


class Series(Protocol):
    """One labelled series of a backend metric."""

    def inc(self, amount: float = 1) -> None: ...

    def observe(self, amount: float) -> None: ...


class Backend(Protocol):
    """A backend metric (a Prometheus one): its series by label values."""

    def labels(self, **labels: str) -> Series: ...


@dataclass(eq=False)
class Metric:
    """A named metric: a no-op until `bind` gives it a backend."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    kind: Kind = "counter"
    buckets: tuple[float, ...] = SECONDS
    backend: Backend | Series | None = field(default=None, repr=False)

    def _series(self, labels: dict[str, str]) -> Series | None:
        backend = self.backend
        if backend is None:
            return None
        return backend.labels(**labels) if labels else backend  # type: ignore[union-attr,return-value]

    def inc(self, amount: float = 1, **labels: str) -> None:
        series = self._series(labels)
        if series is not None:
            series.inc(amount)

    def observe(self, amount: float, **labels: str) -> None:
        series = self._series(labels)
        if series is not None:
            series.observe(amount)

    @contextmanager
    def time(self, **labels: str) -> Iterator[None]:
        """Observes the seconds the block took (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started, **labels)


@dataclass(frozen=True, slots=True)
class Reading:
    """A value read at scrape time from where it lives (the database, Redis), not counted by a process."""

    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    kind: Literal["gauge", "counter"] = "gauge"


REQUEST_STATE: ContextVar[Mapping[str, Any] | None] = ContextVar("agentmem_request_state", default=None)
"""The state of the HTTP request being handled (its request id, then its principal): what its log lines carry."""


class Span(Protocol):
    """One unit of traced work."""

    def set(self, key: str, value: AttributeValue) -> None: ...

    def error(self, error: BaseException) -> None:
        """Marks the span failed with this error (its type and message)."""
        ...


class Tracer(Protocol):
    """Starts spans under the current one and says where the current one is (a W3C traceparent)."""

    def span(
        self,
        name: str,
        attributes: dict[str, AttributeValue] | None = None,
        *,
        parent: str | None = None,
        links: Sequence[str] = (),
        kind: SpanKind = "internal",
    ) -> AbstractContextManager[Span]:
        """A span, child of `parent` (a traceparent) if given, else of the current span; `links` to other traces."""
        ...

    def traceparent(self) -> str | None:
        """The current span as a W3C traceparent header value, or None when nothing is traced."""
        ...


class _NoSpan:
    def set(self, key: str, value: AttributeValue) -> None:
        """Records nothing."""

    def error(self, error: BaseException) -> None:
        """Records nothing."""

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class _NoTracer:
    """Tracing off: spans cost one call and record nothing."""

    _span = _NoSpan()

    def span(self, *_: Any, **__: Any) -> AbstractContextManager[Span]:
        return self._span

    def traceparent(self) -> str | None:
        return None


NO_TRACER: Tracer = _NoTracer()
_tracer: Tracer = NO_TRACER


def install_tracer(tracer: Tracer | None) -> None:
    """Makes `tracer` the process's tracer (None: back to no tracing)."""
    global _tracer  # noqa: PLW0603 - one tracer per process, like the OpenTelemetry API's own global
    _tracer = tracer or NO_TRACER


def tracing() -> bool:
    return _tracer is not NO_TRACER


def span(
    name: str,
    attributes: dict[str, AttributeValue] | None = None,
    *,
    parent: str | None = None,
    links: Sequence[str] = (),
    kind: SpanKind = "internal",
) -> AbstractContextManager[Span]:
    """A span of the installed tracer (a no-op one when tracing is off)."""
    return _tracer.span(name, attributes, parent=parent, links=links, kind=kind)


def traceparent() -> str | None:
    """Where the current span is, to carry it across a process boundary (an event, a job)."""
    return _tracer.traceparent()

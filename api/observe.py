"""Every request observed once: its span (joining the caller's trace), its metrics and its log line.

Metrics and log lines name the route template (`/v1/memories/{memory_id}`), never the path or the query string:
the series stay few, and no id, search query or credential reaches a log line.
"""

from __future__ import annotations

import logging
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from agentmem.application import telemetry
from agentmem.application.metrics import HTTP_REQUESTS, HTTP_SECONDS

access_log = logging.getLogger("agentmem.access")


def observe_middleware(app: ASGIApp) -> ASGIApp:
    """Times, counts, traces and logs each HTTP request (inside the request-id middleware, outside every other)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        token = telemetry.REQUEST_STATE.set(state)
        method, route = scope["method"], scope.get("path_template") or "unmatched"  # type: ignore[typeddict-item]
        status = 500
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        parent = _traceparent(scope) if telemetry.tracing() else None
        attributes: dict[str, telemetry.AttributeValue] = {"http.request.method": method, "http.route": route}
        try:
            with telemetry.span(f"{method} {route}", attributes, parent=parent, kind="server") as span:
                try:
                    await app(scope, receive, send_observed)
                finally:
                    elapsed = time.perf_counter() - started
                    HTTP_REQUESTS.inc(method=method, route=route, status=str(status))
                    HTTP_SECONDS.observe(elapsed, method=method, route=route, status=str(status))
                    span.set("http.response.status_code", status)
                    _annotate(span, state)
                    _log(method, route, status, elapsed)
        finally:
            telemetry.REQUEST_STATE.reset(token)

    return middleware


def _traceparent(scope: Scope) -> str | None:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == b"traceparent"), None)


def _annotate(span: telemetry.Span, state: dict[str, object]) -> None:
    span.set("agentmem.request_id", str(state.get("request_id", "")))
    principal = state.get("principal")
    if principal is not None:
        span.set("agentmem.tenant", str(getattr(principal, "tenant_id", "")))
        span.set("agentmem.actor", str(getattr(principal, "actor_id", "")))


def _log(method: str, route: str, status: int, elapsed: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round(elapsed * 1000, 2)
    fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
    access_log.info("%s %s %s %.2f ms", method, route, status, duration_ms, extra=fields)

"""Log lines as JSON (one object a line, for collectors) or plain text (for a terminal), chosen by AGENTMEM_LOG_FORMAT.

Every record logged while a request is handled carries its request id, and the tenant and actor once the caller
is known. Nothing logged at info carries a secret or a memory's text: requests are logged by route template (not
path or query string), never with headers or bodies; as a last guard, anything shaped like an API key, a bearer
token or a JWT is masked in every line.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

from agentmem.application import telemetry
from agentmem.infrastructure.settings import Settings

FIELDS = ("request_id", "tenant", "actor", "method", "route", "status", "duration_ms", "trace_id")
"""Context fields a JSON line may carry."""
TEXT_FIELDS = ("request_id", "tenant", "actor", "trace_id")
"""What a text line adds after its message (an access line's message already says method, route, status, time)."""
_SECRETS = re.compile(
    r"\bam_[A-Za-z0-9_-]{8,}"  # API keys
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWTs
    r"|(?i:bearer)\s+\S+"
)


def redact(text: str) -> str:
    """Masks API keys, JWTs and bearer credentials."""
    return _SECRETS.sub("[redacted]", text)


class RequestContext(logging.Filter):
    """Adds the current request's id, tenant and actor, and the trace id, to each record logged while it is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        traceparent = telemetry.traceparent()
        if traceparent is not None and not hasattr(record, "trace_id"):
            record.trace_id = traceparent.split("-")[1]
        state = telemetry.REQUEST_STATE.get()
        if state is None:
            return True
        if not hasattr(record, "request_id"):
            record.request_id = state.get("request_id")
        principal = state.get("principal")
        if principal is not None and not hasattr(record, "tenant"):
            record.tenant = principal.tenant_id
            record.actor = principal.actor_id
        return True


def _fields(record: logging.LogRecord, names: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    return {name: value for name in names if (value := getattr(record, name, None)) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context fields, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return redact(msgspec.json.encode(line).decode())


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value …` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = " ".join(f"{name}={value}" for name, value in _fields(record, TEXT_FIELDS).items())
        if extra:
            head, newline, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{head} {extra}{newline}{rest}"
        return redact(line)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Sends every logger's records to `stream` (stderr) in the configured format, at the configured level."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.addFilter(RequestContext())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if getattr(h, "agentmem", False)]:
        root.removeHandler(previous)
    handler.agentmem = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler

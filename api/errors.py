"""One error shape for every failure, mapped once from the kind of error; never a 500 for bad input."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from agentmem.api.schemas.common import ErrorItem, ErrorOut
from agentmem.domain.errors import AgentMemError

log = logging.getLogger("agentmem.api")
EXTRA_FIELDS = ("current_version", "limit", "size", "active_run_id")
_UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def error_response(
    status: int, detail: str, errors: list[ErrorItem] | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response[ErrorOut]:
    body = ErrorOut(status=status, detail=detail, **{k: v for k, v in extra.items() if k in EXTRA_FIELDS})
    if errors:
        body.errors = errors
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def agentmem_error(_: Request[Any, Any, Any], exc: AgentMemError) -> Response[ErrorOut]:
    """Any of our errors, by its kind: the status, the message, the field, Retry-After when waiting helps."""
    status = exc.status
    field = getattr(exc, "field", None)
    errors = [ErrorItem(message=str(exc), field=field)] if field else None
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 500:
        log.error("unmapped error kind", exc_info=exc)
        return error_response(500, "internal server error")
    return error_response(status, str(exc), errors, headers or None, **exc.details)


def _problem(problem: dict[str, Any], default: str) -> ErrorItem:
    message = str(problem.get("message", default))
    field = problem.get("key") or None
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        field = unknown.group(1) if field in (None, "data") else f"{field}.{unknown.group(1)}"
    source = problem.get("source")
    source = getattr(source, "value", source)
    if field and source not in (None, "body"):
        message = f"{source} parameter {field!r}: {message}"
    return ErrorItem(message=message, field=field)


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorOut]:
    """Malformed JSON is 400; well-formed input of the wrong shape is 422 naming the field."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    items = [_problem(p, exc.detail) for p in problems if isinstance(p, dict)]
    if not items:
        return error_response(400, exc.detail or "bad request")
    names = ", ".join(i.field for i in items if i.field) or "the request"
    return error_response(422, f"invalid input: {names}", items)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorOut]:
    if exc.status_code >= 500:
        log.error("server error: %s", exc.detail, exc_info=exc)
    detail = "the request body is too large" if exc.status_code == 413 else exc.detail
    return error_response(exc.status_code, detail, headers=exc.headers)


def internal_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal server error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AgentMemError: agentmem_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: internal_error,
}

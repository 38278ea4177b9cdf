"""One error shape for every failure, with the right status; never a 500 for bad input."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from agentmem.api.controllers.memory_search import InvalidFilterError
from agentmem.api.positions import ProjectionBehindError
from agentmem.api.schemas.common import ErrorItem, ErrorOut
from agentmem.application.agents import ContextTemplateError
from agentmem.application.base import IdempotencyKeyReusedError, NotFoundError, VersionConflictError
from agentmem.application.conversations import ConversationBusyError, TooManyMessagesError
from agentmem.application.identity import AuthenticationError, OrganizationSuspendedError, WeakPasswordError
from agentmem.application.memories import BatchTooLargeError
from agentmem.domain.agent import AgentDeletedError, AgentNotDeletedError, BlockNotAttachedError, InvalidAgentError
from agentmem.domain.api_key import ApiKeyRevokedError, InvalidApiKeyError
from agentmem.domain.block import (
    BlockDeletedError,
    BlockLimitExceededError,
    BlockNotDeletedError,
    BlockReadOnlyError,
    InvalidBlockError,
)
from agentmem.domain.conversation import InvalidMessageError
from agentmem.domain.memory import InvalidMemoryError, MemoryDeletedError, MemoryNotDeletedError
from agentmem.domain.name_claim import NameTakenError
from agentmem.domain.organization import InvalidOrganizationError, OrganizationDeletedError
from agentmem.domain.user import InvalidUserError, UserDeletedError
from agentmem.infrastructure.postgres_search import CursorError
from agentmem.infrastructure.quotas import QuotaExceededError

log = logging.getLogger("agentmem.api")


def error_response(
    status: int, detail: str, errors: list[ErrorItem] | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response[ErrorOut]:
    body = ErrorOut(status=status, detail=detail, **extra)
    if errors:
        body.errors = errors
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


_UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


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
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error("server error: %s", exc.detail)
    detail = exc.detail
    if exc.status_code == 413:
        detail = "the request body is too large"
    return error_response(exc.status_code, detail, headers=exc.headers)


def not_found(_: Request[Any, Any, Any], exc: NotFoundError) -> Response[ErrorOut]:
    return error_response(404, str(exc))


def version_conflict(_: Request[Any, Any, Any], exc: VersionConflictError) -> Response[ErrorOut]:
    return error_response(409, str(exc), current_version=exc.current_version)


def state_conflict(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    return error_response(409, str(exc))


def invalid_memory(_: Request[Any, Any, Any], exc: InvalidMemoryError) -> Response[ErrorOut]:
    return error_response(422, f"invalid input: {exc.field}", [ErrorItem(message=str(exc), field=exc.field)])


def invalid_field(
    _: Request[Any, Any, Any], exc: InvalidBlockError | InvalidAgentError | InvalidMessageError
) -> Response[ErrorOut]:
    return error_response(422, f"invalid input: {exc.field}", [ErrorItem(message=str(exc), field=exc.field)])


def over_limit(_: Request[Any, Any, Any], exc: BlockLimitExceededError) -> Response[ErrorOut]:
    """422 naming the block's limit and the size the change would have made."""
    item = ErrorItem(message=str(exc), field=exc.field)
    return error_response(422, str(exc), [item], limit=exc.limit, size=exc.size)


def not_attached(_: Request[Any, Any, Any], exc: BlockNotAttachedError) -> Response[ErrorOut]:
    return error_response(404, str(exc))


def unprocessable(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    return error_response(422, str(exc))


def internal_error(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal server error")


def projection_behind(_: Request[Any, Any, Any], exc: ProjectionBehindError) -> Response[ErrorOut]:
    return error_response(503, str(exc), headers={"Retry-After": "1"})


def bad_cursor(_: Request[Any, Any, Any], exc: CursorError) -> Response[ErrorOut]:
    return error_response(400, str(exc), [ErrorItem(message=str(exc), field="cursor")])


def invalid_filter(_: Request[Any, Any, Any], exc: InvalidFilterError) -> Response[ErrorOut]:
    return error_response(422, f"invalid input: {exc.field}", [ErrorItem(message=str(exc), field=exc.field)])


def invalid_identity(
    _: Request[Any, Any, Any], exc: InvalidOrganizationError | InvalidUserError | InvalidApiKeyError
) -> Response[ErrorOut]:
    return error_response(422, f"invalid input: {exc.field}", [ErrorItem(message=str(exc), field=exc.field)])


def weak_password(_: Request[Any, Any, Any], exc: WeakPasswordError) -> Response[ErrorOut]:
    return error_response(422, "invalid input: password", [ErrorItem(message=str(exc), field="password")])


def unauthenticated(_: Request[Any, Any, Any], exc: AuthenticationError) -> Response[ErrorOut]:
    return error_response(401, str(exc), headers={"WWW-Authenticate": "Bearer"})


def forbidden(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorOut]:
    return error_response(403, str(exc))


def quota_exceeded(_: Request[Any, Any, Any], exc: QuotaExceededError) -> Response[ErrorOut]:
    """429; `Retry-After` when waiting helps (a rate limit), none for a full storage quota."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return error_response(429, str(exc), headers=headers)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    QuotaExceededError: quota_exceeded,
    AuthenticationError: unauthenticated,
    OrganizationSuspendedError: forbidden,
    WeakPasswordError: weak_password,
    InvalidOrganizationError: invalid_identity,
    InvalidUserError: invalid_identity,
    InvalidApiKeyError: invalid_identity,
    NameTakenError: state_conflict,
    OrganizationDeletedError: state_conflict,
    UserDeletedError: state_conflict,
    ApiKeyRevokedError: state_conflict,
    ProjectionBehindError: projection_behind,
    CursorError: bad_cursor,
    InvalidFilterError: invalid_filter,
    ValidationException: validation_error,
    HTTPException: http_error,
    NotFoundError: not_found,
    VersionConflictError: version_conflict,
    MemoryDeletedError: state_conflict,
    MemoryNotDeletedError: state_conflict,
    InvalidMemoryError: invalid_memory,
    InvalidBlockError: invalid_field,
    InvalidAgentError: invalid_field,
    InvalidMessageError: invalid_field,
    BlockLimitExceededError: over_limit,
    BlockReadOnlyError: state_conflict,
    BlockDeletedError: state_conflict,
    BlockNotDeletedError: state_conflict,
    AgentDeletedError: state_conflict,
    AgentNotDeletedError: state_conflict,
    BlockNotAttachedError: not_attached,
    ConversationBusyError: state_conflict,
    ContextTemplateError: unprocessable,
    TooManyMessagesError: unprocessable,
    IdempotencyKeyReusedError: unprocessable,
    BatchTooLargeError: unprocessable,
    Exception: internal_error,
}

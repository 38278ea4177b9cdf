"""Errors the client raises: one class per HTTP status kind, carrying the server's status, detail and field errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec


class AgentMemError(Exception):
    """Base of every error this client raises."""


class APIConnectionError(AgentMemError):
    """The server could not be reached, or the connection dropped, and retries (if allowed) did not help."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with the input; `field` names where it is (`text`, `memories[3].metadata`)."""

    message: str
    field: str | None = None


class APIError(AgentMemError):
    """The server answered with an error: its status, detail (`str(error)`), field errors and the raw body."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[FieldError] | None = None,
        body: dict[str, Any] | None = None,
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.body = body or {}
        self.headers = headers or httpx.Headers()

    @property
    def request_id(self) -> str | None:
        """The server's request id (X-Request-ID), to find the request in its logs and the audit trail."""
        return self.headers.get("x-request-id")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, detail={self.detail!r})"


class BadRequestError(APIError):
    """400: the request cannot be read (malformed JSON, a cursor this list did not hand out)."""


class AuthenticationError(APIError):
    """401: no, unknown, revoked or expired credentials."""


class PermissionDeniedError(APIError):
    """403: the credentials' role does not grant this."""


class NotFoundError(APIError):
    """404: no such thing in your organization (another organization's ids look the same)."""


class ConflictError(APIError):
    """409: the state does not allow it (a stale If-Match version, a deleted or read-only thing)."""

    @property
    def current_version(self) -> int | None:
        """The version the server holds, when a stale version was the conflict."""
        value = self.body.get("current_version")
        return int(value) if value is not None else None


class ValidationError(APIError):
    """422: the input breaks a rule; `errors` names the fields."""


class RateLimitError(APIError):
    """429: a rate limit or quota is spent (raised once retries are exhausted)."""

    @property
    def retry_after(self) -> float | None:
        return retry_after(self.headers)


class UnavailableError(APIError):
    """503: a dependency is down or a read model is behind (raised once retries are exhausted)."""


class ServerError(APIError):
    """5xx other than 503."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    422: ValidationError,
    429: RateLimitError,
    503: UnavailableError,
}


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer, from the server's one error shape `{"status", "detail", "errors"?}`."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = None
    if not isinstance(body, dict):
        body = {"detail": response.text or response.reason_phrase}
    errors = [
        FieldError(message=str(e.get("message", "")), field=e.get("field"))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    status = response.status_code
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else APIError)
    return kind(status, str(body.get("detail") or response.reason_phrase), errors, body, response.headers)


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks to wait (`Retry-After` in seconds; HTTP dates are read too)."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())

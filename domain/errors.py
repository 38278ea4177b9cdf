"""The kinds of failure every layer's errors belong to; each entrypoint maps these few kinds, never the many errors.

Domain, application and infrastructure errors inherit one of these bases, so the HTTP API (and the MCP server,
the job worker, the CLI) knows what a failure means without importing where it came from:

| base             | meaning                                                   | HTTP |
| ---------------- | --------------------------------------------------------- | ---- |
| InvalidInput     | the caller's input breaks a rule; `field` names where     | 422  |
| BadRequest       | the request cannot be read as given (cursor, version)     | 400  |
| Unauthenticated  | no, unknown, revoked or expired credentials               | 401  |
| Forbidden        | known caller, not allowed                                 | 403  |
| NotFound         | no such thing for this tenant (another tenant's id alike) | 404  |
| Conflict         | the state does not allow it now (stale version, deleted)  | 409  |
| LimitExceeded    | a rate or quota is spent; `retry_after` when waiting helps| 429  |
| Unavailable      | a dependency is down, behind or not configured            | 503  |
"""

from __future__ import annotations

from typing import Any


class AgentMemError(Exception):
    """Base of every error AgentMem raises on purpose; `details` go into the error answer as extra fields.

    `status` is the HTTP status of its kind (the MCP server shows the same one in its tool errors).
    """

    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}


class InvalidInput(AgentMemError):
    """The input breaks a rule; `field` names the part (e.g. `text`, `messages[2].content`)."""

    status = 422

    def __init__(self, field: str, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.field = field


class BadRequest(AgentMemError):
    """The request cannot be read as given (a cursor this list did not hand out, a malformed header)."""

    status = 400

    def __init__(self, message: str, field: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.field = field


class Unauthenticated(AgentMemError):
    """No credentials, or credentials that are unknown, wrong, revoked or expired."""

    status = 401


class Forbidden(AgentMemError):
    """The caller is known but may not do this."""

    status = 403


class NotFound(AgentMemError):
    """No such thing for this tenant."""

    status = 404


class Conflict(AgentMemError):
    """The current state does not allow the change."""

    status = 409


class LimitExceeded(AgentMemError):
    """A rate limit or quota is spent; `retry_after` (seconds) when waiting helps."""

    status = 429

    def __init__(self, message: str, retry_after: int | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class Unavailable(AgentMemError):
    """A dependency is down, behind, or not configured; `retry_after` (seconds) when waiting helps."""

    status = 503

    def __init__(self, message: str, retry_after: int | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after

"""Building requests: optional arguments left out, `NOT_GIVEN` for "leave unchanged", query values as strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec


class NotGiven:
    """The type of NOT_GIVEN: an argument left out of an update (None may mean "clear it")."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the arguments that were given (None and NOT_GIVEN left out: the server's default)."""
    return {k: v for k, v in fields.items() if v is not None and v is not NOT_GIVEN}


def changes(**fields: Any) -> dict[str, Any]:
    """A PATCH body: every argument except NOT_GIVEN (None is sent, and clears fields that may be null)."""
    return {k: v for k, v in fields.items() if v is not NOT_GIVEN}


def query(**fields: Any) -> dict[str, Any]:
    """Query parameters: None left out, instants as ISO-8601, booleans as true/false, dicts as JSON."""
    params: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[name] = value.isoformat()
        elif isinstance(value, dict):
            params[name] = msgspec.json.encode(value).decode()
        elif isinstance(value, (list, tuple)):
            params[name] = [str(v) for v in value]
        else:
            params[name] = value
    return params


def if_match(version: int | None) -> dict[str, str]:
    """The If-Match header for an expected version (a stale one gets ConflictError)."""
    return {"If-Match": str(version)} if version is not None else {}

"""What an event may hold: text and numbers every read model can store, checked once before any event is recorded.

PostgreSQL `text` and `jsonb` refuse the NUL character, and `jsonb` refuses NaN and infinities. An event holding
one would be stored (the event store keeps bytes) and then stall every projection that tries to apply it, so the
application refuses such values before recording, whichever entrypoint (HTTP, MCP, a job, a model's answer)
produced them. The HTTP API refuses them earlier still, naming the request field.

Logs written by older servers may still hold such events. `storable_form` is what a read model stores for them:
the same value with each NUL replaced by U+FFFD (the Unicode replacement character, visibly "a character was
here") and each non-finite number by null. The event log keeps the original; history and time travel read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"
MAX_DEPTH = 64
"""Nesting deeper than this is refused too: JSON read models and recursive code have limits of their own."""


def unstorable(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The path of the first value a read model could not store and why, or None when all of it can be stored."""
    if not isinstance(value, (Mapping, list, tuple)):
        return _scalar(value, path)
    if depth > MAX_DEPTH:
        return path, f"is nested deeper than {MAX_DEPTH} levels"
    items = value.items() if isinstance(value, Mapping) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return path, "keys must not contain the NUL character (U+0000)"  # the key itself is no name to echo
        where = f"{path}.{key}" if isinstance(value, Mapping) else f"{path}[{key}]"
        where = where.lstrip(".")
        found = unstorable(item, where, depth + 1)
        if found:
            return found
    return None


def _scalar(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str) and NUL in value:
        return path, "must not contain the NUL character (U+0000)"
    if isinstance(value, float) and not math.isfinite(value):
        return path, "must be a finite number"
    return None


def storable_text(text: str) -> str:
    """The text with each NUL replaced by U+FFFD (the same object when there is none: the common case is free)."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


def storable_form(value: Any) -> Any:
    """A JSON-like value as a read model can store it: text (keys too) through `storable_text`, non-finite numbers
    as None; anything else as it is."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {storable_form(k) if isinstance(k, str) else k: storable_form(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable_form(v) for v in value]
    return value

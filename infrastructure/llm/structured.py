"""Structured output checked the same way for every provider: the answer must parse as JSON and fit the schema."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

MAX_PROBLEM_CHARS = 300


def _strip_fence(text: str) -> str:
    """Some OpenAI-compatible servers wrap JSON in a Markdown code fence even in JSON mode."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped[3:-3]
        stripped = stripped.removeprefix("json").strip()
    return stripped


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    from jsonschema import validators  # 0.45 s to import: only once structured output is used

    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_problem(text: str, schema: dict[str, Any]) -> tuple[str | None, Any]:
    """(None, the parsed value) when `text` is JSON satisfying `schema`, else (what is wrong, None)."""
    try:
        data = json.loads(_strip_fence(text))
    except ValueError as error:
        return f"not valid JSON ({error})"[:MAX_PROBLEM_CHARS], None
    invalid = next(iter(_validator(json.dumps(schema, sort_keys=True)).iter_errors(data)), None)
    if invalid is None:
        return None, data
    where = "/".join(str(p) for p in invalid.absolute_path) or "the top level"
    return f"at {where}: {invalid.message}"[:MAX_PROBLEM_CHARS], None

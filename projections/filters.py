"""The metadata filter language: equality, in, comparisons, contains, exists; combined with and/or/not.

A filter is JSON. `{"topic": "tea"}` is equality; `{"score": {"gte": 3}}` applies an operator;
several keys in one object must all hold; `{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}` combine.
Keys may be dotted paths into nested objects (`"source.app"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentmem.domain.errors import InvalidInput

OPERATORS = ("eq", "ne", "in", "nin", "gt", "gte", "lt", "lte", "contains", "exists")
MAX_DEPTH = 8
MAX_TERMS = 64
_KEY = re.compile(r"^[^\x00-\x1f]{1,128}$")


class FilterError(InvalidInput):
    """The filter is not valid; `path` (and `field`) says where."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(path, f"{path}: {message}")
        self.path = path


@dataclass(frozen=True, slots=True)
class Compare:
    """One metadata key compared with a value."""

    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    item: Filter


Filter = Compare | All | AnyOf | Negation


def parse_filter(raw: Any, where: str = "filters") -> Filter:
    """Checks and parses a filter; raises FilterError naming the bad part."""
    counter = [0]
    return _parse(raw, where, 0, counter)


def _parse(raw: Any, where: str, depth: int, counter: list[int]) -> Filter:
    if depth > MAX_DEPTH:
        raise FilterError(f"nested deeper than {MAX_DEPTH} levels", where)
    if not isinstance(raw, dict) or not raw:
        raise FilterError("must be a non-empty object", where)
    items: list[Filter] = []
    for key, value in raw.items():
        here = f"{where}.{key}"
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise FilterError("must be a non-empty list", here)
            parts = tuple(_parse(v, f"{here}[{i}]", depth + 1, counter) for i, v in enumerate(value))
            items.append(All(parts) if key == "and" else AnyOf(parts))
        elif key == "not":
            items.append(Negation(_parse(value, here, depth + 1, counter)))
        else:
            items.extend(_compare(key, value, here, counter))
    return items[0] if len(items) == 1 else All(tuple(items))


def _compare(key: str, value: Any, where: str, counter: list[int]) -> list[Filter]:
    if not _KEY.match(key):
        raise FilterError("keys must be 1 to 128 printable characters", where)
    path = tuple(key.split("."))
    if any(not part for part in path):
        raise FilterError("empty segment in a dotted key", where)
    operations = value if isinstance(value, dict) and value and set(value) <= set(OPERATORS) else {"eq": value}
    compares: list[Filter] = []
    for op, operand in operations.items():
        counter[0] += 1
        if counter[0] > MAX_TERMS:
            raise FilterError(f"more than {MAX_TERMS} comparisons", where)
        _check_operand(op, operand, f"{where}.{op}")
        compares.append(Compare(path, op, operand))
    return compares


def _check_operand(op: str, operand: Any, where: str) -> None:
    if op in ("in", "nin"):
        if not isinstance(operand, list) or not operand or len(operand) > 256:
            raise FilterError("must be a list of 1 to 256 values", where)
    elif op in ("gt", "gte", "lt", "lte"):
        if isinstance(operand, bool) or not isinstance(operand, (int, float, str)):
            raise FilterError("must be a number or a string", where)
    elif op == "exists":
        if not isinstance(operand, bool):
            raise FilterError("must be true or false", where)
    elif op == "contains" and isinstance(operand, (dict, list)):
        raise FilterError("must be a single value", where)

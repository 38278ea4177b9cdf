"""What one render of a context template may spend, and an upper bound of what each operation would build.

The printed output has its own cap, but a template can build far more than it prints: `{% set b = a ~ a %}` doubles
a string per line and `range(1000)|join("y" * 100000)` makes 100 million characters; ten such doublings took the API
process from 405 to 793 MiB before this budget existed. So everything that makes a new string or list (`~`, `+`,
`*`, slices, joins, filters, string methods, printing a list) first works out, from the sizes of its inputs, an upper
bound of what it will make and charges it here. A render that would pass MAX_BUILT_CHARS stops before the allocation,
so what one render holds stays within about MAX_BUILT_CHARS characters plus ITEM_CHARS per list slot.
"""

from __future__ import annotations

import contextvars
from collections.abc import ItemsView, Iterable, KeysView, ValuesView
from typing import Any

from jinja2.sandbox import SecurityError

MAX_ITERATIONS = 100_000
MAX_CALLS = 10_000
MAX_BUILT_CHARS = 10_000_000
"""Twice the output cap: room to transform every block of a full agent (50 blocks of 100,000 characters) once."""
ITEM_CHARS = 16
"""Charged per list slot or small object a template makes: 8 bytes of pointer plus a share of the object."""
CASE_GROWTH = 3  # no character's upper, lower or title case is longer than three characters ('ΐ'.upper())
ESCAPE_GROWTH = 5  # '"' -> '&#34;'
URL_GROWTH = 12  # a 4-byte UTF-8 character -> '%F0%9F%98%80'
JSON_GROWTH = 6  # '<' or a control character -> '\u003c'
REPR_GROWTH = 10  # an unprintable astral character -> '\U000e0001'
OTHER_OBJECT_CHARS = 1_000  # str() of a macro, a loop, a range or a generator: short, fixed-format text


class Budget:
    """What one render may still spend: loop iterations, calls and characters built."""

    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS
        self.calls = MAX_CALLS
        self.chars = MAX_BUILT_CHARS

    def iterate(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise SecurityError(f"the template loops more than {MAX_ITERATIONS:,} times")

    def call(self) -> None:
        self.calls -= 1
        if self.calls < 0:
            raise SecurityError(f"the template makes more than {MAX_CALLS:,} calls")

    def build(self, chars: int, what: str) -> None:
        self.chars -= chars
        if self.chars < 0:
            raise SecurityError(f"{what} would take the template past {MAX_BUILT_CHARS:,} characters built")


_current: contextvars.ContextVar[Budget] = contextvars.ContextVar("template_budget")


def start() -> contextvars.Token[Budget]:
    """A fresh budget for the render about to run (give the token back to `stop`)."""
    return _current.set(Budget())


def stop(token: contextvars.Token[Budget]) -> None:
    _current.reset(token)


def current() -> Budget:
    return _current.get()


def charge(chars: int, what: str) -> None:
    _current.get().build(chars, what)


def charged_list(values: Iterable[Any], what: str) -> list[Any]:
    """The values as a list, each new slot charged as it is made (a generator is never expanded unbounded)."""
    if isinstance(values, list):
        return values
    budget = _current.get()
    if isinstance(values, (str, tuple, dict, range, KeysView, ValuesView, ItemsView)):
        budget.build(ITEM_CHARS * len(values), what)
        return list(values)
    made: list[Any] = []
    for value in values:
        budget.build(ITEM_CHARS, what)
        made.append(value)
    return made


def _scalar_size(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return value.bit_length() * 31 // 100 + 2  # digits (log10 2 < 0.31) and a sign
    if isinstance(value, float):
        return 32
    return None


def _quoted_size(text: str, json: bool) -> int:
    """An upper bound of repr(text) or of text as a JSON string (JSON also escapes <, >, & and ')."""
    if not text.isprintable() or (json and not text.isascii()):
        return (JSON_GROWTH if json else REPR_GROWTH) * len(text) + 2
    escaped = text.count("\\") + (text.count('"') if json else text.count("'"))
    if json:
        escaped += (JSON_GROWTH - 1) * sum(text.count(c) for c in "<>&'")
    return len(text) + 2 + escaped


def _walk_size(value: Any, limit: int, json: bool = False, indent: int = 0) -> int:
    """An upper bound of len(str(value)) (or of its JSON), stopping once past `limit`; walks without recursion."""
    total = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and total <= limit:
        item, depth = stack.pop()
        total += 2 + indent * depth + (1 if indent else 0)  # ", " or ": " and, when indented, a new line
        if isinstance(item, str):
            total += _quoted_size(item, json)
        elif (size := _scalar_size(item)) is not None:
            total += size
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, KeysView, ValuesView, ItemsView)):
            fields = getattr(item, "_fields", ())
            total += 2 + len(type(item).__name__) + sum(len(field) + 1 for field in fields)
            stack.extend((part, depth + 1) for part in item)
        else:
            total += OTHER_OBJECT_CHARS
    return total


def text_size(value: Any, limit: int | None = None) -> int:
    """An upper bound of len(str(value)), found without building it (counting stops past the budget left)."""
    if isinstance(value, str):
        return len(value)
    return _walk_size(value, _current.get().chars if limit is None else limit)


def json_size(value: Any, indent: int | None = None) -> int:
    """An upper bound of the length of `value` as JSON, with `indent` spaces per level when given."""
    return _walk_size(value, _current.get().chars, json=True, indent=indent or 0)


def as_text(value: Any) -> int:
    """What converting a filter's input to a string costs: nothing when it already is one."""
    return 0 if type(value) is str else text_size(value)


def total_size(values: Iterable[Any]) -> int:
    """Sum of text_size over values, stopping once past the budget left."""
    limit = _current.get().chars
    total = 0
    for value in values:
        total += text_size(value, limit - total)
        if total > limit:
            break
    return total

"""The filters and string methods a context template may use, each with the most it can build, charged first.

A cost function takes a filter's arguments (same names and defaults as the Jinja2 filter) and returns an upper bound,
in characters, of the strings and list slots the filter will make. Filters that read a whole sequence get it as a
list built under the budget. Every safe filter must have a cost: a filter added without one fails at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import pass_context
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import SecurityError
from jinja2.utils import _PassArg

from agentmem.domain.template_budget import (
    CASE_GROWTH,
    ESCAPE_GROWTH,
    ITEM_CHARS,
    URL_GROWTH,
    as_text,
    charge,
    charged_list,
    json_size,
    text_size,
    total_size,
)

MAX_INT_ARGUMENT = 100_000
MAX_STRING_ARGUMENT = 200_000


def _free(*_: Any, **__: Any) -> int:
    return 0


def _pieces(chars: int) -> int:
    """A split of `chars` characters makes at most one piece per character, plus one."""
    return ITEM_CHARS * (chars + 1)


def _case(value: Any) -> int:
    return as_text(value) + CASE_GROWTH * text_size(value)


def _title(value: Any) -> int:
    return _case(value) + _pieces(text_size(value))


def _center(value: Any, width: int = 80) -> int:
    return as_text(value) + max(text_size(value), width if isinstance(width, int) else 0)


def _escape(value: Any) -> int:
    return as_text(value) + ESCAPE_GROWTH * text_size(value)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> int:  # noqa: ARG001
    indention = len(width) if isinstance(width, str) else width
    lines = s.count("\n") + 2 if isinstance(s, str) else text_size(s) + 2
    return as_text(s) + 2 * text_size(s) + _pieces(lines) + indention * lines


def _replace(s: Any, old: Any, new: Any, count: int | None = None) -> int:
    text, old_text, new_text = (x if isinstance(x, str) else None for x in (s, old, new))
    converted = as_text(s) + as_text(old) + as_text(new)
    if text is None or old_text is None or new_text is None:
        return converted + (text_size(s) + 1) * (text_size(new) + 1)
    found = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    return converted + len(text) + found * len(new_text)


def _sequence(value: list[Any], *_: Any, **__: Any) -> int:
    return ITEM_CHARS * len(value)


def _batch(value: list[Any], linecount: int, fill_with: Any = None) -> int:  # noqa: ARG001
    return ITEM_CHARS * (len(value) + linecount)


def _slice(value: list[Any], slices: int, fill_with: Any = None) -> int:  # noqa: ARG001
    return ITEM_CHARS * (2 * len(value) + slices)


def _reverse(value: Any) -> int:
    return len(value) if isinstance(value, str) else ITEM_CHARS * len(value)


def _striptags(value: Any) -> int:
    return as_text(value) + 3 * text_size(value) + _pieces(text_size(value))


def _sum(iterable: Any, attribute: Any = None, start: Any = 0) -> int:  # noqa: ARG001
    if isinstance(start, bool) or not isinstance(start, (int, float)):
        raise SecurityError("sum adds numbers only: start must be a number")
    return 0


def _tojson(value: Any, indent: int | None = None) -> int:
    return json_size(value, indent)


def _trim(value: Any, chars: Any = None) -> int:
    return as_text(value) + as_text(chars) + text_size(value)


def _truncate(s: Any, length: int = 255, killwords: bool = False, end: Any = "...", leeway: Any = None) -> int:  # noqa: ARG001
    kept = min(text_size(s), length if isinstance(length, int) else 0)
    return as_text(s) + 2 * kept + text_size(end)


def _urlencode(value: Any) -> int:
    return as_text(value) + URL_GROWTH * text_size(value)


def _wordcount(s: Any) -> int:
    return as_text(s) + _pieces(text_size(s))


def _wordwrap(
    s: Any,
    width: int = 79,  # noqa: ARG001
    break_long_words: bool = True,  # noqa: ARG001
    wrapstring: Any = None,
    break_on_hyphens: bool = True,  # noqa: ARG001
) -> int:
    text = text_size(s)
    separator = 1 if wrapstring is None else text_size(wrapstring)
    return as_text(s) + as_text(wrapstring) + 3 * text + 2 * _pieces(text) + (text + 1) * separator


FILTER_COSTS: dict[str, Callable[..., int]] = {
    **dict.fromkeys(
        ("abs", "attr", "count", "d", "default", "first", "float", "int", "items", "last", "length", "map", "max"),
        _free,
    ),
    **dict.fromkeys(("min", "reject", "rejectattr", "round", "select", "selectattr"), _free),
    **dict.fromkeys(("capitalize", "lower", "upper"), _case),
    **dict.fromkeys(("e", "escape"), _escape),
    **dict.fromkeys(("dictsort", "list", "sort", "unique"), _sequence),
    "batch": _batch,
    "center": _center,
    "groupby": lambda value, *_, **__: 3 * ITEM_CHARS * len(value),
    "indent": _indent,
    "replace": _replace,
    "reverse": _reverse,
    "slice": _slice,
    "string": as_text,
    "striptags": _striptags,
    "sum": _sum,
    "title": _title,
    "tojson": _tojson,
    "trim": _trim,
    "truncate": _truncate,
    "urlencode": _urlencode,
    "wordcount": _wordcount,
    "wordwrap": _wordwrap,
}
SAFE_FILTERS = frozenset((*FILTER_COSTS, "join"))
"""No `format`, `%`-formatting, `pprint` or `filesizeformat`: width specifiers would allocate unbounded strings."""
assert set(FILTERS) >= SAFE_FILTERS, "every safe filter is a Jinja2 filter"
SEQUENCE_FILTERS = frozenset(("batch", "groupby", "list", "reverse", "slice", "sort", "unique"))
"""Filters that read their whole input: it is made a list under the budget first."""


def check_arguments(args: Iterable[Any]) -> None:
    """Numbers and strings passed to calls stay small (widths, counts, separators)."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_INT_ARGUMENT:
            raise SecurityError(f"numbers passed to calls must be at most {MAX_INT_ARGUMENT:,}")
        if isinstance(arg, str) and len(arg) > MAX_STRING_ARGUMENT:
            raise SecurityError(f"strings passed to calls must be at most {MAX_STRING_ARGUMENT:,} characters")


@pass_context
def _join(context: Context, value: Iterable[Any], d: Any = "", attribute: Any = None) -> str:
    """Jinja2's join, with every item's text and the separators counted before joining."""
    if attribute is not None:
        value = map(make_attrgetter(context.environment, attribute), value)
    items = charged_list(value, "join")
    charge(as_text(d), "join")
    separator = str(d)
    charge(ITEM_CHARS * len(items) + total_size(items) + len(separator) * len(items), "join")
    return separator.join(map(str, items))


def guarded_filter(name: str) -> Callable[..., Any]:
    """The named filter, charging its cost before it runs; takes the context so it is never folded at compile time."""
    function: Callable[..., Any] = _join if name == "join" else FILTERS[name]
    cost = _free if name == "join" else FILTER_COSTS[name]
    passes = _PassArg.from_obj(function)

    @pass_context
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        check_arguments(args)
        check_arguments(kwargs.values())
        if name in SEQUENCE_FILTERS:
            value = charged_list(value, name)
        charge(cost(value, *args, **kwargs), name)
        if passes is _PassArg.context:
            return function(context, value, *args, **kwargs)
        if passes is _PassArg.eval_context:
            return function(context.eval_ctx, value, *args, **kwargs)
        if passes is _PassArg.environment:
            return function(context.environment, value, *args, **kwargs)
        return function(value, *args, **kwargs)

    return guarded


def _string_method_cost(name: str, text: str) -> int:
    if name in ("capitalize", "casefold", "lower", "title", "upper"):
        return CASE_GROWTH * len(text)
    if name in ("lstrip", "rstrip", "strip", "removeprefix", "removesuffix"):
        return len(text)
    if name in ("partition", "rpartition"):
        return len(text) + 3 * ITEM_CHARS
    if name in ("split", "rsplit", "splitlines"):
        return len(text) + _pieces(len(text))
    return 0  # count, find, startswith and the is… tests read without building


# fmt: off
SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset((
        "capitalize", "casefold", "count", "endswith", "find", "isalnum", "isalpha", "isdigit", "islower", "isspace",
        "istitle", "isupper", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rpartition",
        "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "title", "upper",
    )),
    dict: frozenset(("get", "items", "keys", "values")),
    list: frozenset(("count", "index")),
    LoopContext: frozenset(("changed", "cycle")),
}
# fmt: on


def charge_method(method: Any) -> None:
    """Charges what a call of a safe method builds (string methods; the others only read)."""
    owner = getattr(method, "__self__", None)
    if isinstance(owner, str):
        charge(_string_method_cost(method.__name__, owner), f"str.{method.__name__}")

"""Context templates: user-written Jinja2 rendered in a sandbox that cannot reach Python internals or run away.

Templates are user data. They run in Jinja2's `ImmutableSandboxedEnvironment` (no attribute starting with `_`,
no internal attributes, no mutation of lists and dicts), and further:
- only a short list of methods may be called on strings, dicts and lists, and only side-effect-free filters
  exist (no `format`, `%`-formatting or other width specifiers that allocate unbounded strings);
- undefined names are errors (StrictUndefined), so a typo fails when the template is saved;
- every render has budgets: loop iterations, calls, integer arguments, repeated strings, powers and output size.
"""

from __future__ import annotations

import contextvars
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from jinja2 import StrictUndefined, Template, nodes
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range
from jinja2.utils import Joiner

from agentmem.domain.base import DomainError

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 5_000_000
MAX_ITERATIONS = 100_000
MAX_CALLS = 10_000
MAX_INT_ARGUMENT = 100_000
MAX_STRING_CHARS = 200_000
MAX_POWER_BITS = 4_096

DEFAULT_TEMPLATE = """{{ system }}

<memory_blocks>
The following memory blocks are currently engaged in your core memory unit:
{% for block in blocks %}
<{{ block.label }}>
<description>{{ block.description or "" }}</description>
<metadata>
- chars_current={{ block.size }}
- chars_limit={{ block.limit }}
</metadata>
<value>
{{ block.value }}
</value>
</{{ block.label }}>
{% endfor %}
</memory_blocks>"""
"""The context an agent gets when it carries no template of its own (the layout Letta popularised)."""

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
SAFE_FILTERS = frozenset((
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "groupby", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice", "sort", "string",
    "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "wordwrap",
))
# fmt: on
BUDGET_FILTER = "loop-budget"  # not a valid filter name in template syntax, so templates cannot call it


class TemplateRuleError(DomainError):
    """A context template that does not parse, reaches for something unsafe, or exceeds a budget."""


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS
        self.calls = MAX_CALLS

    def iterate(self) -> None:
        self.iterations -= 1
        if self.iterations < 0:
            raise SecurityError(f"the template loops more than {MAX_ITERATIONS:,} times")

    def call(self) -> None:
        self.calls -= 1
        if self.calls < 0:
            raise SecurityError(f"the template makes more than {MAX_CALLS:,} calls")


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _check_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_INT_ARGUMENT:
            raise SecurityError(f"numbers passed to calls must be at most {MAX_INT_ARGUMENT:,}")
        if isinstance(arg, str) and len(arg) > MAX_STRING_CHARS:
            raise SecurityError(f"strings passed to calls must be at most {MAX_STRING_CHARS:,} characters")


def _guarded_filter(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    skip = 2 if getattr(function, "jinja_pass_arg", None) is not None else 1

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args[skip:])
        _check_arguments(kwargs.values())
        if name == "replace" and len(args) > skip + 1:
            text, old, new = str(args[skip - 1]), str(args[skip]), str(args[skip + 1])
            if len(text) + (text.count(old) if old else len(text) + 1) * len(new) > MAX_STRING_CHARS:
                raise SecurityError(f"replace would make a string over {MAX_STRING_CHARS:,} characters")
        return function(*args, **kwargs)

    guarded.__dict__.update(getattr(function, "__dict__", {}))  # keeps jinja_pass_arg
    return guarded


def _budgeted(items: Iterable[Any]) -> Iterator[Any]:
    budget = _budget.get()
    for item in items:
        budget.iterate()
        yield item


class ContextEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox every context template runs in."""

    intercepted_binops = frozenset(("*", "**", "%"))

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals = {"range": safe_range, "dict": dict, "joiner": Joiner}
        self.filters = {name: _guarded_filter(FILTERS[name], name) for name in SAFE_FILTERS}
        self.filters[BUDGET_FILTER] = _budgeted

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Wraps every loop's iterable so each item is charged to the render's budget."""
        template = super()._parse(source, name, filename)
        for loop in template.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, BUDGET_FILTER, [], [], None, None, lineno=loop.lineno)
        return template

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if callable(value):
            allowed = next((names for kind, names in SAFE_METHODS.items() if isinstance(obj, kind)), frozenset())
            return attr in allowed
        return True

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _budget.get().call()
        _check_arguments(args)
        _check_arguments(kwargs.values())
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:  # noqa: ARG002
        if operator_name == "%" and isinstance(left, str):
            raise SecurityError("%-formatting is not available in templates; join text with ~")
        for sequence, times in ((left, right), (right, left)):
            repeated = operator_name == "*" and isinstance(sequence, (str, list, tuple)) and isinstance(times, int)
            if repeated and len(sequence) * times > MAX_STRING_CHARS:
                raise SecurityError(f"repetition would make more than {MAX_STRING_CHARS:,} items")
        powered = operator_name == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
        if powered and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
            raise SecurityError("the power is too large")
        return {"*": operator.mul, "**": operator.pow, "%": operator.mod}[operator_name](left, right)


_environment = ContextEnvironment()


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return _environment.from_string(source)


def _describe(error: Exception) -> str:
    line = getattr(error, "lineno", None)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"line {line}: {message}" if line else message


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Renders a template with the given variables; any failure is a TemplateRuleError saying what went wrong."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRuleError(f"the template is {len(source):,} characters; the limit is {MAX_TEMPLATE_CHARS:,}")
    token = _budget.set(_Budget())
    try:
        template = _compiled(source)
        parts: list[str] = []
        size = 0
        for part in template.generate(variables):
            size += len(part)
            if size > MAX_OUTPUT_CHARS:
                raise SecurityError(f"the output exceeds {MAX_OUTPUT_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)
    except TemplateRuleError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever user template code raises is the template's fault
        raise TemplateRuleError(_describe(error)) from None
    finally:
        _budget.reset(token)


AGENT_VARIABLES = ("id", "name", "description", "system", "tags", "metadata", "llm", "embedding")
BLOCK_VARIABLES = ("id", "label", "value", "size", "limit", "description", "read_only", "metadata", "version")
SAMPLE_BLOCKS = (
    {"id": "sample-persona", "label": "persona", "value": "I am a helpful assistant.", "limit": 5_000},
    {"id": "sample-human", "label": "human", "value": "The user's name is Sam.", "limit": 5_000},
)


def template_variables(
    agent: Mapping[str, Any], blocks: Sequence[Mapping[str, Any]], as_of: datetime | None = None
) -> dict[str, Any]:
    """What a template sees: `agent`, `system`, `blocks` (label, value, size, limit, …) and `as_of` (or None)."""

    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, UUID) else value

    return {
        "agent": {name: plain(agent.get(name)) for name in AGENT_VARIABLES},
        "system": agent.get("system") or "",
        "blocks": [{name: plain(block.get(name)) for name in BLOCK_VARIABLES} for block in blocks],
        "as_of": as_of.isoformat() if as_of is not None else None,
    }


def check_template(source: str, agent: Mapping[str, Any]) -> str:
    """Refuses a template that fails to render for this agent with two sample blocks (at save time, not chat time)."""
    extra = {"read_only": False, "metadata": {}, "version": 1}
    blocks = [{**b, **extra, "size": len(str(b["value"]))} for b in SAMPLE_BLOCKS]
    render(source, template_variables(agent, blocks))
    return source

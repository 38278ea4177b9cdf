"""Context templates: user-written Jinja2 rendered in a sandbox that cannot reach Python internals or run away.

Templates are user data. They run in Jinja2's `ImmutableSandboxedEnvironment` (no attribute starting with `_`,
no internal attributes, no mutation of lists and dicts), and further:
- only a short list of methods may be called on strings, dicts and lists, and only side-effect-free filters
  exist (no `format`, `%`-formatting or other width specifiers that allocate unbounded strings);
- undefined names are errors (StrictUndefined), so a typo fails when the template is saved;
- every render has budgets (template_budget.py): loop iterations, calls, the characters of every string and list
  it builds on the way (`~`, `+`, `*`, slices, joins, filters, methods, blocks captured by macros and `set`), and
  output size. Each operation is sized and charged before it allocates, so a template over budget never holds more
  than about the budget in memory.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range
from jinja2.utils import Joiner
from markupsafe import Markup

from agentmem.domain import template_budget as budget
from agentmem.domain.base import DomainError
from agentmem.domain.template_budget import ITEM_CHARS, text_size
from agentmem.domain.template_filters import SAFE_FILTERS, SAFE_METHODS, charge_method, check_arguments, guarded_filter

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 5_000_000
MAX_POWER_BITS = 4_096
BINOPS = {"+": operator.add, "*": operator.mul, "**": operator.pow, "%": operator.mod}

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

BUDGET_FILTER = "loop-budget"  # not a valid filter name in template syntax, so templates cannot call it


class TemplateRuleError(DomainError):
    """A context template that does not parse, reaches for something unsafe, or exceeds a budget."""


def _budgeted(items: Any) -> Any:
    spend = budget.current()
    for item in items:
        spend.iterate()
        yield item


def _join_parts(parts: Sequence[Any]) -> str:
    """`a ~ b ~ …`: the parts' text is sized and charged before it is joined."""
    budget.charge(sum(text_size(part) for part in parts), "~")
    return "".join(map(str, parts))


def _concat(parts: Any) -> str:
    """What a macro, `{% set %}` block, filter block or `self.block()` captured, charged before it is joined."""
    pieces = budget.charged_list(parts, "captured output")
    budget.charge(sum(map(len, pieces)), "captured output")
    return "".join(pieces)


def _finalize(value: Any) -> Any:
    """Printing a value that is not a string converts it: charged first (a list of big strings is not printed free)."""
    if type(value) is not str:
        budget.charge(text_size(value), "printing")
    return value


def _repeated_size(sequence: Any, times: int) -> int:
    size = len(sequence) * max(times, 0)
    return size if isinstance(sequence, str) else ITEM_CHARS * size


class _CodeGenerator(CodeGenerator):
    """Sends `~` and slices through the environment, which counts before building (Jinja2 does neither)."""

    @optimizeconst
    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _dict(source: Any = (), /, **kwargs: Any) -> dict[Any, Any]:
    """`dict(…)` in templates, its entries charged as they are made."""
    pairs = source if isinstance(source, Mapping) else budget.charged_list(source, "dict")
    budget.charge(ITEM_CHARS * (len(pairs) + len(kwargs)), "dict")
    return dict(pairs, **kwargs)


def _binop_cost(operator_name: str, left: Any, right: Any) -> int:
    """What `+`, `*`, `**` or `%` would build, or SecurityError for what is never allowed."""
    if operator_name == "%" and isinstance(left, str):
        raise SecurityError("%-formatting is not available in templates; join text with ~")
    if operator_name == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        size = len(left) + len(right)
        return size * (1 if isinstance(left, str) else ITEM_CHARS) * (5 if isinstance(left, Markup) else 1)
    if operator_name == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
                return _repeated_size(sequence, times)
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_POWER_BITS:
            raise SecurityError("the product is too large")
    powered = operator_name == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
    if powered and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
        raise SecurityError("the power is too large")
    return 0


class ContextEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox every context template runs in."""

    intercepted_binops = frozenset(("+", "*", "**", "%"))
    code_generator_class = _CodeGenerator

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_finalize)
        self.globals = {"range": safe_range, "dict": _dict, "joiner": Joiner}
        self.filters = {name: guarded_filter(name) for name in SAFE_FILTERS}
        self.filters[BUDGET_FILTER] = _budgeted
        self.concat = _concat  # type: ignore[method-assign] # Jinja2 joins captured output with this
        self.join_parts = _join_parts

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Wraps every loop's iterable so each item is charged; refuses autoescape blocks (they copy text unseen)."""
        template = super()._parse(source, name, filename)
        for modifier in template.find_all(nodes.EvalContextModifier):
            raise SecurityError(f"line {modifier.lineno}: autoescape blocks are not available in context templates")
        for loop in template.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, BUDGET_FILTER, [], [], None, None, lineno=loop.lineno)
        return template

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if callable(value):
            allowed: frozenset[str] = next(
                (names for kind, names in SAFE_METHODS.items() if isinstance(obj, kind)), frozenset()
            )
            return attr in allowed
        return True

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, slice) and isinstance(obj, (str, list, tuple)):
            size = len(range(*argument.indices(len(obj))))
            budget.charge(size if isinstance(obj, str) else ITEM_CHARS * size, "slicing")
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget.current().call()
        check_arguments(args)
        check_arguments(kwargs.values())
        charge_method(__obj)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:  # noqa: ARG002
        budget.charge(_binop_cost(operator_name, left, right), operator_name)
        return BINOPS[operator_name](left, right)


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
    token = budget.start()
    try:
        template = _compiled(source)
        parts: list[str] = []
        size = 0
        # the render function itself, not generate(): Jinja2's traceback rewriting there copies the template's
        # variables into fake frames left in a reference cycle, keeping every string they held until a collection
        for part in template.root_render_func(template.new_context(dict(variables))):
            size += len(part)
            if size > MAX_OUTPUT_CHARS:
                raise SecurityError(f"the output exceeds {MAX_OUTPUT_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)
    except TemplateRuleError:
        raise
    except Exception as error:  # noqa: BLE001 - whatever user template code raises is the template's fault
        message = _describe(error)
    finally:
        budget.stop(token)
    raise TemplateRuleError(message)  # outside the handler, so it keeps no reference to the template's error


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


SAMPLE_AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
CHECKS = ((0, None), (1, SAMPLE_AS_OF), (2, None))
"""How the save-time check renders: with no blocks, with one (and a time-travel `as_of`), and with two."""


def check_template(source: str, agent: Mapping[str, Any]) -> str:
    """Refuses a template that fails to render for this agent with 0, 1 or 2 sample blocks (at save, not chat time).

    What it cannot see, and only the render (GET …/context, 422) reports: failures that depend on the agent's real
    blocks (more than two of them, their labels, values or metadata) and budgets that only their sizes exceed.
    """
    extra = {"read_only": False, "metadata": {}, "version": 1}
    blocks = [{**b, **extra, "size": len(str(b["value"]))} for b in SAMPLE_BLOCKS]
    for count, as_of in CHECKS:
        render(source, template_variables(agent, blocks[:count], as_of))
    return source

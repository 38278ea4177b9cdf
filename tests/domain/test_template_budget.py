"""Every string and list a template builds counts against one budget, checked before it is built."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from agentmem.domain.context_template import DEFAULT_TEMPLATE, TemplateRuleError, render, template_variables
from agentmem.domain.template_budget import MAX_BUILT_CHARS

AGENT = {"id": "a-1", "name": "Ada", "system": "Be brief."}
SET_BIG = '{% set a0 = "x" * 200000 %}'
DOUBLINGS = SET_BIG + "".join(f"{{% set a{i + 1} = a{i} ~ a{i} %}}" for i in range(10)) + "{{ a10|length }}"
MEMORY_LIMIT = 40 * 2**20
"""What one refused render may allocate: the budget (10 M characters) with room for Python's overheads."""

ATTACKS = [
    DOUBLINGS,
    '{{ (range(1000)|join("y" * 100000))|length }}',
    SET_BIG + "".join(f"{{% set a{i + 1} = a{i} + a{i} %}}" for i in range(10)),
    SET_BIG + "{{ ([a0] * 1000)|join|length }}",
    SET_BIG + "{{ [a0] * 100 }}",
    SET_BIG + "{{ ([a0] * 100)|string|length }}",
    SET_BIG + "{{ ([a0] * 100)|tojson|length }}",
    "{{ (range(100000)|list)|tojson(indent=100000)|length }}",
    SET_BIG + "{{ (a0|replace('x', 'x\\n'))|indent(100000)|length }}",
    "{% for i in range(100000) %}{% set c = ''|center(100000) %}{% endfor %}",
    SET_BIG + "{% for i in range(100000) %}{% set b = a0[1:] %}{% endfor %}",
    SET_BIG + "{% for i in range(100000) %}{% set b = a0.upper() %}{% endfor %}",
    SET_BIG + "{% for i in range(100000) %}{% set b = a0|list %}{% endfor %}",
    SET_BIG + "{% macro m() %}{% for i in range(1000) %}{{ a0 }}{% endfor %}{% endmacro %}{{ m()|length }}",
    SET_BIG + "{% set x %}{% for i in range(1000) %}{{ a0 }}{% endfor %}{% endset %}{{ x|length }}",
    SET_BIG + "{% filter length %}{% for i in range(1000) %}{{ a0 }}{% endfor %}{% endfilter %}",
    SET_BIG + "{{ (range(1000)|map('string')|join(a0))|length }}",
    SET_BIG + "{{ ([a0] * 1000)|batch(2)|map('join')|join|length }}",
    SET_BIG + "{{ a0|wordwrap(1, wrapstring=a0[:100000])|length }}",
    SET_BIG + "{{ ((a0 ~ ' ') * 40)|title|length }}",
    "{% set a = 2 ** 2000 %}{% set b = a * a %}{% set c = b * b %}{{ c }}",
    "{{ range(1000000)|length }}",
    "{% autoescape true %}{{ 'x' }}{% endautoescape %}",
    "{{ [1, 2]|sum(start=[]) }}",
    '{% set a0 = "\U0001f600" * 200000 %}' + "".join(f"{{% set a{i + 1} = a{i} ~ a{i} %}}" for i in range(10)),
]


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.mark.parametrize("template", ATTACKS)
@pytest.mark.usefixtures("traced")
def test_a_template_that_would_build_too_much_is_refused_before_it_allocates(template: str) -> None:
    tracemalloc.reset_peak()
    with pytest.raises(TemplateRuleError):
        render(template, template_variables(AGENT, []))
    assert tracemalloc.get_traced_memory()[1] < MEMORY_LIMIT


def test_the_refusal_says_which_budget_and_where() -> None:
    with pytest.raises(TemplateRuleError, match=f"past {MAX_BUILT_CHARS:,} characters built"):
        render(DOUBLINGS, template_variables(AGENT, []))
    with pytest.raises(TemplateRuleError, match="join would take the template past"):
        render('{{ range(1000)|join("y" * 100000) }}', template_variables(AGENT, []))
    with pytest.raises(TemplateRuleError, match="autoescape"):
        render("{% autoescape true %}{% endautoescape %}", template_variables(AGENT, []))


def test_a_full_agent_still_renders_and_can_transform_every_block_once() -> None:
    blocks = [
        {"id": f"b{i}", "label": f"l{i}", "value": ("word " * 19_000)[:95_000], "size": 95_000, "limit": 100_000}
        for i in range(50)
    ]
    variables = template_variables(AGENT, blocks)
    assert len(render(DEFAULT_TEMPLATE, variables)) > 50 * 95_000
    transformed = "{% for b in blocks %}{{ b.value|replace('word', 'w') ~ b.label }}{% endfor %}"
    assert len(render(transformed, variables)) == 50 * (95_000 - 3 * 19_000) + 10 * 2 + 40 * 3


def test_ordinary_building_costs_what_it_makes() -> None:
    variables = template_variables(AGENT, [])
    assert render(SET_BIG + "{{ (a0 ~ a0)|length }}", variables) == "400000"
    assert render("{{ (range(3)|join(', ')) ~ '!' }}", variables) == "0, 1, 2!"
    assert render("{{ ['a', 'b'] + ['c'] }} {{ 'ab' * 2 }} {{ 'abc'[1:] }}", variables) == "['a', 'b', 'c'] abab bc"
    assert render("{{ dict(a=1)|tojson }} {{ 'A b'.lower().split() }}", variables) == "{\"a\": 1} ['a', 'b']"
    assert render("{% set x %}hi {{ agent.name }}{% endset %}{{ x|upper }}", variables) == "HI ADA"

"""Context templates run in a sandbox: no way to Python internals, bounded work, errors that say what is wrong."""

from __future__ import annotations

import time

import pytest

from agentmem.domain.context_template import (
    DEFAULT_TEMPLATE,
    TemplateRuleError,
    check_template,
    render,
    template_variables,
)

AGENT = {"id": "a-1", "name": "Ada", "system": "Be brief.", "tags": ["x"], "metadata": {"team": "red"}}
BLOCKS = [{"id": "b-1", "label": "human", "value": "Sam likes tea", "size": 13, "limit": 5_000}]
VARIABLES = template_variables(AGENT, BLOCKS)

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ ''|attr('__class__') }}",
    "{{ blocks.__class__.__base__ }}",
    "{{ blocks[0]['__class__'] }}",
    "{{ agent.__class__.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__globals__ }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__['os'] }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ '{0.__class__}'.format('') }}",
    "{{ ''.format.__globals__ }}",
    "{{ 'x'.encode('utf-8') }}",
    "{{ agent.update({'name': 'mallory'}) }}",
    "{{ blocks.append(1) }}",
    "{{ dict.fromkeys([1]) }}",
    "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
]
RUNAWAYS = [
    "{{ 'a' * 20000000 }}",
    "{{ 2 ** 100000 }}",
    "{{ 'x'|center(1000000000) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ 'a'|replace('a', 'b' * 100000)|replace('b', 'c' * 200) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(x) %}{{ f(x ~ x) }}{% endmacro %}{{ f('ab') }}",
    "{% for x in blocks recursive %}{{ loop([x]) }}{% endfor %}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_templates_cannot_reach_python_internals(template: str) -> None:
    with pytest.raises(TemplateRuleError):
        render(template, VARIABLES)


@pytest.mark.parametrize("template", RUNAWAYS)
def test_templates_that_would_run_away_are_stopped_quickly(template: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateRuleError):
        render(template, VARIABLES)
    assert time.perf_counter() - started < 2


def test_the_default_template_shows_instructions_and_each_block_with_size_and_limit() -> None:
    text = render(DEFAULT_TEMPLATE, VARIABLES)
    assert text.startswith("Be brief.")
    assert "<human>" in text and "Sam likes tea" in text
    assert "chars_current=13" in text and "chars_limit=5000" in text


def test_a_custom_template_can_use_loops_filters_and_agent_fields() -> None:
    template = "{{ agent.name|upper }}{% for b in blocks %} [{{ b.label }} {{ b.size }}/{{ b.limit }}]{% endfor %}"
    assert render(template, VARIABLES) == "ADA [human 13/5000]"


def test_errors_say_what_went_wrong() -> None:
    with pytest.raises(TemplateRuleError, match="line 1"):
        render("{% if %}", VARIABLES)
    with pytest.raises(TemplateRuleError, match="'nope' is undefined"):
        render("{{ nope }}", VARIABLES)
    with pytest.raises(TemplateRuleError, match="__class__"):
        render("{{ ''.__class__ }}", VARIABLES)


def test_a_template_is_checked_against_the_agent_and_sample_blocks() -> None:
    assert check_template("{{ agent.metadata.team }}{% for b in blocks %}: {{ b.label }}{% endfor %}", AGENT)
    with pytest.raises(TemplateRuleError):
        check_template("{{ agent.metadata.missing.deeper }}", AGENT)


@pytest.mark.parametrize(
    "template",
    [
        "{{ blocks[0].value }}",  # fails for an agent with no blocks
        "{% if blocks %}{{ blocks[0].value }} and {{ blocks[1].value }}{% endif %}",  # fails with exactly one
        "{{ as_of[:10] }}",  # fails when not reading the past (as_of is None)
        "{% if as_of %}{{ as_of.year }}{% endif %}",  # fails when reading the past (as_of is a string)
    ],
)
def test_a_template_that_would_fail_for_some_agents_is_refused_at_save_time(template: str) -> None:
    with pytest.raises(TemplateRuleError):
        check_template(template, AGENT)


def test_a_template_that_passes_the_check_renders_with_no_one_or_many_blocks() -> None:
    template = "{% if blocks %}{{ blocks[0].label }}{% else %}none{% endif %} at {{ as_of or 'now' }}"
    check_template(template, AGENT)
    many = [{**BLOCKS[0], "label": f"b{i}"} for i in range(5)]
    assert [render(template, template_variables(AGENT, b)) for b in ([], BLOCKS, many)] == [
        "none at now",
        "human at now",
        "b0 at now",
    ]

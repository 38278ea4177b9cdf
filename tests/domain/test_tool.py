"""The tool aggregate's rules: names, schemas (local references only), sources, limits, secrets; and a run record."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.secret import InvalidSecretNameError, check_secret_name
from agentmem.domain.tool import InvalidToolError, Tool, ToolDeletedError
from agentmem.domain.tool_run import RECORDED_OUTPUT_CHARS, ToolRun

CTX = Context(tenant_id="acme", actor_id="alice", request_id="req-1")
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city"],
    "$defs": {"unused": {"type": "string"}},
}


def new_tool(**fields: Any) -> Tool:
    base = {"name": "weather", "language": "python", "source": "def main(city, days=1):\n    return city\n"}
    return Tool.create(id=uuid4(), context=CTX, **{**base, "parameters": SCHEMA, **fields})


def test_a_new_tool_keeps_its_fields_and_defaults() -> None:
    tool = new_tool(secrets=["API_KEY", "API_KEY"], tags=["a", "a", "b"])
    assert (tool.timeout_s, tool.memory_mb, tool.description) == (10.0, 256, "")
    assert tool.secrets == ["API_KEY"] and tool.tags == ["a", "b"] and tool.version == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "2fast"}, "name"),
        ({"name": "a" * 65}, "name"),
        ({"language": "cobol"}, "language"),
        ({"source": "   "}, "source"),
        ({"source": "def main(:"}, "source"),
        ({"source": "def other():\n    pass\n"}, "source"),
        ({"parameters": {"type": "object", "properties": {"x": {"$ref": "file:///etc/passwd"}}}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"x": {"minimum": "zero"}}}}, "parameters"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": True}, "timeout_s"),
        ({"memory_mb": 2048}, "memory_mb"),
        ({"memory_mb": 100.5}, "memory_mb"),
        ({"secrets": ["lower"]}, "secrets[0]"),
        ({"secrets": ["OK", "ARG_X"]}, "secrets[1]"),
        ({"tags": [""]}, "tags"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_a_field_that_breaks_a_rule_is_named(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        new_tool(**fields)
    assert refused.value.field == field


def test_sources_in_bash_and_javascript_are_not_parsed_but_python_may_bind_main_any_way() -> None:
    assert new_tool(language="bash", source="echo $((").language == "bash"
    assert new_tool(source="from json import dumps as main\n").source.startswith("from json")
    assert new_tool(source="main = lambda **args: args\n").version == 1


def test_arguments_are_checked_against_the_schema_naming_the_first_bad_one() -> None:
    tool = new_tool()
    assert tool.check_args({"city": "Oslo", "days": 2}) == {"city": "Oslo", "days": 2}
    for args, field in (({}, "args"), ({"city": 3}, "args.city"), ({"city": "Oslo", "days": 0}, "args.days")):
        with pytest.raises(InvalidToolError) as refused:
            tool.check_args(args)
        assert refused.value.field == field
    with pytest.raises(InvalidToolError):
        tool.check_args(["Oslo"])  # type: ignore[arg-type]


def test_an_update_records_only_what_differs_and_a_deleted_tool_is_frozen() -> None:
    tool = new_tool()
    assert not tool.update(CTX, {"timeout_s": 10})
    assert tool.update(CTX, {"timeout_s": 5, "language": "bash"})  # the source is checked in the new language
    assert (tool.version, tool.timeout_s, tool.language) == (2, 5.0, "bash")
    with pytest.raises(InvalidToolError):
        tool.update(CTX, {"language": "python", "source": "not python ("})
    tool.delete(CTX)
    with pytest.raises(ToolDeletedError):
        tool.update(CTX, {"timeout_s": 3})
    tool.restore(CTX)
    assert tool.update(CTX, {"timeout_s": 3}) and not tool.deleted


@pytest.mark.parametrize("name", ["PATH", "LD_PRELOAD", "PYTHONPATH", "NODE_OPTIONS", "BASH_ENV", "lower", "1X", ""])
def test_secret_names_the_sandbox_keeps_or_that_are_not_variable_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidSecretNameError):
        check_secret_name(name)


def test_a_run_record_cuts_long_outputs_and_large_return_values() -> None:
    run = ToolRun.record(
        id=uuid4(),
        context=CTX,
        stdout="x" * (RECORDED_OUTPUT_CHARS + 10),
        stderr="",
        return_json_bytes=20_000,
        tool_id=uuid4(),
        tool_version=1,
        args={},
        status="ok",
        exit_code=0,
        duration_ms=1.0,
        return_value={"big": "…"},
        truncated=False,
        error=None,
        agent_run_id="run-7",
    )
    assert len(run.stdout) == RECORDED_OUTPUT_CHARS and run.return_value is None and run.truncated

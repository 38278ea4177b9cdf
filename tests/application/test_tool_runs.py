"""Running tools through the application, without HTTP: what the agent loop and other entrypoints use."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from agentmem.application.llm import Tool as LLMTool
from agentmem.application.llm import ToolCall
from agentmem.application.sandbox import RunResult
from agentmem.application.tool_runs import redact
from agentmem.application.tools import NewTool
from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.tool_run import ToolRun
from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.metrics import scrape, value


def result(**fields: object) -> RunResult:
    base: dict[str, object] = {
        "status": "ok",
        "return_value": None,
        "stdout": "",
        "stderr": "",
        "exit_code": 0,
        "duration_ms": 1.0,
        "truncated": False,
    }
    return RunResult(**{**base, **fields})  # type: ignore[arg-type]


def test_secret_values_are_redacted_wherever_a_result_shows_them() -> None:
    shown = result(
        stdout="token=s3cr3t-value",
        stderr="s3cr3t-value!",
        error="bad s3cr3t-value",
        return_value={"s3cr3t-value": ["x s3cr3t-value", 1]},
    )
    clean = redact(shown, {"TOKEN": "s3cr3t-value", "PIN": "12"})
    assert clean.stdout == "token=[secret TOKEN]" and clean.stderr == "[secret TOKEN]!"
    assert clean.error == "bad [secret TOKEN]"
    assert clean.return_value == {"[secret TOKEN]": ["x [secret TOKEN]", 1]}
    assert redact(result(stdout="12"), {"PIN": "12"}).stdout == "12"  # too short to redact without noise


def test_a_run_for_an_agent_is_recorded_with_its_agent_run_id_and_outputs_made_storable(
    container: Container, context: Context, admin: ApiClient
) -> None:
    before = scrape(admin)
    source = "import sys\ndef main():\n    sys.stdout.write('a\\x00b')\n    return 'done'\n"
    tool = container.tools.create(NewTool(name="nul_printer", language="python", source=source), context).aggregate
    outcome = container.tool_runner.run(tool.id, {}, context, agent_run_id="agent-run-1")
    assert outcome.result.status == "ok" and outcome.result.stdout == "a\x00b"  # the caller gets the bytes
    recorded = container.tools.load(ToolRun, outcome.run_id, context.tenant_id)
    assert recorded is not None and recorded.agent_run_id == "agent-run-1"
    assert recorded.stdout == "a\ufffdb" and recorded.tool_version == 1 and recorded.created_by == context.actor_id
    ran = {"language": "python", "status": "ok"}
    after = scrape(admin)
    for name in ("agentmem_tool_runs_total", "agentmem_tool_run_seconds_count"):
        assert value(after, name, **ran) - value(before, name, **ran) == 1


def test_arguments_a_read_model_cannot_store_are_refused_before_the_run(container: Container, context: Context) -> None:
    tool = container.tools.create(
        NewTool(name="echo", language="python", source="def main(**args):\n    return args\n"), context
    ).aggregate
    with pytest.raises(InvalidInput) as refused:
        container.tool_runner.run(tool.id, {"text": "a\x00b"}, context)
    assert refused.value.field == "args.text"
    specs = container.tools.specs([tool.id, UUID(int=1)], context.tenant_id)
    assert [(s.name, s.parameters) for s in specs] == [("echo", {"type": "object", "properties": {}})]


def test_a_model_call_runs_the_offered_tool_and_mistakes_go_back_to_the_model(
    container: Container, context: Context
) -> None:
    parameters = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a"]}
    source = "def main(a, b=0):\n    print('adding')\n    return a + b\n"
    tool = container.tools.create(
        NewTool(name="add", language="python", source=source, description="Adds.", parameters=parameters), context
    ).aggregate
    specs = container.tools.specs([tool.id], context.tenant_id)
    assert specs[0].offered() == LLMTool("add", "Adds.", parameters)
    answer = container.tool_runner.answer(
        ToolCall("call-1", "add", {"a": 2, "b": 3}), specs, context, agent_run_id="r9"
    )
    assert (answer.role, answer.tool_call_id, answer.name) == ("tool", "call-1", "add")
    body = json.loads(answer.content)
    assert (body["status"], body["return_value"], body["stdout"]) == ("ok", 5, "adding\n")
    wrong = json.loads(container.tool_runner.answer(ToolCall("call-2", "add", {"a": "two"}), specs, context).content)
    assert wrong["status"] == "error" and "args.a" in wrong["error"]
    unknown = json.loads(container.tool_runner.answer(ToolCall("call-3", "rm_rf", {}), specs, context).content)
    assert unknown == {"status": "error", "error": "no tool named rm_rf"}

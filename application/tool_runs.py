"""Running a tool: its arguments checked against its schema before anything runs, only the secrets it names, the
sandbox, and one event recording how the run ended."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID, uuid4

from agentmem.application.base import ApplicationError
from agentmem.application.llm import Message, ToolCall
from agentmem.application.metrics import TOOL_RUNS, TOOL_SECONDS
from agentmem.application.sandbox import Code, Limits, RunResult, Sandbox
from agentmem.application.secrets import SecretApplication
from agentmem.application.telemetry import span
from agentmem.application.tools import ToolApplication, ToolSpec
from agentmem.domain.base import Context
from agentmem.domain.errors import InvalidInput
from agentmem.domain.storable import NUL, unstorable
from agentmem.domain.tool import Tool
from agentmem.domain.tool_run import RECORDED_OUTPUT_CHARS, ToolRun, cut

MAX_ARGS_BYTES = 65_536
REDACTED = "[secret {}]"


class InvalidArgumentsError(ApplicationError, InvalidInput):
    """The arguments of a run break a rule of their own (size, storability), before the tool's schema."""


@dataclass(frozen=True, slots=True)
class ToolRunOutcome:
    """A finished run: its id, the tool (at the version that ran), the sandbox's result, and the log position."""

    run_id: UUID
    tool: Tool
    result: RunResult
    position: int


def redact(result: RunResult, secrets: dict[str, str]) -> RunResult:
    """The result with every secret value it shows replaced by its name (a tool printing its secret leaks nothing
    into answers, events or the audit trail; an encoded secret still does: only owners write such tools)."""
    values = sorted(((v, REDACTED.format(n)) for n, v in secrets.items() if len(v) >= 3), key=lambda p: -len(p[0]))
    if not values:
        return result

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            for secret, name in values:
                value = value.replace(secret, name)
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    return replace(
        result,
        stdout=clean(result.stdout),
        stderr=clean(result.stderr),
        error=clean(result.error),
        return_value=clean(result.return_value),
    )


def storable_text(text: str) -> str:
    return text.replace(NUL, "\ufffd")


class ToolRunner:
    """Runs tools in the sandbox on behalf of a caller (or of an agent's run) and records every run."""

    def __init__(self, tools: ToolApplication, secrets: SecretApplication, sandbox: Sandbox, limits: Limits) -> None:
        self.tools = tools
        self.secrets = secrets
        self.sandbox = sandbox
        self.limits = limits

    def run(
        self, tool_id: UUID, args: dict[str, Any], context: Context, *, agent_run_id: str | None = None
    ) -> ToolRunOutcome:
        """Checks the arguments (InvalidInput naming the first bad one), runs the tool, records the run."""
        tool = self.tools.get(tool_id, context.tenant_id)
        size = len(json.dumps(args).encode())
        if size > MAX_ARGS_BYTES:
            raise InvalidArgumentsError("args", f"args are {size:,} bytes of JSON; the limit is {MAX_ARGS_BYTES:,}")
        found = unstorable(args, "args")
        if found is not None:
            raise InvalidArgumentsError(found[0], f"{found[0]} {found[1]}")
        tool.check_args(args)
        env = self.secrets.values(context.tenant_id, tool.secrets)
        limits = replace(self.limits, timeout_s=tool.timeout_s, memory_mb=tool.memory_mb)
        with span("tool.run", {"agentmem.tool_language": tool.language}) as traced:
            result = redact(self.sandbox.run(Code(tool.language, tool.source, env), args, limits), env)
            traced.set("agentmem.tool_status", result.status)
        TOOL_RUNS.inc(language=tool.language, status=result.status)
        TOOL_SECONDS.observe(result.duration_ms / 1000, language=tool.language, status=result.status)
        recorded = result.return_value if unstorable(result.return_value) is None else None
        run = ToolRun.record(
            id=uuid4(),
            context=context,
            tool_id=tool.id,
            tool_version=tool.version,
            args=args,
            status=result.status,
            exit_code=result.exit_code,
            duration_ms=result.duration_ms,
            stdout=storable_text(result.stdout),
            stderr=storable_text(result.stderr),
            return_value=recorded,
            return_json_bytes=len(json.dumps(recorded)),
            truncated=result.truncated or recorded != result.return_value,
            error=storable_text(result.error) if result.error else None,
            agent_run_id=agent_run_id,
        )
        return ToolRunOutcome(run.id, tool, result, self.tools.record(run))

    def answer(
        self, call: ToolCall, offered: Sequence[ToolSpec], context: Context, *, agent_run_id: str | None = None
    ) -> Message:
        """Runs the tool a model called (one of those it was `offered`) and gives the model the result.

        Arguments that miss the schema, or an unknown name, become an error the model reads (and may correct),
        not an exception: the chat goes on. Outputs are cut to RECORDED_OUTPUT_CHARS for the model's context.
        """
        spec = next((s for s in offered if s.name == call.name), None)
        if spec is None:
            return Message.tool_result(call, json.dumps({"status": "error", "error": f"no tool named {call.name}"}))
        try:
            outcome = self.run(spec.id, call.arguments, context, agent_run_id=agent_run_id)
        except InvalidInput as error:
            return Message.tool_result(call, json.dumps({"status": "error", "error": str(error)}))
        result = outcome.result
        answer = {
            "status": result.status,
            "return_value": result.return_value,
            "stdout": cut(result.stdout),
            "stderr": cut(result.stderr),
            "error": result.error,
            "truncated": result.truncated or max(len(result.stdout), len(result.stderr)) > RECORDED_OUTPUT_CHARS,
        }
        return Message.tool_result(call, json.dumps(answer))

"""The tool run aggregate: one run of a tool, recorded once with how it ended (outputs cut to a few KiB)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, TenantAggregate

RECORDED_OUTPUT_CHARS = 4_096
"""Characters of stdout and stderr a run's event keeps (the run's answer carries up to the output cap)."""
RECORDED_RETURN_BYTES = 16_384
"""A return value larger than this as JSON is not kept in the event (the run's answer carries it)."""


def cut(text: str) -> str:
    return text if len(text) <= RECORDED_OUTPUT_CHARS else text[:RECORDED_OUTPUT_CHARS]


class ToolRun(TenantAggregate):
    """A run of a tool at one version: its arguments, status, exit code, duration, outputs and who ran it."""

    class Created(TenantAggregate.Created):
        tool_id: UUID
        tool_version: int
        args: dict[str, Any]
        status: str
        exit_code: int | None
        duration_ms: float
        stdout: str
        stderr: str
        return_value: Any
        truncated: bool
        error: str | None
        agent_run_id: str | None

    @classmethod
    def record(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        stdout: str,
        stderr: str,
        return_json_bytes: int,
        **fields: Any,
    ) -> ToolRun:
        """Records how a run ended; outputs longer than the recorded cut are cut (and marked truncated)."""
        truncated = (
            fields.pop("truncated") or len(stdout) > RECORDED_OUTPUT_CHARS or len(stderr) > RECORDED_OUTPUT_CHARS
        )
        if return_json_bytes > RECORDED_RETURN_BYTES:
            fields["return_value"] = None
            truncated = True
        return cls(
            id=id, stdout=cut(stdout), stderr=cut(stderr), truncated=truncated, **fields, **context.event_fields()
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        tool_id: UUID,
        tool_version: int,
        args: dict[str, Any],
        status: str,
        exit_code: int | None,
        duration_ms: float,
        stdout: str,
        stderr: str,
        return_value: Any,
        truncated: bool,
        error: str | None,
        agent_run_id: str | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.tool_id = tool_id
        self.tool_version = tool_version
        self.args = args
        self.status = status
        self.exit_code = exit_code
        self.duration_ms = duration_ms
        self.stdout = stdout
        self.stderr = stderr
        self.return_value = return_value
        self.truncated = truncated
        self.error = error
        self.agent_run_id = agent_run_id
        self.created_by = actor_id

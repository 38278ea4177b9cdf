"""Request and response bodies of /v1/tools (and their runs) and /v1/secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Response
from msgspec import UNSET, Meta, Struct, UnsetType

from agentmem.api.responses import written
from agentmem.application.base import Saved
from agentmem.application.tool_runs import ToolRunOutcome
from agentmem.domain.tool import (
    MAX_DESCRIPTION_CHARS,
    MAX_MEMORY_MB,
    MAX_SECRETS,
    MAX_SOURCE_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TIMEOUT_S,
    MIN_MEMORY_MB,
    Tool,
)
from agentmem.projections.tools import ToolRow, ToolRunRow

ToolName = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="A function name, unique in the organization: what a language model calls the tool.",
    ),
]
Language = Literal["python", "bash", "javascript"]
Source = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_SOURCE_CHARS,
        description="Python: defines main(**args). JavaScript: exports main(args). Bash: reads args from stdin "
        "(JSON) or ARG_<NAME>; a JSON value on the last line of stdout is the return value.",
    ),
]
Parameters = Annotated[
    dict[str, Any],
    Meta(description='A JSON Schema (draft 2020-12) of the arguments object: {"type": "object", …}.'),
]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)]
TimeoutS = Annotated[float, Meta(ge=0.1, le=MAX_TIMEOUT_S, description="Wall-clock seconds a run may take.")]
MemoryMb = Annotated[int, Meta(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB, description="Memory per process, MiB.")]
SecretName = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]
Secrets = Annotated[
    list[SecretName],
    Meta(max_length=MAX_SECRETS, description="Organization secrets the tool gets as environment variables."),
]
Tag = Annotated[str, Meta(min_length=1, max_length=MAX_TAG_CHARS)]
Tags = Annotated[list[Tag], Meta(max_length=MAX_TAGS)]


def default_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


class ToolCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A tool to register."""

    name: ToolName
    language: Language
    source: Source
    description: Description = ""
    parameters: Parameters = msgspec.field(default_factory=default_parameters)
    timeout_s: TimeoutS = 10.0
    memory_mb: MemoryMb = 256
    secrets: Secrets = []
    tags: Tags = []


class ToolPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; absent fields stay."""

    name: ToolName | UnsetType = UNSET
    language: Language | UnsetType = UNSET
    source: Source | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    parameters: Parameters | UnsetType = UNSET
    timeout_s: TimeoutS | UnsetType = UNSET
    memory_mb: MemoryMb | UnsetType = UNSET
    secrets: Secrets | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET


class ToolOut(Struct):
    """A tool as stored, at one version."""

    id: str
    version: int
    name: str
    description: str
    parameters: dict[str, Any]
    language: str
    source: str
    timeout_s: float
    memory_mb: int
    secrets: list[str]
    tags: list[str]
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class ToolWriteOut(ToolOut):
    """A tool after a write, with the log position to pass as `min_position` to later reads."""

    position: int


class ToolPageOut(Struct):
    """One page of tools; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[ToolOut]
    next_cursor: str | None


class RunIn(Struct, forbid_unknown_fields=True):
    """The arguments of a run; they must meet the tool's `parameters` schema."""

    args: dict[str, Any] = {}


class RunOut(Struct):
    """How a run ended: ok, error (non-zero exit, exception, bad return value), timeout, or killed (a limit)."""

    run_id: str
    tool_id: str
    tool_version: int
    status: Literal["ok", "error", "timeout", "killed"]
    return_value: Any
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: float
    truncated: bool
    error: str | None
    position: int


class ToolRunOut(Struct):
    """A recorded run (stdout and stderr as its event kept them: at most 4,096 characters each)."""

    id: str
    tool_id: str
    tool_version: int
    args: dict[str, Any]
    status: str
    return_value: Any
    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: float
    truncated: bool
    error: str | None
    agent_run_id: str | None
    created_at: datetime
    created_by: str


class ToolRunPageOut(Struct):
    """One page of a tool's runs; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[ToolRunOut]
    next_cursor: str | None


class SecretIn(Struct, forbid_unknown_fields=True):
    """A secret's value: write-only, never returned."""

    value: Annotated[str, Meta(min_length=1, max_length=8_192)]


class SecretOut(Struct):
    """A secret by name: which version set its value, and when (the value is never returned)."""

    name: str
    version: int
    updated_at: datetime | None = None


class SecretWriteOut(SecretOut):
    """A secret after it was set, with the log position of the change."""

    position: int = 0


class SecretListOut(Struct):
    """The organization's secrets, by name."""

    items: list[SecretOut]


def tool_fields(tool: Tool | ToolRow) -> dict[str, Any]:
    """A tool answer's fields from the aggregate (by-id reads) or a read-model row (lists)."""
    created, updated = (
        (tool.created_on, tool.modified_on) if isinstance(tool, Tool) else (tool.created_at, tool.updated_at)
    )
    return {
        "id": str(tool.id),
        "version": tool.version,
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "language": tool.language,
        "source": tool.source,
        "timeout_s": tool.timeout_s,
        "memory_mb": tool.memory_mb,
        "secrets": list(tool.secrets),
        "tags": list(tool.tags),
        "deleted": tool.deleted,
        "created_at": created,
        "updated_at": updated,
        "created_by": tool.created_by,
        "updated_by": tool.updated_by,
    }


def tool_written(saved: Saved[Tool], status_code: int = 200) -> Response[ToolWriteOut]:
    """The answer to a write on a tool: the tool, the position to read after, its version as ETag."""
    body = ToolWriteOut(**tool_fields(saved.aggregate), position=saved.position)
    return written(body, saved.position, saved.aggregate.version, status_code)


def run_out(outcome: ToolRunOutcome) -> RunOut:
    result = outcome.result
    return RunOut(
        run_id=str(outcome.run_id),
        tool_id=str(outcome.tool.id),
        tool_version=outcome.tool.version,
        status=result.status,
        return_value=result.return_value,
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        duration_ms=result.duration_ms,
        truncated=result.truncated,
        error=result.error,
        position=outcome.position,
    )


def tool_run_out(row: ToolRunRow) -> ToolRunOut:
    return ToolRunOut(
        id=str(row.id),
        tool_id=str(row.tool_id),
        tool_version=row.tool_version,
        args=row.args,
        status=row.status,
        return_value=row.return_value,
        stdout=row.stdout,
        stderr=row.stderr,
        exit_code=row.exit_code,
        duration_ms=row.duration_ms,
        truncated=row.truncated,
        error=row.error,
        agent_run_id=row.agent_run_id,
        created_at=row.created_at,
        created_by=row.created_by,
    )

"""The tools and tool runs read models: one row per tool (listed by tag, name, language), one row per run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from agentmem.domain.tool import Tool
from agentmem.domain.tool_run import ToolRun
from agentmem.projections.base import Envelope
from agentmem.projections.queries import ListOrder
from agentmem.projections.rows import Change, RowProjection, RowView

TOOLS = "tools"
TOOL_RUNS = "tool_runs"
RunOrder = Literal["created_desc", "created_asc"]


@dataclass(frozen=True, slots=True)
class ToolRow:
    """A tool as the read model holds it."""

    id: UUID
    tenant_id: str
    name: str
    description: str
    parameters: dict[str, Any]
    language: str
    source: str
    timeout_s: float
    memory_mb: int
    secrets: list[str]
    tags: list[str]
    version: int
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


@dataclass(frozen=True, slots=True)
class ToolRunRow:
    """A run of a tool as the read model holds it (outputs as its event recorded them)."""

    id: UUID
    tenant_id: str
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
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ToolPage:
    """One page of tools and the cursor for the next (None at the end)."""

    items: list[ToolRow]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ToolRunPage:
    """One page of a tool's runs and the cursor for the next (None at the end)."""

    items: list[ToolRunRow]
    next_cursor: str | None


class ToolQueries(Protocol):
    """Lists over the tools and tool runs read models."""

    async def list(
        self,
        tenant_id: str,
        *,
        tags: Sequence[str],
        name: str | None,
        language: str | None,
        order: ListOrder,
        limit: int,
        cursor: str | None,
        include_deleted: bool,
    ) -> ToolPage: ...

    async def runs(
        self, tenant_id: str, tool_id: UUID, *, order: RunOrder, limit: int, cursor: str | None
    ) -> ToolRunPage: ...


class ToolsProjection(RowProjection):
    """Turns tool events into rows of the tools read model."""

    created = Tool.Created
    topic_prefix = f"{Tool.__module__}:{Tool.__qualname__}."

    def __init__(self, view: RowView, name: str = TOOLS) -> None:
        super().__init__(view, name)

    @staticmethod
    def process_event(envelope: Envelope) -> Change:
        """The change one later event makes to its tool's row."""
        event, change = envelope.event, Change.of(envelope)
        if isinstance(event, Tool.Updated):
            change.columns = dict(event.changes)
        elif isinstance(event, Tool.Deleted):
            change.columns = {"deleted": True}
        elif isinstance(event, Tool.Restored):
            change.columns = {"deleted": False}
        return change

    @staticmethod
    def row(event: Tool.Created) -> ToolRow:
        return ToolRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            name=event.name,
            description=event.description,
            parameters=event.parameters,
            language=event.language,
            source=event.source,
            timeout_s=event.timeout_s,
            memory_mb=event.memory_mb,
            secrets=list(event.secrets),
            tags=list(event.tags),
            version=1,
            deleted=False,
            created_at=event.timestamp,
            updated_at=event.timestamp,
            created_by=event.actor_id,
            updated_by=event.actor_id,
        )


class ToolRunsProjection(RowProjection):
    """Turns each run's one event into a row of the tool runs read model."""

    created = ToolRun.Created
    topic_prefix = f"{ToolRun.__module__}:{ToolRun.__qualname__}."

    def __init__(self, view: RowView, name: str = TOOL_RUNS) -> None:
        super().__init__(view, name)

    @staticmethod
    def row(event: ToolRun.Created) -> ToolRunRow:
        return ToolRunRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            tool_id=event.tool_id,
            tool_version=event.tool_version,
            args=event.args,
            status=event.status,
            exit_code=event.exit_code,
            duration_ms=event.duration_ms,
            stdout=event.stdout,
            stderr=event.stderr,
            return_value=event.return_value,
            truncated=event.truncated,
            error=event.error,
            agent_run_id=event.agent_run_id,
            created_at=event.timestamp,
            created_by=event.actor_id,
        )

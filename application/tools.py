"""Tools: register, edit, delete, restore; reads by id, version, instant and history; what an agent is offered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from agentmem.application.base import AgentMemApplication, ApplicationError, HistoryEntry, NotFoundError, Saved
from agentmem.application.llm import Tool as LLMTool
from agentmem.domain.base import Context
from agentmem.domain.errors import Conflict, Forbidden
from agentmem.domain.name_claim import NameClaim, NameTakenError
from agentmem.domain.tool import DEFAULT_PARAMETERS, Tool

SECRETS_PERMISSION = "secrets:manage"


class ToolNotFoundError(NotFoundError):
    """No such tool for this tenant."""


class ToolNameTakenError(ApplicationError, Conflict):
    """Another live tool of the organization has this name."""


class SecretsForbiddenError(ApplicationError, Forbidden):
    """Only a caller who may manage secrets may write a tool that is given secrets (else any member could read
    them by editing the tool's source)."""


@dataclass(frozen=True, slots=True)
class NewTool:
    """What a caller gives to register a tool."""

    name: str
    language: str
    source: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    timeout_s: float = 10.0
    memory_mb: int = 256
    secrets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as a language model is offered it: a function name, what it does, its arguments' JSON Schema."""

    id: UUID
    name: str
    description: str
    parameters: dict[str, Any]

    def offered(self) -> LLMTool:
        """The tool in the language-model port's terms, for an LLMRequest's `tools`."""
        return LLMTool(self.name, self.description, self.parameters)


def claim_id(tenant_id: str, name: str) -> UUID:
    return NameClaim.id_for("tool", f"{tenant_id}/{name}")


def name_claim(tool: Tool, context: Context) -> NameClaim:
    """A new claim on a tool's name in its organization (an import makes these for the live tools it brings)."""
    return NameClaim.create(context=context, kind="tool", name=f"{tool.tenant_id}/{tool.name}", ref=tool.id)


class ToolApplication(AgentMemApplication):
    """Commands and by-id reads on tools (and the record of each run)."""

    aggregate_cache_size = 1_000

    def create(self, new: NewTool, context: Context, *, may_manage_secrets: bool = False) -> Saved[Tool]:
        """Registers a tool under a name unique in the organization."""
        if new.secrets and not may_manage_secrets:
            raise SecretsForbiddenError(f"a tool given secrets needs the {SECRETS_PERMISSION} permission")
        fields = {name: getattr(new, name) for name in NewTool.__dataclass_fields__}
        tool = Tool.create(id=uuid4(), context=context, **fields)
        claim = self._claim(tool, context)
        try:
            return Saved(tool, self.record(tool, claim))
        except IntegrityError:
            raise self._taken(tool.name) from None

    def update(
        self,
        tool_id: UUID,
        changes: dict[str, Any],
        context: Context,
        expected_version: int | None = None,
        *,
        may_manage_secrets: bool = False,
    ) -> Saved[Tool]:
        """Changes fields; a new name must be free in the organization."""
        names: dict[str, str] = {}

        def update(tool: Tool) -> bool:
            if (tool.secrets or changes.get("secrets")) and not may_manage_secrets:
                raise SecretsForbiddenError(f"changing a tool given secrets needs the {SECRETS_PERMISSION} permission")
            names["old"] = tool.name
            return tool.update(context, changes)

        def claims(tool: Tool) -> list[NameClaim]:
            if tool.name == names["old"]:
                return []
            old = self.load(NameClaim, claim_id(context.tenant_id, names["old"]), context.tenant_id)
            if old is not None:
                old.release(context)
            return [self._claim(tool, context), *([old] if old else [])]

        return self._change(tool_id, context, expected_version, update, claims)

    def delete(self, tool_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Tool]:
        """Soft-deletes a tool: it stops running and its name is free again."""

        def delete(tool: Tool) -> bool:
            tool.delete(context)
            return True

        def release(tool: Tool) -> list[NameClaim]:
            claim = self.load(NameClaim, claim_id(context.tenant_id, tool.name), context.tenant_id)
            if claim is None:
                return []
            claim.release(context)
            return [claim]

        return self._change(tool_id, context, expected_version, delete, release)

    def restore(self, tool_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Tool]:
        """Restores a soft-deleted tool, if its name is still free."""

        def restore(tool: Tool) -> bool:
            tool.restore(context)
            return True

        return self._change(tool_id, context, expected_version, restore, lambda t: [self._claim(t, context)])

    def get(
        self,
        tool_id: UUID,
        tenant_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Tool:
        """The tool now, at a version, or at an instant; deleted ones only when asked for."""
        return self.read(
            Tool, tool_id, tenant_id, ToolNotFoundError, version=version, as_of=as_of, include_deleted=include_deleted
        )

    def history(self, tool_id: UUID, tenant_id: str) -> list[HistoryEntry]:
        """Every version of the tool, with who changed which fields, in which request."""
        self.get(tool_id, tenant_id, include_deleted=True)
        return self.history_of(tool_id, Tool.state)

    def specs(self, tool_ids: Sequence[UUID], tenant_id: str) -> list[ToolSpec]:
        """The live tools among `tool_ids`, in order, as an agent's model is offered them."""
        loaded = (self.load(Tool, tool_id, tenant_id) for tool_id in tool_ids)
        return [
            ToolSpec(tool.id, tool.name, tool.description, tool.parameters)
            for tool in loaded
            if tool is not None and not tool.deleted
        ]

    def _claim(self, tool: Tool, context: Context) -> NameClaim:
        existing = self.load(NameClaim, claim_id(context.tenant_id, tool.name), context.tenant_id)
        if existing is None:
            return name_claim(tool, context)
        try:
            existing.claim(context, tool.id)
        except NameTakenError:
            raise self._taken(tool.name) from None
        return existing

    @staticmethod
    def _taken(name: str) -> ToolNameTakenError:
        return ToolNameTakenError(f"a tool named {name!r} exists in this organization")

    def _change(
        self, tool_id: UUID, context: Context, expected_version: int | None, change: Any, also: Any
    ) -> Saved[Tool]:
        return self.change(Tool, tool_id, context, expected_version, change, ToolNotFoundError, also)

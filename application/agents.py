"""Agents: create, edit, attach and detach blocks, delete, restore; reads, history and the compiled context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from agentmem.application.base import AgentMemApplication, ApplicationError, HistoryEntry, NotFoundError, Saved
from agentmem.domain.agent import Agent, InvalidAgentError
from agentmem.domain.base import Context
from agentmem.domain.block import Block
from agentmem.domain.context_template import DEFAULT_TEMPLATE, TemplateRuleError, render, template_variables
from agentmem.domain.errors import InvalidInput
from agentmem.domain.tool import Tool


class AgentNotFoundError(NotFoundError):
    """No such agent for this tenant."""


class ContextTemplateError(ApplicationError, InvalidInput):
    """The agent's context template failed with the data it was given."""


@dataclass(frozen=True, slots=True)
class NewAgent:
    """What a caller gives to create an agent."""

    name: str
    description: str | None = None
    system: str = ""
    llm: dict[str, Any] | None = None
    embedding: dict[str, Any] | None = None
    block_ids: list[UUID] = field(default_factory=list)
    tool_ids: list[UUID] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    context_template: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledContext:
    """The system prompt an agent would be given, and the blocks (at their versions) that went into it."""

    agent: Agent
    text: str
    blocks: list[Block]


class AgentApplication(AgentMemApplication):
    """Commands and by-id reads on agents, and the context compiler."""

    aggregate_cache_size = 1_000

    def create(self, new: NewAgent, context: Context) -> Saved[Agent]:
        """Creates an agent; every block and tool it names must be a live one of the tenant."""
        self._check_blocks(new.block_ids, context.tenant_id)
        self._check_tools(new.tool_ids, context.tenant_id)
        fields = {name: getattr(new, name) for name in NewAgent.__dataclass_fields__}
        agent = Agent.create(id=uuid4(), context=context, **fields)
        return Saved(agent, self.record(agent))

    def update(
        self, agent_id: UUID, changes: dict[str, Any], context: Context, expected_version: int | None = None
    ) -> Saved[Agent]:
        """Changes fields; `block_ids` (if given) attaches the new ones and detaches the missing ones."""
        changes = dict(changes)
        block_ids = changes.pop("block_ids", None)
        if block_ids is not None:
            self._check_blocks(block_ids, context.tenant_id)
        if isinstance(changes.get("tool_ids"), list):
            self._check_tools(changes["tool_ids"], context.tenant_id)

        def update(agent: Agent) -> bool:
            changed = agent.update(context, changes)
            if block_ids is not None:
                gone = [b for b in agent.block_ids if b not in block_ids]
                if gone:
                    agent.detach(context, gone)
                changed = agent.attach(context, block_ids) or changed or bool(gone)
            return changed

        return self._change(agent_id, context, expected_version, update)

    def attach(
        self, agent_id: UUID, block_ids: list[UUID], context: Context, expected_version: int | None = None
    ) -> Saved[Agent]:
        """Attaches live blocks of the tenant (those already attached stay where they are)."""
        self._check_blocks(block_ids, context.tenant_id)
        return self._change(agent_id, context, expected_version, lambda a: a.attach(context, block_ids))

    def detach(
        self, agent_id: UUID, block_ids: list[UUID], context: Context, expected_version: int | None = None
    ) -> Saved[Agent]:
        """Detaches attached blocks (the blocks themselves stay)."""

        def detach(agent: Agent) -> bool:
            agent.detach(context, block_ids)
            return True

        return self._change(agent_id, context, expected_version, detach)

    def delete(self, agent_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Agent]:
        """Soft-deletes an agent."""

        def delete(agent: Agent) -> bool:
            agent.delete(context)
            return True

        return self._change(agent_id, context, expected_version, delete)

    def restore(self, agent_id: UUID, context: Context, expected_version: int | None = None) -> Saved[Agent]:
        """Restores a soft-deleted agent."""

        def restore(agent: Agent) -> bool:
            agent.restore(context)
            return True

        return self._change(agent_id, context, expected_version, restore)

    def get(
        self,
        agent_id: UUID,
        tenant_id: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        include_deleted: bool = False,
    ) -> Agent:
        """The agent now, at a version, or at an instant; deleted ones only when asked for."""
        return self.read(
            Agent,
            agent_id,
            tenant_id,
            AgentNotFoundError,
            version=version,
            as_of=as_of,
            include_deleted=include_deleted,
        )

    def history(self, agent_id: UUID, tenant_id: str) -> list[HistoryEntry]:
        """Every version of the agent, with who changed which fields, in which request."""
        self.get(agent_id, tenant_id, include_deleted=True)
        return self.history_of(agent_id, Agent.state)

    def blocks_of(self, agent: Agent, as_of: datetime | None = None) -> list[Block]:
        """The agent's attached blocks that exist and are live (now, or at `as_of`), in attachment order."""
        loaded = (self.load(Block, block_id, agent.tenant_id, as_of=as_of) for block_id in agent.block_ids)
        return [block for block in loaded if block is not None and not block.deleted]

    def context(self, agent_id: UUID, tenant_id: str, as_of: datetime | None = None) -> CompiledContext:
        """The agent's system prompt: its template (or the default) over its instructions and blocks, at `as_of`."""
        agent = self.get(agent_id, tenant_id, as_of=as_of)
        blocks = self.blocks_of(agent, as_of)
        variables = template_variables(
            {**agent.state(), "id": agent.id},
            [{**block.state(), "id": block.id, "size": block.size, "version": block.version} for block in blocks],
            as_of,
        )
        try:
            text = render(agent.context_template or DEFAULT_TEMPLATE, variables)
        except TemplateRuleError as error:
            raise ContextTemplateError("context_template", f"the agent's context template failed: {error}") from None
        return CompiledContext(agent, text, blocks)

    def _check_blocks(self, block_ids: list[UUID], tenant_id: str) -> None:
        for index, block_id in enumerate(block_ids):
            block = self.load(Block, block_id, tenant_id)
            if block is None or block.deleted:
                raise InvalidAgentError(f"block_ids[{index}]", f"block {block_id} does not exist")

    def _check_tools(self, tool_ids: list[UUID], tenant_id: str) -> None:
        for index, tool_id in enumerate(tool_ids):
            tool = self.load(Tool, tool_id, tenant_id) if isinstance(tool_id, UUID) else None
            if tool is None or tool.deleted:
                raise InvalidAgentError(f"tool_ids[{index}]", f"tool {tool_id} does not exist")

    def _change(self, agent_id: UUID, context: Context, expected_version: int | None, change: Any) -> Saved[Agent]:
        return self.change(Agent, agent_id, context, expected_version, change, AgentNotFoundError)

"""Core-memory edits by block label, as agents make them (Letta's `core_memory_append` / `core_memory_replace`).

An agent names its blocks by label; these use cases find the agent's live attached block with that label and
make the same block commands the HTTP API makes (append; replace the value under the version read), so limits,
read-only blocks and history behave alike whoever edits.
"""

from __future__ import annotations

from uuid import UUID

from agentmem.application.agents import AgentApplication
from agentmem.application.base import NotFoundError, Saved
from agentmem.application.blocks import BlockApplication
from agentmem.domain.base import Context
from agentmem.domain.block import Block
from agentmem.domain.errors import InvalidInput


class BlockLabelNotFoundError(NotFoundError):
    """The agent has no live attached block with that label."""


class CoreMemory:
    """Appends to, and replaces text in, an agent's blocks by label."""

    def __init__(self, agents: AgentApplication, blocks: BlockApplication) -> None:
        self.agents = agents
        self.blocks = blocks

    def block(self, agent_id: UUID, label: str, tenant_id: str) -> Block:
        """The agent's live attached block with this label (404 if the agent or the label is unknown)."""
        agent = self.agents.get(agent_id, tenant_id)
        found = next((b for b in self.agents.blocks_of(agent) if b.label == label), None)
        if found is None:
            raise BlockLabelNotFoundError(f"agent {agent_id} has no block labelled {label!r}")
        return found

    def append(self, agent_id: UUID, label: str, content: str, context: Context) -> Saved[Block]:
        """Adds `content` at the end of the block (after a newline), within its limit."""
        block = self.block(agent_id, label, context.tenant_id)
        return self.blocks.append(block.id, content, context, expected_version=block.version)

    def replace(self, agent_id: UUID, label: str, old: str, new: str, context: Context) -> Saved[Block]:
        """Replaces the first occurrence of `old` in the block with `new` (an empty `new` deletes it)."""
        if not old:
            raise InvalidInput("old_content", "old_content must not be empty")
        block = self.block(agent_id, label, context.tenant_id)
        if old not in block.value:
            raise InvalidInput("old_content", f"old_content was not found in the block {label!r}")
        value = block.value.replace(old, new, 1)
        return self.blocks.update(block.id, {"value": value}, context, expected_version=block.version)

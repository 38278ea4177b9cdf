"""Request and response bodies of /v1/agents (and the compiled context)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Response
from msgspec import UNSET, Meta, Struct, UnsetType

from agentmem.api.responses import written
from agentmem.application.base import Saved
from agentmem.domain.agent import (
    MAX_BLOCKS,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_SYSTEM_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TOOLS,
    Agent,
)
from agentmem.domain.context_template import MAX_TEMPLATE_CHARS
from agentmem.projections.agents import AgentRow

Name = Annotated[str, Meta(min_length=1, max_length=MAX_NAME_CHARS)]
Description = Annotated[str, Meta(max_length=MAX_DESCRIPTION_CHARS)]
System = Annotated[str, Meta(max_length=MAX_SYSTEM_CHARS, description="The agent's instructions.")]
Tag = Annotated[str, Meta(min_length=1, max_length=MAX_TAG_CHARS)]
Tags = Annotated[list[Tag], Meta(max_length=MAX_TAGS)]
BlockIds = Annotated[list[UUID], Meta(max_length=MAX_BLOCKS, description="Blocks to attach, in order.")]
ToolIds = Annotated[list[UUID], Meta(max_length=MAX_TOOLS)]
Template = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=MAX_TEMPLATE_CHARS,
        description="A sandboxed Jinja2 template over `agent`, `system`, `blocks` and `as_of`; checked when saved.",
    ),
]


class LlmSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Which language model the agent uses."""

    provider: Literal["openai", "anthropic", "gemini", "azure_openai", "openai_compatible"]
    model: Annotated[str, Meta(min_length=1, max_length=255)]
    temperature: Annotated[float, Meta(ge=0, le=2)] = 0.7


class EmbeddingSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Which embedding model the agent uses."""

    provider: Literal["local", "openai", "openai_compatible"]
    model: Annotated[str, Meta(min_length=1, max_length=255)]
    dimension: Annotated[int, Meta(ge=1, le=16_384)] | None = None


class AgentCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """An agent to create."""

    name: Name
    description: Description | None = None
    system: System = ""
    llm: LlmSettings | None = None
    embedding: EmbeddingSettings | None = None
    block_ids: BlockIds = []
    tool_ids: ToolIds = []
    tags: Tags = []
    metadata: dict[str, Any] = {}
    context_template: Template | None = None


class AgentPatch(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Fields to change; absent fields stay. `block_ids` replaces the attached blocks (attach/detach events)."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    system: System | UnsetType = UNSET
    llm: LlmSettings | UnsetType | None = UNSET
    embedding: EmbeddingSettings | UnsetType | None = UNSET
    block_ids: BlockIds | UnsetType = UNSET
    tool_ids: ToolIds | UnsetType = UNSET
    tags: Tags | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET
    context_template: Template | UnsetType | None = UNSET


class BlockIdsIn(Struct, forbid_unknown_fields=True):
    """Blocks to attach, in order (already attached ones stay where they are)."""

    block_ids: Annotated[list[UUID], Meta(min_length=1, max_length=MAX_BLOCKS)]


class AgentOut(Struct):
    """An agent as stored, at one version."""

    id: str
    version: int
    name: str
    description: str | None
    system: str
    llm: dict[str, Any] | None
    embedding: dict[str, Any] | None
    block_ids: list[str]
    tool_ids: list[str]
    tags: list[str]
    metadata: dict[str, Any]
    context_template: str | None
    deleted: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class AgentWriteOut(AgentOut):
    """An agent after a write, with the log position to pass as `min_position` to later reads."""

    position: int


class AgentPageOut(Struct):
    """One page of agents; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[AgentOut]
    next_cursor: str | None


class ContextBlockOut(Struct):
    """A block as it went into a compiled context."""

    id: str
    label: str
    version: int
    size: int
    limit: int


class ContextOut(Struct):
    """The system prompt the agent would be given (now, or as of an instant), and what it was made of."""

    agent_id: str
    agent_version: int
    as_of: datetime | None
    context: str
    size: int
    blocks: list[ContextBlockOut]
    hash: str
    """`sha256:<hex>` of `context`: a run records the same hash of the prompt it compiled at its start."""


def agent_fields(agent: Agent | AgentRow) -> dict[str, Any]:
    """An agent answer's fields from the aggregate (by-id reads) or a read-model row (lists)."""
    created, updated = (
        (agent.created_on, agent.modified_on) if isinstance(agent, Agent) else (agent.created_at, agent.updated_at)
    )
    return {
        "id": str(agent.id),
        "version": agent.version,
        "name": agent.name,
        "description": agent.description,
        "system": agent.system,
        "llm": agent.llm,
        "embedding": agent.embedding,
        "block_ids": [str(b) for b in agent.block_ids],
        "tool_ids": [str(t) for t in agent.tool_ids],
        "tags": list(agent.tags),
        "metadata": agent.metadata,
        "context_template": agent.context_template,
        "deleted": agent.deleted,
        "created_at": created,
        "updated_at": updated,
        "created_by": agent.created_by,
        "updated_by": agent.updated_by,
    }


def plain(value: Any) -> Any:
    """Settings structs as the plain dicts the domain stores."""
    return msgspec.to_builtins(value) if isinstance(value, Struct) else value


def agent_written(saved: Saved[Agent], status_code: int = 200) -> Response[AgentWriteOut]:
    """The answer to a write on an agent: the agent, the position to read after, its version as ETag."""
    body = AgentWriteOut(**agent_fields(saved.aggregate), position=saved.position)
    return written(body, saved.position, saved.aggregate.version, status_code)

"""The tools an agent's model may call during a run: the seam (`ToolProvider`) and what stands behind it.

A `ToolProvider` offers tool specs for one run and runs the calls it owns. The step loop asks every provider in
`ToolProviders`: the memory tools, then the agent's attached tools (run in the sandbox by the tools feature's use
case). A tool's error (over a block's limit, a read-only block, no permission) goes back to the model as the tool's
result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from agentmem.application.core_memory import CoreMemory
from agentmem.application.llm import Tool, ToolCall
from agentmem.application.memories import NewMemory
from agentmem.application.memory_writes import MemoryWrites
from agentmem.application.reads import Reads
from agentmem.application.tool_runs import ToolRunner as SandboxRuns
from agentmem.application.tools import ToolApplication, ToolSpec
from agentmem.domain.agent import Agent
from agentmem.domain.base import Context
from agentmem.domain.errors import AgentMemError, Forbidden, InvalidInput
from agentmem.domain.memory import DEFAULT_MEMORY_TYPE
from agentmem.projections.messages import MESSAGE_MEMORY_TYPE, message_content
from agentmem.projections.queries import Hit, Scope

MAX_RESULTS = 20


@dataclass
class ToolSession:
    """One run's tool context: the agent, the caller's permissions and quota, and the context tool writes carry
    (actor `agent:<id>`, request `run:<id>`); `position` is the run's newest write, so its searches see it."""

    agent: Agent
    run_id: UUID
    context: Context
    permissions: frozenset[str]
    max_memories: int
    user_id: str | None = None
    position: int = 0

    @property
    def tag(self) -> str:
        """The run id messages and memories of this run carry."""
        return str(self.run_id)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What a tool call gave back to the model: JSON text, and whether it is an error."""

    content: str
    is_error: bool = False
    data: dict[str, Any] = field(default_factory=dict)


class ToolProvider(Protocol):
    """Tools offered to a run, and how one call of them runs."""

    async def specs(self, session: ToolSession) -> list[Tool]:
        """The tools this runner offers the run (only those the caller may use)."""
        ...

    async def run(self, session: ToolSession, call: ToolCall) -> ToolOutcome | None:
        """Runs the call, or None when this runner does not own a tool of that name."""
        ...


def outcome(data: dict[str, Any]) -> ToolOutcome:
    return ToolOutcome(json.dumps(data, default=str), False, data)


def error_outcome(error: AgentMemError) -> ToolOutcome:
    """The error as the HTTP API would answer it, for the model to read and act on."""
    body: dict[str, Any] = {"status": error.status, "detail": str(error)}
    if getattr(error, "field", None):
        body["field"] = error.field
    return ToolOutcome(json.dumps({"error": body}), True, {"error": body})


class ToolProviders:
    """Every provider of a run, asked in order: the first that owns a call runs it."""

    def __init__(self, runners: Sequence[ToolProvider]) -> None:
        self.runners = list(runners)

    async def specs(self, session: ToolSession) -> list[Tool]:
        found: list[Tool] = []
        for runner in self.runners:
            found.extend(await runner.specs(session))
        return found

    async def run(self, session: ToolSession, call: ToolCall) -> ToolOutcome:
        try:
            for runner in self.runners:
                result = await runner.run(session, call)
                if result is not None:
                    return result
        except AgentMemError as error:
            return error_outcome(error)
        return error_outcome(InvalidInput("name", f"there is no tool named {call.name!r}"))


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_TEXT = {"type": "string"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS}
MEMORY_TOOLS: dict[str, tuple[str, Tool]] = {
    "core_memory_append": (
        "blocks:write",
        Tool(
            "core_memory_append",
            "Append text to one of your core-memory blocks (by label); refused past the block's character limit.",
            _schema({"label": _TEXT, "content": _TEXT}, ["label", "content"]),
        ),
    ),
    "core_memory_replace": (
        "blocks:write",
        Tool(
            "core_memory_replace",
            "Replace old_content with new_content in one of your core-memory blocks (an empty new_content deletes).",
            _schema(
                {"label": _TEXT, "old_content": _TEXT, "new_content": _TEXT}, ["label", "old_content", "new_content"]
            ),
        ),
    ),
    "memory_insert": (
        "memories:write",
        Tool(
            "memory_insert",
            "Store a memory for later recall (archival memory); memory_type defaults to semantic.",
            _schema({"text": _TEXT, "memory_type": _TEXT}, ["text"]),
        ),
    ),
    "memory_search": (
        "memories:read",
        Tool(
            "memory_search",
            "Search your memories and your user's (meaning and words), best first.",
            _schema({"query": _TEXT, "limit": _LIMIT}, ["query"]),
        ),
    ),
    "conversation_search": (
        "messages:read",
        Tool(
            "conversation_search",
            "Search your whole conversation history (meaning and words), best first.",
            _schema({"query": _TEXT, "limit": _LIMIT}, ["query"]),
        ),
    ),
}


def _text(arguments: dict[str, Any], name: str, required: bool = True) -> str:
    value = arguments.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise InvalidInput(name, f"{name} must be a non-empty string")
    return value


def _limit(arguments: dict[str, Any]) -> int:
    value = arguments.get("limit", 5)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_RESULTS:
        raise InvalidInput("limit", f"limit must be an integer from 1 to {MAX_RESULTS}")
    return value


def merge_hits(groups: Sequence[list[Hit]], limit: int) -> list[Hit]:
    """Hits of several searches, best first, each memory once."""
    best: dict[UUID, Hit] = {}
    for hit in (h for group in groups for h in group):
        if hit.memory.id not in best or hit.score > best[hit.memory.id].score:
            best[hit.memory.id] = hit
    return sorted(best.values(), key=lambda h: h.score, reverse=True)[:limit]


class MemoryTools:
    """core_memory_append / core_memory_replace / memory_insert / memory_search / conversation_search, over the
    same use cases as the HTTP API, with the caller's permissions and the agent as actor."""

    def __init__(self, core_memory: CoreMemory, writes: MemoryWrites, reads: Reads) -> None:
        self.core_memory = core_memory
        self.writes = writes
        self.reads = reads

    async def specs(self, session: ToolSession) -> list[Tool]:
        return [tool for permission, tool in MEMORY_TOOLS.values() if permission in session.permissions]

    async def run(self, session: ToolSession, call: ToolCall) -> ToolOutcome | None:
        if call.name not in MEMORY_TOOLS:
            return None
        permission = MEMORY_TOOLS[call.name][0]
        if permission not in session.permissions:
            raise Forbidden(f"the caller's role does not grant {permission}, which {call.name} needs")
        handler = getattr(self, call.name)
        data: dict[str, Any] = await handler(session, call.arguments)
        return outcome(data)

    async def core_memory_append(self, session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        label, content = _text(arguments, "label"), _text(arguments, "content")
        saved = await asyncio.to_thread(self.core_memory.append, session.agent.id, label, content, session.context)
        session.position = max(session.position, saved.position)
        return {"label": label, "version": saved.aggregate.version, "size": saved.aggregate.size}

    async def core_memory_replace(self, session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        label, old = _text(arguments, "label"), _text(arguments, "old_content")
        new = _text(arguments, "new_content", required=False)
        replace = self.core_memory.replace
        saved = await asyncio.to_thread(replace, session.agent.id, label, old, new, session.context)
        session.position = max(session.position, saved.position)
        return {"label": label, "version": saved.aggregate.version, "size": saved.aggregate.size}

    async def memory_insert(self, session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        new = NewMemory(
            text=_text(arguments, "text"),
            agent_id=str(session.agent.id),
            user_id=session.user_id,
            run_id=session.tag,
            memory_type=_text(arguments, "memory_type", required=False) or DEFAULT_MEMORY_TYPE,
        )
        saved = await self.writes.add(new, session.context, session.max_memories)
        session.position = max(session.position, saved.position)
        return {"id": str(saved.aggregate.id), "stored": True}

    async def memory_search(self, session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        hits = await recall(self.reads, session, _text(arguments, "query"), _limit(arguments))
        return {"results": [{"id": str(h.memory.id), "text": h.memory.text, "score": round(h.score, 4)} for h in hits]}

    async def conversation_search(self, session: ToolSession, arguments: dict[str, Any]) -> dict[str, Any]:
        scope = Scope(session.context.tenant_id, agent_id=str(session.agent.id), memory_types=(MESSAGE_MEMORY_TYPE,))
        found = await self.reads.search(
            "messages", scope, _text(arguments, "query"), limit=_limit(arguments), min_position=session.position or None
        )
        return {
            "results": [
                {
                    "role": h.memory.metadata.get("role"),
                    "content": message_content(h.memory.text, h.memory.metadata),
                    "seq": h.memory.metadata.get("seq"),
                    "created_at": h.memory.created_at.isoformat(),
                }
                for h in found.hits
            ]
        }


async def recall(reads: Reads, session: ToolSession, query: str, limit: int) -> list[Hit]:
    """The agent's memories and its user's most relevant to `query` (two hybrid searches, merged)."""
    tenant = session.context.tenant_id
    scopes = [Scope(tenant, agent_id=str(session.agent.id))]
    if session.user_id:
        scopes.append(Scope(tenant, user_id=session.user_id))
    min_position = session.position or None
    results = [await reads.search("memories", scope, query, limit=limit, min_position=min_position) for scope in scopes]
    return merge_hits([r.hits for r in results], limit)


class AttachedTools:
    """The agent's attached tools (`tools:execute`), run in the sandbox by the same use case as
    POST /v1/tools/{id}/run; each run is recorded with the agent's run id. A memory tool's name wins a clash."""

    def __init__(self, tools: ToolApplication, runner: SandboxRuns) -> None:
        self.tools = tools
        self.runner = runner

    async def _offered(self, session: ToolSession) -> list[ToolSpec]:
        if "tools:execute" not in session.permissions or not session.agent.tool_ids:
            return []
        found = await asyncio.to_thread(self.tools.specs, session.agent.tool_ids, session.context.tenant_id)
        return [spec for spec in found if spec.name not in MEMORY_TOOLS]

    async def specs(self, session: ToolSession) -> list[Tool]:
        return [spec.offered() for spec in await self._offered(session)]

    async def run(self, session: ToolSession, call: ToolCall) -> ToolOutcome | None:
        offered = await self._offered(session)
        if not any(spec.name == call.name for spec in offered):
            return None
        answer = self.runner.answer
        message = await asyncio.to_thread(answer, call, offered, session.context, agent_run_id=session.tag)
        data = json.loads(message.content)
        return ToolOutcome(message.content, data.get("status") != "ok", data)

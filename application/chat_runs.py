"""A chat turn's request, its run as it goes (prepared, outcome), and the events its stream publishes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from agentmem.application.agent_tools import ToolSession
from agentmem.application.agents import CompiledContext
from agentmem.application.base import ApplicationError
from agentmem.application.conversations import Message as Stored
from agentmem.application.llm import LanguageModel, ToolCall, Usage
from agentmem.application.run_signals import RunEvent, RunEvents
from agentmem.domain.agent import Agent
from agentmem.domain.conversation import NewMessage, check_message
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.run import MAX_STEPS, Run

CHAT_ROLES = ("user", "system")
MAX_CHAT_MESSAGES = 20
LOCK_SLACK = 30.0
"""Seconds the agent's run lock outlives the run's deadline: a process that died mid-run frees the agent then."""


@dataclass(frozen=True, slots=True)
class ChatPolicy:
    """The run deadline (seconds), and how long a streaming client may be gone before its run is cancelled."""

    deadline: float = 300.0
    detached_grace: float = 15.0


@dataclass(frozen=True, slots=True)
class ChatInput:
    """A message the caller says to the agent."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat turn: the caller's messages, the step limit, and the end user it is for (scopes recall)."""

    agent_id: UUID
    messages: Sequence[ChatInput]
    max_steps: int = 10
    user_id: str | None = None
    stream: bool = False


class RunActiveError(ApplicationError, Conflict):
    """The agent is in another run; `active_run_id` names it."""

    def __init__(self, agent_id: UUID, active: UUID) -> None:
        super().__init__(f"agent {agent_id} is answering in run {active}; wait or cancel it", active_run_id=str(active))


@dataclass
class Prepared:
    """A run that has begun: what `execute` or `stream` needs to carry it on."""

    run: Run
    agent: Agent
    model: LanguageModel
    session: ToolSession
    request: ChatRequest
    compiled: CompiledContext
    deadline: float
    user_messages: list[Stored]

    @property
    def run_id(self) -> UUID:
        return self.run.id

    @property
    def query(self) -> str:
        return "\n".join(m.content for m in self.user_messages if m.role == "user")


@dataclass
class Outcome:
    """How a run ended and what it said: new messages (assistant and tool), usage, stop reason, error."""

    run_id: UUID
    status: str
    stop_reason: str
    messages: list[Stored] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    steps: int = 0
    error: str | None = None
    position: int = 0


@dataclass
class Step:
    """The step under way: what the model has said so far (kept, marked incomplete, if the step fails)."""

    text: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)


Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


class Emitter:
    """Numbers a run's events and publishes them (or drops them, for a run nobody streams)."""

    def __init__(self, events: RunEvents | None, run_id: UUID) -> None:
        self.events = events
        self.run_id = run_id
        self.seq = 0

    async def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if self.events is None:
            return
        self.seq += 1
        await self.events.publish(RunEvent(self.run_id, self.seq, kind, data))


def check_request(request: ChatRequest) -> list[NewMessage]:
    if not 1 <= len(request.messages) <= MAX_CHAT_MESSAGES:
        raise InvalidInput("messages", f"send 1 to {MAX_CHAT_MESSAGES} messages")
    if not 1 <= request.max_steps <= MAX_STEPS:
        raise InvalidInput("max_steps", f"max_steps must be 1 to {MAX_STEPS}")
    new = []
    for number, message in enumerate(request.messages):
        if message.role not in CHAT_ROLES:
            raise InvalidInput(f"messages[{number}].role", f"role must be one of {', '.join(CHAT_ROLES)}")
        new.append(check_message(NewMessage(message.role, message.content), f"messages[{number}]."))
    return new


def message_data(message: Stored) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "seq": message.seq,
        "role": message.role,
        "content": message.content,
        "name": message.name,
        "tool_calls": message.tool_calls,
        "tool_call_id": message.tool_call_id,
        "incomplete": message.incomplete,
    }


def call_data(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def usage_data(usage: Usage) -> dict[str, int]:
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cached": usage.cached_tokens}

"""The run: one chat turn of an agent, from the context it saw to how it ended, every model step an event.

A run starts with what the agent was shown (a hash of the compiled system prompt, the same text
`GET /v1/agents/{id}/context?as_of=<started_at>` compiles; a hash of the exact first request; which blocks, memories
and conversation messages went in) and the model; each step records its usage and latency; it ends completed
(final answer or `max_steps`), failed (model error, deadline) or cancelled. An auditor replays a run from these
events and the conversation messages that carry its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
STATUSES = (RUNNING, COMPLETED, FAILED, CANCELLED)
MAX_STEPS = 50


class RunRuleError(DomainError):
    """A run rule refused a change."""


class InvalidRunError(RunRuleError, InvalidInput):
    """A run field breaks a rule; `field` names it."""


class RunEndedError(RunRuleError, Conflict):
    """The run has ended: nothing more is recorded on it."""


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a run starts with: the agent (at a version), the model, and a hash of its compiled system prompt."""

    agent_id: UUID
    provider: str
    model: str
    context_hash: str
    agent_version: int
    max_steps: int
    user_id: str | None = None
    streamed: bool = False


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """Exactly what the first step showed the model: a hash of the request, the blocks (id, label, version), the
    recalled memories, the conversation messages sent ([first_seq, last_seq]) and the summary standing for older ones.
    """

    prompt_hash: str
    blocks: list[dict[str, Any]]
    memory_ids: list[UUID]
    window: list[int]
    summary_id: UUID | None


@dataclass(frozen=True, slots=True)
class StepFacts:
    """One model step: how it finished, its tokens, the model's time, the whole step's time, what it called."""

    finish_reason: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    model_ms: float
    duration_ms: float
    tool_calls: list[str] = field(default_factory=list)
    message_ids: list[UUID] = field(default_factory=list)


class Run(TenantAggregate):
    """One chat turn of an agent (see the module docstring)."""

    class Started(TenantAggregate.Created):
        agent_id: UUID
        provider: str
        model: str
        context_hash: str
        agent_version: int
        max_steps: int
        user_id: str | None
        streamed: bool

    class ContextBuilt(TenantAggregate.Event):
        prompt_hash: str
        blocks: list[dict[str, Any]]
        memory_ids: list[UUID]
        window: list[int]
        summary_id: UUID | None

    class StepRecorded(TenantAggregate.Event):
        number: int
        finish_reason: str
        input_tokens: int
        output_tokens: int
        cached_tokens: int
        model_ms: float
        duration_ms: float
        tool_calls: list[str]
        message_ids: list[UUID]

    class Completed(TenantAggregate.Event):
        stop_reason: str

    class Failed(TenantAggregate.Event):
        stop_reason: str
        error: str

    class Cancelled(TenantAggregate.Event):
        reason: str

    @classmethod
    def begin(cls, run_id: UUID, start: RunStart, context: Context) -> Run:
        """Checks the step limit, then records Started."""
        if not 1 <= start.max_steps <= MAX_STEPS:
            raise InvalidRunError("max_steps", f"max_steps must be 1 to {MAX_STEPS}")
        fields = {name: getattr(start, name) for name in RunStart.__dataclass_fields__}
        return cls(id=run_id, **fields, **context.event_fields())

    @event(Started)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,
        agent_id: UUID,
        provider: str,
        model: str,
        context_hash: str,
        agent_version: int,
        max_steps: int,
        user_id: str | None,
        streamed: bool,
    ) -> None:
        self.tenant_id = tenant_id
        self.start = RunStart(agent_id, provider, model, context_hash, agent_version, max_steps, user_id, streamed)
        self.context: ContextFacts | None = None
        self.started_by = actor_id
        self.request_id = request_id
        self.status = RUNNING
        self.stop_reason: str | None = None
        self.error: str | None = None
        self.steps: list[StepFacts] = []

    @property
    def agent_id(self) -> UUID:
        return self.start.agent_id

    @property
    def ended(self) -> bool:
        return self.status != RUNNING

    def usage(self) -> dict[str, int]:
        """Tokens of every step, summed."""
        return {
            "input_tokens": sum(s.input_tokens for s in self.steps),
            "output_tokens": sum(s.output_tokens for s in self.steps),
            "cached_tokens": sum(s.cached_tokens for s in self.steps),
        }

    def _check_running(self) -> None:
        if self.ended:
            raise RunEndedError(f"run {self.id} has ended ({self.status})")

    def record_context(self, context: Context, facts: ContextFacts) -> None:
        """Records what the first step will show the model (once, before any step)."""
        self._check_running()
        if self.context is not None or self.steps:
            raise RunRuleError("the run's context is recorded once, before its first step")
        values = {name: getattr(facts, name) for name in ContextFacts.__dataclass_fields__}
        self._context_built(**values, **context.event_fields())

    def record_step(self, context: Context, facts: StepFacts) -> None:
        """Records the next model step, within max_steps."""
        self._check_running()
        if len(self.steps) >= self.start.max_steps:
            raise InvalidRunError("steps", f"the run has used its {self.start.max_steps} steps")
        values = {name: getattr(facts, name) for name in StepFacts.__dataclass_fields__}
        self._step_recorded(number=len(self.steps) + 1, **values, **context.event_fields())

    def complete(self, context: Context, stop_reason: str) -> None:
        """Ends the run with an answer (`end_turn`) or at `max_steps`."""
        self._check_running()
        self._completed(stop_reason=stop_reason, **context.event_fields())

    def fail(self, context: Context, stop_reason: str, error: str) -> None:
        """Ends the run on a model error or its deadline; what was said stays in the conversation."""
        self._check_running()
        self._failed(stop_reason=stop_reason, error=error[:2_000], **context.event_fields())

    def cancel(self, context: Context, reason: str) -> None:
        """Ends the run at a step boundary because someone (or the stream's client leaving) asked."""
        self._check_running()
        self._cancelled(reason=reason[:500], **context.event_fields())

    @event(ContextBuilt)
    def _context_built(
        self,
        prompt_hash: str,
        blocks: list[dict[str, Any]],
        memory_ids: list[UUID],
        window: list[int],
        summary_id: UUID | None,
        tenant_id: str,  # noqa: ARG002
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
    ) -> None:
        self.context = ContextFacts(prompt_hash, list(blocks), list(memory_ids), list(window), summary_id)

    @event(StepRecorded)
    def _step_recorded(
        self,
        number: int,  # noqa: ARG002
        finish_reason: str,
        input_tokens: int,
        output_tokens: int,
        cached_tokens: int,
        model_ms: float,
        duration_ms: float,
        tool_calls: list[str],
        message_ids: list[UUID],
        tenant_id: str,  # noqa: ARG002
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
    ) -> None:
        self.steps.append(
            StepFacts(
                finish_reason,
                input_tokens,
                output_tokens,
                cached_tokens,
                model_ms,
                duration_ms,
                list(tool_calls),
                list(message_ids),
            )
        )

    @event(Completed)
    def _completed(self, stop_reason: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self._ended(COMPLETED, stop_reason)

    @event(Failed)
    def _failed(self, stop_reason: str, error: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self._ended(FAILED, stop_reason)
        self.error = error

    @event(Cancelled)
    def _cancelled(self, reason: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self._ended(CANCELLED, "cancelled")
        self.error = reason

    def _ended(self, status: str, stop_reason: str) -> None:
        self.status = status
        self.stop_reason = stop_reason

"""Request and response bodies of /v1/agents/{agent_id}/chat, /ws, /runs and /v1/runs/{run_id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from agentmem.api.schemas.messages import MessageOut, message_out
from agentmem.application.chat_runs import MAX_CHAT_MESSAGES, Outcome
from agentmem.domain.conversation import MAX_CONTENT_CHARS
from agentmem.domain.memory import MAX_SCOPE_ID_CHARS
from agentmem.domain.run import MAX_STEPS, Run
from agentmem.projections.runs import RunRow


class ChatMessageIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """A message to the agent."""

    role: Literal["user", "system"] = "user"
    content: Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]


class ChatIn(Struct, forbid_unknown_fields=True, kw_only=True):
    """One chat turn: messages to the agent, streamed (SSE) or not, at most `max_steps` model steps."""

    messages: Annotated[list[ChatMessageIn], Meta(min_length=1, max_length=MAX_CHAT_MESSAGES)]
    stream: bool = False
    max_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS)] = 10
    user_id: Annotated[str, Meta(min_length=1, max_length=MAX_SCOPE_ID_CHARS)] | None = None


class UsageOut(Struct):
    """Tokens a run used, summed over its steps."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int


class ChatOut(Struct):
    """A finished run: its status, the messages it added (assistant, tool calls, tool results) and its usage."""

    run_id: str
    status: str
    stop_reason: str
    steps: int
    messages: list[MessageOut]
    usage: UsageOut
    error: str | None
    position: int


def chat_out(outcome: Outcome) -> ChatOut:
    usage = outcome.usage
    return ChatOut(
        run_id=str(outcome.run_id),
        status=outcome.status,
        stop_reason=outcome.stop_reason,
        steps=outcome.steps,
        messages=[message_out(m) for m in outcome.messages],
        usage=UsageOut(usage.input_tokens, usage.output_tokens, usage.cached_tokens),
        error=outcome.error,
        position=outcome.position,
    )


class RunStepOut(Struct):
    """One model step: finish reason, tokens, the model's time and the whole step's, the tools it called."""

    number: int
    finish_reason: str
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    model_ms: float
    duration_ms: float
    tool_calls: list[str]
    message_ids: list[str]


class RunContextOut(Struct):
    """What the first step showed the model: request hash, blocks, recalled memories, window, summary."""

    prompt_hash: str
    blocks: list[dict[str, Any]]
    memory_ids: list[str]
    window: list[int]
    summary_id: str | None


class RunOut(Struct):
    """A run as its events recorded it."""

    id: str
    agent_id: str
    status: str
    stop_reason: str | None
    error: str | None
    provider: str
    model: str
    context_hash: str
    agent_version: int
    max_steps: int
    user_id: str | None
    streamed: bool
    context: RunContextOut | None
    steps: list[RunStepOut]
    usage: UsageOut
    started_at: datetime
    ended_at: datetime | None
    started_by: str
    request_id: str
    version: int


def run_out(run: Run) -> RunOut:
    start, context = run.start, run.context
    return RunOut(
        id=str(run.id),
        agent_id=str(start.agent_id),
        status=run.status,
        stop_reason=run.stop_reason,
        error=run.error,
        provider=start.provider,
        model=start.model,
        context_hash=start.context_hash,
        agent_version=start.agent_version,
        max_steps=start.max_steps,
        user_id=start.user_id,
        streamed=start.streamed,
        context=None
        if context is None
        else RunContextOut(
            prompt_hash=context.prompt_hash,
            blocks=context.blocks,
            memory_ids=[str(i) for i in context.memory_ids],
            window=context.window,
            summary_id=str(context.summary_id) if context.summary_id else None,
        ),
        steps=[
            RunStepOut(
                number=number,
                finish_reason=s.finish_reason,
                input_tokens=s.input_tokens,
                output_tokens=s.output_tokens,
                cached_tokens=s.cached_tokens,
                model_ms=s.model_ms,
                duration_ms=s.duration_ms,
                tool_calls=s.tool_calls,
                message_ids=[str(i) for i in s.message_ids],
            )
            for number, s in enumerate(run.steps, start=1)
        ],
        usage=UsageOut(**run.usage()),
        started_at=run.created_on,
        ended_at=run.modified_on if run.ended else None,
        started_by=run.started_by,
        request_id=run.request_id,
        version=run.version,
    )


class RunSummaryOut(Struct):
    """A run in a list."""

    id: str
    agent_id: str
    status: str
    stop_reason: str | None
    steps: int
    provider: str
    model: str
    created_at: datetime
    updated_at: datetime
    created_by: str


def run_summary(row: RunRow) -> RunSummaryOut:
    return RunSummaryOut(
        id=str(row.id),
        agent_id=str(row.agent_id),
        status=row.status,
        stop_reason=row.stop_reason,
        steps=row.steps,
        provider=row.provider,
        model=row.model,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )


class RunPageOut(Struct):
    """One page of an agent's runs; pass next_cursor as `cursor` for the next (null at the end)."""

    items: list[RunSummaryOut]
    next_cursor: str | None


class CancelOut(Struct):
    """A cancel was asked: the run stops at its next step boundary (GET /v1/runs/{id} shows when it has)."""

    id: str
    status: str
    cancel_requested: bool

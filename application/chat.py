"""The agent step loop: a chat turn as a run — context in, model steps with memory tools, every step an event.

`begin` checks and claims (one active run per agent), records the run's start and appends the caller's messages;
`execute` (answer at the end) or `stream` (events published as they happen, followed by any number of readers)
then builds the context, calls the model step by step, runs the tools it asks for and appends every assistant
message and tool result to the conversation with the run id. A cancel (request, WebSocket message, the streaming
client gone for longer than the grace) is honoured at the next step boundary; a model error or the deadline ends
the run failed, keeping the partial answer marked incomplete. No HTTP here: entrypoints call these methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

from agentmem.application.agent_tools import ToolProviders, ToolSession
from agentmem.application.agents import AgentApplication
from agentmem.application.authentication import Principal
from agentmem.application.chat_context import ContextBuilder, sha256, stored_calls
from agentmem.application.chat_runs import (
    LOCK_SLACK,
    ChatPolicy,
    ChatRequest,
    Emit,
    Emitter,
    Outcome,
    Prepared,
    RunActiveError,
    Step,
    check_request,
    message_data,
    usage_data,
)
from agentmem.application.conversations import ConversationApplication
from agentmem.application.conversations import Message as Stored
from agentmem.application.llm import (
    LanguageModelError,
    LanguageModels,
    LLMAnswer,
    LLMRequest,
    Message,
    StreamEnd,
    TextDelta,
    Tool,
    ToolCall,
    ToolCallDone,
)
from agentmem.application.run_signals import RunEvent, RunEvents, RunSignals
from agentmem.application.runs import RunApplication
from agentmem.domain.base import Context
from agentmem.domain.conversation import NewMessage
from agentmem.domain.errors import AgentMemError
from agentmem.domain.run import (
    CANCELLED,
    COMPLETED,
    FAILED,
    ContextFacts,
    Run,
    RunEndedError,
    RunStart,
    StepFacts,
)

log = logging.getLogger("agentmem.chat")


class Chat:
    """Runs agents (see the module docstring)."""

    def __init__(
        self,
        agents: AgentApplication,
        conversations: ConversationApplication,
        runs: RunApplication,
        models: LanguageModels,
        tools: ToolProviders,
        context: ContextBuilder,
        signals: RunSignals,
        events: RunEvents,
        policy: ChatPolicy,
    ) -> None:
        self.agents = agents
        self.conversations = conversations
        self.runs = runs
        self.models = models
        self.tools = tools
        self.context = context
        self.signals = signals
        self.events = events
        self.policy = policy
        self._tasks: set[asyncio.Task[Outcome]] = set()

    async def begin(self, request: ChatRequest, principal: Principal, context: Context) -> Prepared:
        """Checks the request, binds the model (503 without one), claims the agent (409 naming the active run),
        records the run's start and appends the caller's messages."""
        new = check_request(request)
        tenant = context.tenant_id
        agent = await asyncio.to_thread(self.agents.get, request.agent_id, tenant)
        model = self.models.bind(context, "chat", agent.llm, agent_id=str(agent.id))
        run_id = uuid4()
        active = await self.signals.claim(agent.id, run_id, self.policy.deadline + LOCK_SLACK)
        if active is not None:
            raise RunActiveError(agent.id, active)
        deadline = time.monotonic() + self.policy.deadline
        try:
            compiled = await asyncio.to_thread(self.agents.context, agent.id, tenant)
            start = RunStart(
                agent.id,
                model.provider,
                model.model,
                sha256(compiled.text),
                agent.version,
                request.max_steps,
                request.user_id,
                request.stream,
            )
            run = (await asyncio.to_thread(self.runs.start, run_id, start, context)).aggregate
        except BaseException:
            await self.signals.release(agent.id, run_id)
            raise
        own = Context(tenant, f"agent:{agent.id}", f"run:{run_id}")
        session = ToolSession(agent, run_id, own, principal.permissions, principal.max_memories, request.user_id)
        try:
            tagged = [NewMessage(m.role, m.content, run_id=str(run_id)) for m in new]
            appended = await asyncio.to_thread(self.conversations.append, agent.id, tagged, context)
        except BaseException as error:
            await self._end(session, FAILED, "error", str(error))
            await self.signals.release(agent.id, run_id)
            raise
        return Prepared(run, agent, model, session, request, compiled, deadline, appended.messages)

    async def execute(self, prepared: Prepared) -> Outcome:
        """Runs the loop to its end and gives the outcome (nothing is published)."""
        return await self._run(prepared, Emitter(None, prepared.run_id))

    async def stream(self, prepared: Prepared) -> None:
        """Publishes `run.started`, then runs the loop in the background, publishing every event."""
        emit = Emitter(self.events, prepared.run_id)
        await emit("run.started", self._started(prepared))
        task = asyncio.create_task(self._run(prepared, emit), name=f"run-{prepared.run_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def follow(self, run_id: UUID, tenant_id: str, after: int = 0) -> AsyncIterator[RunEvent]:
        """The run's events after `after` (404 for another tenant's run or one whose events are not kept)."""
        await asyncio.to_thread(self.runs.get, run_id, tenant_id)
        events = await self.events.follow(run_id, after, self.policy.deadline + LOCK_SLACK)
        await self.signals.attach(run_id)
        return events

    async def detach(self, run_id: UUID) -> None:
        """The streaming client went away: the run is cancelled at a step boundary unless it resumes in time."""
        await self.signals.detach(run_id)

    async def cancel(self, run_id: UUID, tenant_id: str, actor_id: str, via: str = "request") -> Run:
        """Asks the run to stop at its next step boundary; 409 when it has ended."""
        run = await asyncio.to_thread(self.runs.get, run_id, tenant_id)
        if run.ended:
            raise RunEndedError(f"run {run_id} has ended ({run.status})")
        await self.signals.request_cancel(run_id, f"cancelled by {actor_id} ({via})", self.policy.deadline)
        return run

    async def shutdown(self) -> None:
        """Cancels runs still going in this process (each records its end) and waits for them."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _started(self, prepared: Prepared) -> dict[str, Any]:
        return {
            "run_id": str(prepared.run_id),
            "agent_id": str(prepared.agent.id),
            "provider": prepared.model.provider,
            "model": prepared.model.model,
            "context_hash": prepared.run.start.context_hash,
            "messages": [message_data(m) for m in prepared.user_messages],
        }

    async def _run(self, prepared: Prepared, emit: Emit) -> Outcome:
        session = prepared.session
        outcome = Outcome(prepared.run_id, COMPLETED, "end_turn")
        step = Step()
        status = 200
        try:
            try:
                async with asyncio.timeout(prepared.deadline - time.monotonic()):  # any loop's clock
                    await self._steps(prepared, outcome, step, emit)
            except TimeoutError:
                outcome.status, outcome.stop_reason, status = FAILED, "deadline", 504
                outcome.error = f"the run did not finish within its deadline of {self.policy.deadline:g} s"
            except AgentMemError as error:
                outcome.status, outcome.stop_reason, outcome.error, status = FAILED, "error", str(error), error.status
            except asyncio.CancelledError:
                outcome.status, outcome.stop_reason, outcome.error = CANCELLED, "cancelled", "the server is stopping"
            except Exception as error:
                log.exception("run %s failed", prepared.run_id)
                outcome.status, outcome.stop_reason, status = FAILED, "error", 500
                outcome.error = f"internal error ({type(error).__name__})"
            if outcome.status in (FAILED, CANCELLED):
                await self._keep_partial(session, step, outcome)
            if outcome.status == FAILED:
                await emit("error", {"status": status, "detail": outcome.error, "stop_reason": outcome.stop_reason})
            outcome.position = await self._end(session, outcome.status, outcome.stop_reason, outcome.error)
            await emit("run.completed", self._completed(outcome))
        finally:
            await self.signals.release(prepared.agent.id, prepared.run_id)
        return outcome

    def _completed(self, outcome: Outcome) -> dict[str, Any]:
        return {
            "run_id": str(outcome.run_id),
            "status": outcome.status,
            "stop_reason": outcome.stop_reason,
            "steps": outcome.steps,
            "usage": usage_data(outcome.usage),
            "error": outcome.error,
            "position": outcome.position,
        }

    async def _steps(self, prepared: Prepared, outcome: Outcome, step: Step, emit: Emit) -> None:
        session = prepared.session
        tools = await self.tools.specs(session)
        built = await self.context.build(
            session, prepared.compiled, prepared.query, prepared.model, tools, prepared.deadline
        )
        facts = ContextFacts(built.prompt_hash, built.blocks, built.memory_ids, built.window, built.summary_id)
        await asyncio.to_thread(self.runs.record_context, prepared.run_id, facts, session.context)
        messages = list(built.messages)
        for number in range(1, prepared.request.max_steps + 1):
            reason = await self.signals.stop_reason(prepared.run_id, self.policy.detached_grace)
            if reason is not None:
                outcome.status, outcome.stop_reason, outcome.error = CANCELLED, "cancelled", reason
                return
            began = time.monotonic()
            step.text, step.calls = [], []
            answer = await self._ask(prepared, messages, tools, number, step, emit)
            model_ms = (time.monotonic() - began) * 1000
            said = await self._say(session, answer, outcome, number, emit)
            step.text, step.calls = [], []
            results = [await self._use(session, call, number, emit) for call in answer.tool_calls]
            messages.append(Message.assistant(answer.text, answer.tool_calls))
            messages.extend(Message("tool", r.content, (), r.tool_call_id, r.name) for r in results)
            outcome.usage += answer.usage
            outcome.steps = number
            step_facts = StepFacts(
                answer.finish_reason,
                answer.usage.input_tokens,
                answer.usage.output_tokens,
                answer.usage.cached_tokens,
                round(model_ms, 3),
                round((time.monotonic() - began) * 1000, 3),
                [c.name for c in answer.tool_calls],
                [m.id for m in said],
            )
            recorded = asyncio.to_thread(self.runs.record_step, prepared.run_id, step_facts, session.context)
            if results:  # the step's record and its tool results are independent writes: one round trip for both
                _, answered = await asyncio.gather(recorded, self._append(session, results))
                outcome.messages.extend(answered)
            else:
                await recorded
            if not answer.tool_calls:
                return
        outcome.stop_reason = "max_steps"

    async def _ask(
        self, prepared: Prepared, messages: list[Message], tools: list[Tool], number: int, step: Step, emit: Emit
    ) -> LLMAnswer:
        request = LLMRequest(tuple(messages), tuple(tools), deadline=prepared.deadline)
        answer: LLMAnswer | None = None
        stream = prepared.model.stream(request)
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    step.text.append(event.text)
                    await emit("message.delta", {"step": number, "text": event.text})
                elif isinstance(event, ToolCallDone):
                    step.calls.append(event.call)
                    call = event.call
                    await emit(
                        "tool.call", {"step": number, "id": call.id, "name": call.name, "arguments": call.arguments}
                    )
                elif isinstance(event, StreamEnd):
                    answer = event.answer
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        if answer is None:
            raise LanguageModelError("the model's stream ended without its final answer")
        return answer

    async def _say(
        self, session: ToolSession, answer: LLMAnswer, outcome: Outcome, number: int, emit: Emit
    ) -> list[Stored]:
        if not answer.text and not answer.tool_calls:
            return []
        new = NewMessage("assistant", answer.text, tool_calls=stored_calls(answer.tool_calls), run_id=session.tag)
        said = await self._append(session, [new])
        outcome.messages.extend(said)
        await emit("message.completed", {"step": number, "message": message_data(said[0])})
        return said

    async def _append(self, session: ToolSession, messages: list[NewMessage]) -> list[Stored]:
        appended = await asyncio.to_thread(self.conversations.append, session.agent.id, messages, session.context)
        return appended.messages

    async def _use(self, session: ToolSession, call: ToolCall, number: int, emit: Emit) -> NewMessage:
        result = await self.tools.run(session, call)
        data = {"step": number, "tool_call_id": call.id, "name": call.name, "content": result.content}
        await emit("tool.result", {**data, "is_error": result.is_error})
        return NewMessage("tool", result.content, name=call.name, tool_call_id=call.id, run_id=session.tag)

    async def _keep_partial(self, session: ToolSession, step: Step, outcome: Outcome) -> None:
        """What the model said before the step failed stays in the conversation, marked incomplete."""
        text = "".join(step.text)
        if not text and not step.calls:
            return
        new = NewMessage("assistant", text, tool_calls=stored_calls(step.calls), run_id=session.tag, incomplete=True)
        appended = await asyncio.shield(
            asyncio.to_thread(self.conversations.append, session.agent.id, [new], session.context)
        )
        outcome.messages.extend(appended.messages)

    async def _end(self, session: ToolSession, status: str, stop_reason: str, error: str | None) -> int:
        run_id, context = session.run_id, session.context
        if status == COMPLETED:
            ending = asyncio.to_thread(self.runs.complete, run_id, stop_reason, context)
        elif status == CANCELLED:
            ending = asyncio.to_thread(self.runs.cancel, run_id, error or "cancelled", context)
        else:
            ending = asyncio.to_thread(self.runs.fail, run_id, stop_reason, error or "failed", context)
        return (await asyncio.shield(ending)).position

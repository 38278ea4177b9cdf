"""What a run shows the model: the compiled system prompt, recalled memories and the recent conversation, each
within a token budget; older turns are folded into a summary message (an event), never silently dropped.

Tokens are estimated at 4 characters each (the rule of thumb of OpenAI's tokenizers for English, the same
estimate the rate limiter uses): budgets are soft limits for choosing what goes in, not a provider's count.

The conversation is read newest first. While the messages not yet covered by a summary fit the history budget,
they all go in (with the newest summary, if any, in the system prompt). When they do not, the newest half of the
budget stays verbatim and the rest is summarised by the model, with the previous summary, into a new summary
message appended to the conversation (`summary_of` = the first and last `seq` it covers): the next runs start
from it, so a summary is made only when the window fills up again, not every turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentmem.application.agent_tools import ToolSession, recall
from agentmem.application.agents import CompiledContext
from agentmem.application.conversations import ConversationApplication
from agentmem.application.conversations import Message as Stored
from agentmem.application.llm import LanguageModel, LLMRequest, Message, Tool, ToolCall
from agentmem.application.reads import Reads
from agentmem.domain.conversation import NewMessage
from agentmem.projections.queries import Hit

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
PAGE = 200
MAX_SCAN = 5_000
"""Messages read back at most when looking for the newest summary; older uncovered ones are named, not summarised."""
SUMMARY_INPUT_TOKENS = 12_000
SUMMARY_OUTPUT_TOKENS = 600
SUMMARY_NAME = "summary"
SUMMARY_INSTRUCTIONS = (
    "You summarise the earlier part of a conversation between a user and an AI agent so that the agent can go on "
    "without it. Keep facts about the user, names, numbers, decisions, promises and open questions; drop chit-chat. "
    "Write plain sentences, at most 300 words, in the conversation's language."
)


def tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def message_tokens(message: Stored) -> int:
    return tokens(message.content) + tokens(json.dumps(message.tool_calls)) + MESSAGE_OVERHEAD_TOKENS


@dataclass(frozen=True, slots=True)
class Budgets:
    """Token budgets of the recalled memories and of the verbatim conversation."""

    memories: int
    history: int
    memory_candidates: int = 20


@dataclass
class History:
    """The conversation as a run sees it: the newest summary and the messages after it, oldest first."""

    summary: Stored | None
    window: list[Stored]
    to_summarise: list[Stored] = field(default_factory=list)
    omitted: int = 0


@dataclass(frozen=True, slots=True)
class BuiltContext:
    """The first request's messages and what went into them (for the run's ContextBuilt event)."""

    messages: list[Message]
    prompt_hash: str
    blocks: list[dict[str, Any]]
    memory_ids: list[Any]
    window: list[int]
    summary_id: Any


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def prompt_hash(messages: Sequence[Message], tools: Sequence[Tool]) -> str:
    """A hash of exactly what one request sends: every message and every tool spec."""
    shown = {
        "messages": [
            [m.role, m.content, [[c.id, c.name, c.arguments] for c in m.tool_calls], m.tool_call_id, m.name]
            for m in messages
        ],
        "tools": [[t.name, t.description, t.parameters] for t in tools],
    }
    return sha256(json.dumps(shown, sort_keys=True, default=str))


def to_model(message: Stored) -> Message:
    """A stored message as the port's message (tool calls back from OpenAI's stored shape)."""
    calls = tuple(
        ToolCall(call["id"], call["function"]["name"], json.loads(call["function"].get("arguments") or "{}"))
        for call in message.tool_calls
    )
    return Message(message.role, message.content, calls, message.tool_call_id, message.name)


def stored_calls(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    """Tool calls in OpenAI's shape, as the messages API stores them."""
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for c in calls
    ]


def paired(window: Sequence[Stored]) -> list[Message]:
    """The window as model messages, every tool call answered and every tool result asked for (providers refuse
    a lone half: a window's cut or a cancelled run can leave one)."""
    answered = {m.tool_call_id for m in window if m.role == "tool"}
    asked: set[str] = set()
    out: list[Message] = []
    for stored in window:
        message = to_model(stored)
        if message.role == "assistant" and message.tool_calls:
            calls = tuple(c for c in message.tool_calls if c.id in answered)
            asked.update(c.id for c in calls)
            message = Message("assistant", message.content, calls)
            if not message.content and not calls:
                continue
        if message.role == "tool" and message.tool_call_id not in asked:
            continue
        out.append(message)
    return out


def memory_lines(hits: Sequence[Hit], budget: int) -> tuple[list[str], list[Any]]:
    lines: list[str] = []
    ids: list[Any] = []
    used = 0
    for hit in hits:
        line = f"- ({hit.memory.memory_type}) {hit.memory.text}"
        cost = tokens(line)
        if used + cost > budget:
            continue
        lines.append(line)
        ids.append(hit.memory.id)
        used += cost
    return lines, ids


def read_history(
    conversations: ConversationApplication, agent_id: Any, tenant_id: str, budget: int, run_id: str | None = None
) -> History:
    """The newest summary and the uncovered messages after it that fit; what must be summarised when they do not.

    Messages of `run_id` (the run's own new ones) always stay verbatim.
    """
    newest_first: list[Stored] = []
    summary: Stored | None = None
    after: tuple[int, int] | None = None
    scanned = total = beyond = 0
    lowest_seq = 0
    complete = False
    while not complete and scanned < MAX_SCAN:
        page = conversations.page(agent_id, tenant_id, after, PAGE, "desc")
        for message in page.messages:
            scanned += 1
            lowest_seq = message.seq
            if message.summary_of is not None:
                summary = summary or message
                continue
            if summary is not None and summary.summary_of is not None and message.seq <= summary.summary_of[1]:
                complete = True
                break
            cost = message_tokens(message)
            if not beyond and total + cost <= budget + SUMMARY_INPUT_TOKENS:
                newest_first.append(message)
                total += cost
            else:
                beyond += 1
        complete = complete or page.next_slot is None
        after = page.next_slot
    omitted = beyond + (0 if complete else lowest_seq)
    if total <= budget and not omitted:
        return History(summary, newest_first[::-1])
    keep: list[Stored] = []
    used = 0
    for message in newest_first:
        cost = message_tokens(message)
        if keep and used + cost > budget // 2 and (run_id is None or message.run_id != run_id):
            break
        keep.append(message)
        used += cost
    return History(summary, keep[::-1], newest_first[len(keep) :][::-1], omitted)


async def summarise(model: LanguageModel, history: History, deadline: float | None) -> tuple[str, list[int]]:
    """A new summary of the previous one and the messages to summarise; the [first, last] seq it covers."""
    lines = [f"{m.role}{f' ({m.name})' if m.name else ''}: {m.content}" for m in history.to_summarise]
    parts = []
    if history.summary is not None:
        parts.append(f"Summary so far:\n{history.summary.content}")
    parts.append("Conversation to add to it:\n" + "\n".join(lines))
    request = LLMRequest(
        (Message.system(SUMMARY_INSTRUCTIONS), Message.user("\n\n".join(parts))),
        max_output_tokens=SUMMARY_OUTPUT_TOKENS,
        deadline=deadline,
    )
    answer = await model.complete(request)
    text = answer.text.strip() or "(nothing to keep)"
    first = history.to_summarise[0].seq
    if history.summary is not None and history.summary.summary_of is not None and not history.omitted:
        first = history.summary.summary_of[0]
    if history.omitted:
        text += f"\n({history.omitted} earlier messages are not in this summary; conversation_search finds them.)"
    return text, [first, history.to_summarise[-1].seq]


class ContextBuilder:
    """Assembles the first request of a run (see the module docstring)."""

    def __init__(self, conversations: ConversationApplication, reads: Reads, budgets: Budgets) -> None:
        self.conversations = conversations
        self.reads = reads
        self.budgets = budgets

    async def build(
        self,
        session: ToolSession,
        compiled: CompiledContext,
        query: str,
        model: LanguageModel,
        tools: Sequence[Tool],
        deadline: float | None,
    ) -> BuiltContext:
        """The system prompt (compiled context, recalled memories, conversation summary) and the window."""
        tenant = session.context.tenant_id
        hits = await recall(self.reads, session, query, self.budgets.memory_candidates) if query else []
        lines, memory_ids = memory_lines(hits, self.budgets.memories)
        history = await asyncio.to_thread(
            read_history, self.conversations, session.agent.id, tenant, self.budgets.history, session.tag
        )
        summary_text = history.summary.content if history.summary else None
        summary_id = history.summary.id if history.summary else None
        if history.to_summarise:
            summary_text, covers = await summarise(model, history, deadline)
            new = NewMessage("system", summary_text, name=SUMMARY_NAME, run_id=session.tag, summary_of=covers)
            appended = await asyncio.to_thread(self.conversations.append, session.agent.id, [new], session.context)
            summary_id = appended.messages[0].id
        system = compiled.text
        if lines:
            system += "\n\n<recalled_memories>\n" + "\n".join(lines) + "\n</recalled_memories>"
        if summary_text:
            system += "\n\n<conversation_summary>\n" + summary_text + "\n</conversation_summary>"
        messages = [Message.system(system), *paired(history.window)]
        window = [history.window[0].seq, history.window[-1].seq] if history.window else []
        return BuiltContext(
            messages=messages,
            prompt_hash=prompt_hash(messages, tools),
            blocks=[{"id": str(b.id), "label": b.label, "version": b.version} for b in compiled.blocks],
            memory_ids=memory_ids,
            window=window,
            summary_id=summary_id,
        )

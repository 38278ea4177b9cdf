"""The MCP chat tool: `chat_with_agent` runs one chat turn over the same use case as POST /v1/agents/{id}/chat."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

from agentmem.application.chat_runs import ChatInput, ChatRequest
from agentmem.domain.conversation import MAX_CONTENT_CHARS
from agentmem.domain.run import MAX_STEPS
from agentmem.mcp_server.calls import Call, Tool


class ChatWithAgent(Struct, forbid_unknown_fields=True, kw_only=True):
    """Says something to an agent and waits for its answer."""

    agent_id: UUID
    message: Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS, description="What to say.")]
    max_steps: Annotated[int, Meta(ge=1, le=MAX_STEPS, description="Model steps at most.")] = 10
    user_id: Annotated[str, Meta(min_length=1, max_length=255, description="The end user (scopes recall).")] | None = (
        None
    )


async def chat_with_agent(call: Call, args: ChatWithAgent) -> dict[str, Any]:
    call.require("messages:write")
    chat = call.container.chat
    request = ChatRequest(args.agent_id, [ChatInput("user", args.message)], args.max_steps, args.user_id)
    outcome = await chat.execute(await chat.begin(request, call.principal, call.context))
    await call.wrote(outcome.position)
    said = [m.content for m in outcome.messages if m.role == "assistant" and m.content]
    return {
        "run_id": str(outcome.run_id),
        "status": outcome.status,
        "stop_reason": outcome.stop_reason,
        "answer": said[-1] if said else "",
        "tool_calls": [c["function"]["name"] for m in outcome.messages for c in m.tool_calls],
        "steps": outcome.steps,
        "usage": {"input_tokens": outcome.usage.input_tokens, "output_tokens": outcome.usage.output_tokens},
        "error": outcome.error,
        "position": outcome.position,
    }


CHAT_TOOLS = [
    Tool(
        "chat_with_agent",
        "Talk to an AgentMem agent: it reads its core memory, recalls relevant memories, may edit its memory with "
        "tools, and answers. Every step is recorded as a run (run_id).",
        ChatWithAgent,
        chat_with_agent,
    ),
]

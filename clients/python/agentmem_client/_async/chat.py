"""client.chat: talk to an agent (answered at the end, or streamed with automatic resume), its runs, cancel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import msgspec

from agentmem_client._async.http import HttpCore, backoff
from agentmem_client._params import query as query_params
from agentmem_client.errors import APIConnectionError, error_from_response
from agentmem_client.types import ChatResult, Order, Page, Run, RunEvent

Messages = str | Sequence[dict[str, str]]


def chat_body(messages: Messages, stream: bool, max_steps: int | None, user_id: str | None) -> dict[str, Any]:
    listed = [{"role": "user", "content": messages}] if isinstance(messages, str) else list(messages)
    payload: dict[str, Any] = {"messages": listed, "stream": stream}
    if max_steps is not None:
        payload["max_steps"] = max_steps
    if user_id is not None:
        payload["user_id"] = user_id
    return payload


class Chat:
    """Chat turns with an agent: every message, tool call and step is recorded as a run."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    async def send(
        self, agent_id: str, messages: Messages, *, max_steps: int | None = None, user_id: str | None = None
    ) -> ChatResult:
        """Runs the agent and answers when the run has ended (`.text` is the answer)."""
        payload = chat_body(messages, False, max_steps, user_id)
        return await self._http.call("POST", f"/v1/agents/{agent_id}/chat", ChatResult, json=payload)

    async def stream(
        self,
        agent_id: str,
        messages: Messages,
        *,
        max_steps: int | None = None,
        user_id: str | None = None,
        resume_attempts: int = 3,
    ) -> AsyncIterator[RunEvent]:
        """The run's events as they happen, up to `run.completed`. A dropped connection is resumed (up to
        `resume_attempts` times) with Last-Event-ID: no event is lost or repeated."""
        payload = msgspec.json.encode(chat_body(messages, True, max_steps, user_id))
        last_id: str | None = None
        attempts = 0
        while True:
            headers = {**self._http.headers, "Content-Type": "application/json", "Accept": "text/event-stream"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            try:
                async with self._http.client.stream(
                    "POST", f"/v1/agents/{agent_id}/chat", content=payload, headers=headers
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise error_from_response(response)
                    async for event in parse_events(response.aiter_lines()):
                        last_id = event.id
                        yield event
                        if event.event == "run.completed":
                            return
                return
            except httpx.TransportError as error:
                if last_id is None or attempts >= resume_attempts:
                    raise APIConnectionError(f"chat stream of agent {agent_id}: {error}") from error
                attempts += 1
                await self._http._sleep(backoff(attempts))

    async def get_run(self, run_id: str) -> Run:
        """A run: status, model, context hash, each step's usage and latency."""
        return await self._http.call("GET", f"/v1/runs/{run_id}", Run)

    async def list_runs(
        self, agent_id: str, *, order: Order = "created_desc", limit: int = 20, cursor: str | None = None
    ) -> Page[dict[str, Any]]:
        """One page of the agent's runs, newest first."""
        params = query_params(order=order, limit=limit, cursor=cursor, min_position=self._http.min_position(None))
        return await self._http.call("GET", f"/v1/agents/{agent_id}/runs", Page[dict[str, Any]], params=params)

    async def cancel(self, run_id: str) -> None:
        """Asks the run to stop at its next step boundary."""
        await self._http.request("POST", f"/v1/runs/{run_id}/cancel")


async def parse_events(lines: AsyncIterator[str]) -> AsyncIterator[RunEvent]:
    """Server-sent events from response lines."""
    fields: dict[str, str] = {}
    async for line in lines:
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" in fields:
            yield RunEvent(fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"]))
        fields = {}

"""`agentmem mcp` over stdio, started as a desktop client starts it, relaying to the real server over HTTP."""

from __future__ import annotations

import os
import sys
import uuid

from mcp import Client, StdioServerParameters

from tests.clients import Org
from tests.mcp.conftest import answer
from tests.mcp.test_mcp_http import EXPECTED_TOOLS


def agentmem_mcp(url: str, api_key: str) -> StdioServerParameters:
    env = {**os.environ, "AGENTMEM_URL": url, "AGENTMEM_API_KEY": api_key, "AGENTMEM_LOG_LEVEL": "warning"}
    return StdioServerParameters(command=sys.executable, args=["-m", "agentmem.cli", "mcp"], env=env)


async def test_stdio_lists_the_servers_tools_adds_then_finds_and_refuses_a_viewers_write(
    live_url: str, org: Org
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with Client(agentmem_mcp(live_url, org.owner_key)) as client:
        assert {t.name for t in (await client.list_tools()).tools} == EXPECTED_TOOLS
        added = answer(
            await client.call_tool("add_memory", {"text": "The spare key is under the mat", "user_id": user})
        )
        found = answer(await client.call_tool("search_memories", {"query": "where is the spare key?", "user_id": user}))
        assert found["results"][0]["id"] == added["id"]
        history = answer(await client.call_tool("memory_history", {"memory_id": added["id"]}))
        assert [v["event_type"] for v in history["versions"]] == ["Created"]
        bad = await client.call_tool("search_memories", {"query": "key", "limit": 0})
        assert bad.is_error and answer(bad)["errors"][0]["field"] == "limit"
    async with Client(agentmem_mcp(live_url, org.client_with_role("viewer").secret)) as viewer:
        refused = await viewer.call_tool("add_memory", {"text": "not allowed"})
        assert refused.is_error and answer(refused)["status"] == 403
        other = await viewer.call_tool("get_memory", {"memory_id": str(uuid.uuid4())})
        assert other.is_error and answer(other)["status"] == 404

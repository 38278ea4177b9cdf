"""The MCP server over streamable HTTP, with the SDK's own client, against the real server."""

from __future__ import annotations

import uuid

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from tests.clients import ApiClient, Org
from tests.mcp.conftest import answer, http_session

EXPECTED_TOOLS = {
    "add_memory",
    "search_memories",
    "get_memory",
    "update_memory",
    "delete_memory",
    "list_memories",
    "memory_history",
    "list_blocks",
    "get_block",
    "core_memory_append",
    "core_memory_replace",
    "chat_with_agent",
}


async def test_tools_are_listed_with_descriptions_and_json_schemas(live_url: str, org: Org) -> None:
    async with http_session(live_url, org.owner_key) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == EXPECTED_TOOLS
    search = tools["search_memories"]
    assert search.description and "query" in search.input_schema["required"]
    assert search.input_schema["properties"]["limit"]["maximum"] == 100
    assert search.annotations is not None and search.annotations.read_only_hint


async def test_an_add_is_found_by_the_next_search_and_edits_show_in_history(live_url: str, org: Org) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with http_session(live_url, org.owner_key) as client:
        added = answer(await client.call_tool("add_memory", {"text": "Alice prefers green tea", "user_id": user}))
        found = answer(await client.call_tool("search_memories", {"query": "what does Alice drink?", "user_id": user}))
        assert [r["id"] for r in found["results"]] == [added["id"]]  # read-your-writes without passing a position
        edited = await client.call_tool(
            "update_memory", {"memory_id": added["id"], "text": "Alice prefers coffee", "expected_version": 1}
        )
        assert not edited.is_error and answer(edited)["version"] == 2
        stale = await client.call_tool("update_memory", {"memory_id": added["id"], "text": "x", "expected_version": 1})
        assert stale.is_error and answer(stale)["status"] == 409 and answer(stale)["current_version"] == 2
        then = answer(await client.call_tool("get_memory", {"memory_id": added["id"], "version": 1}))
        assert then["text"] == "Alice prefers green tea"
        history = answer(await client.call_tool("memory_history", {"memory_id": added["id"]}))
        assert [v["event_type"] for v in history["versions"]] == ["Created", "Updated"]
        assert history["versions"][1]["changes"]["text"] == {
            "old": "Alice prefers green tea",
            "new": "Alice prefers coffee",
        }
        said = [{"role": "user", "content": "I moved to Porto"}, {"role": "assistant", "content": "Nice!"}]
        stored = answer(await client.call_tool("add_memory", {"messages": said, "user_id": user}))
        assert [m["memory_type"] for m in stored["memories"]] == ["episodic", "episodic"]
        listed = answer(await client.call_tool("list_memories", {"user_id": user, "memory_type": ["episodic"]}))
        assert {m["text"] for m in listed["items"]} == {"I moved to Porto", "Nice!"}
        assert answer(await client.call_tool("delete_memory", {"memory_id": added["id"]}))["deleted"] is True
        gone = await client.call_tool("get_memory", {"memory_id": added["id"]})
        assert gone.is_error and answer(gone)["status"] == 404


async def test_core_memory_tools_edit_an_agents_blocks_by_label_and_resources_show_them(
    live_url: str, org: Org, client: ApiClient
) -> None:
    human = client.post("/v1/blocks", json={"label": "human", "value": "Sam is learning French.", "limit": 60}).json()
    agent = client.post("/v1/agents", json={"name": "tutor", "system": "Teach.", "block_ids": [human["id"]]}).json()
    async with http_session(live_url, org.owner_key) as mcp:
        appended = answer(
            await mcp.call_tool(
                "core_memory_append", {"agent_id": agent["id"], "label": "human", "content": "Likes chess."}
            )
        )
        assert appended["value"] == "Sam is learning French.\nLikes chess." and appended["version"] == 2
        replace = {"agent_id": agent["id"], "label": "human", "old_content": "French", "new_content": "Spanish"}
        assert answer(await mcp.call_tool("core_memory_replace", replace))["value"].startswith(
            "Sam is learning Spanish."
        )
        over = await mcp.call_tool(
            "core_memory_append", {"agent_id": agent["id"], "label": "human", "content": "x" * 60}
        )
        assert over.is_error and (answer(over)["status"], answer(over)["limit"]) == (422, 60)
        missing = await mcp.call_tool(
            "core_memory_append", {"agent_id": agent["id"], "label": "persona", "content": "x"}
        )
        assert missing.is_error and answer(missing)["status"] == 404
        block = answer(await mcp.call_tool("get_block", {"agent_id": agent["id"], "label": "human", "version": 1}))
        assert block["value"] == "Sam is learning French."
        listed = answer(await mcp.call_tool("list_blocks", {"agent_id": agent["id"]}))
        assert [b["id"] for b in listed["items"]] == [human["id"]]

        context = await mcp.read_resource(f"agentmem://agents/{agent['id']}/context")
        assert "Sam is learning Spanish." in context.contents[0].text  # type: ignore[union-attr]
        uris = {str(r.uri) for r in (await mcp.list_resources()).resources}
        assert f"agentmem://agents/{agent['id']}/blocks" in uris
        with pytest.raises(MCPError, match="not found"):
            await mcp.read_resource(f"agentmem://agents/{uuid.uuid4()}/context")


async def test_a_viewer_cannot_write_and_can_read(live_url: str, org: Org) -> None:
    viewer = org.client_with_role("viewer")
    async with http_session(live_url, viewer.secret) as client:
        refused = await client.call_tool("add_memory", {"text": "not allowed"})
        assert refused.is_error
        assert answer(refused) == {"status": 403, "detail": "your role (viewer) does not grant memories:write"}
        assert not (await client.call_tool("list_memories", {})).is_error


async def test_another_organizations_ids_are_not_found(live_url: str, org: Org, admin: ApiClient) -> None:
    async with http_session(live_url, org.owner_key) as client:
        mine = answer(await client.call_tool("add_memory", {"text": "my secret"}))
    async with http_session(live_url, admin.secret) as other:
        for tool in ("get_memory", "memory_history", "delete_memory"):
            result = await other.call_tool(tool, {"memory_id": mine["id"]})
            assert result.is_error and answer(result)["status"] == 404, tool
        searched = answer(await other.call_tool("search_memories", {"query": "my secret", "mode": "text"}))
        assert mine["id"] not in [r["id"] for r in searched["results"]]


async def test_bad_arguments_are_tool_errors_naming_the_field(live_url: str, org: Org) -> None:
    async with http_session(live_url, org.owner_key) as client:
        cases = {
            ("search_memories", "limit"): {"query": "tea", "limit": "10"},
            ("search_memories", "query"): {"limit": 5},
            ("get_memory", "memory_id"): {"memory_id": "not-a-uuid"},
            ("add_memory", "memory_type"): {"text": "x", "memory_type": "dream"},
            ("add_memory", "surprise"): {"text": "x", "surprise": 1},
            ("add_memory", "text"): {},
        }
        for (tool, field), arguments in cases.items():
            result = await client.call_tool(tool, arguments)
            assert result.is_error and answer(result)["status"] == 422, (tool, arguments)
            assert answer(result)["errors"][0]["field"] == field, answer(result)


def test_without_credentials_the_endpoint_answers_401(live_url: str) -> None:
    response = httpx.post(f"{live_url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"

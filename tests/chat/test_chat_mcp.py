"""The MCP tool chat_with_agent, with the SDK's own client: one chat turn, and the same permission as HTTP."""

from __future__ import annotations

from tests.chat.conftest import Api
from tests.clients import Org
from tests.mcp.conftest import answer, http_session
from tests.stubs.scripted_models import ScriptedModels, Turn


async def test_chat_with_agent_runs_one_turn_and_a_viewer_is_refused(
    api: Api, models: ScriptedModels, chat_org: Org
) -> None:
    agent = api.agent({"label": "human", "value": "Ada"})
    models.add(Turn.call("core_memory_append", label="human", content="plays chess"), Turn(text="Chess, nice."))
    async with http_session(api.url, api.key) as client:
        said = answer(await client.call_tool("chat_with_agent", {"agent_id": agent["id"], "message": "I play chess"}))
    assert (said["status"], said["answer"], said["tool_calls"]) == ("completed", "Chess, nice.", ["core_memory_append"])
    assert api.get(f"/v1/runs/{said['run_id']}").json()["status"] == "completed"
    viewer = chat_org.client_with_role("viewer").secret
    async with http_session(api.url, viewer) as client:
        refused = await client.call_tool("chat_with_agent", {"agent_id": agent["id"], "message": "hi"})
    assert refused.is_error and answer(refused)["status"] == 403

"""An agent's attached tools in its runs: offered to the model, run in the sandbox, recorded with the run's id."""

from __future__ import annotations

import json
import uuid

from tests.chat.conftest import Api
from tests.stubs.scripted_models import ScriptedModels, Turn

GREET = {
    "language": "python",
    "description": "Greets someone by name.",
    "source": "def main(name):\n    return {'text': 'hi ' + name}\n",
    "parameters": {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    },
}


def test_an_attached_tool_runs_in_the_sandbox_and_its_run_names_the_agents_run(
    api: Api, models: ScriptedModels
) -> None:
    name = f"greet_{uuid.uuid4().hex[:8]}"
    tool = api.post("/v1/tools", json={**GREET, "name": name})
    assert tool.status_code == 201, tool.text
    agent = api.agent(tool_ids=[tool.json()["id"]])
    models.add(Turn(calls=[(name, {"name": "Ada"})]), Turn(text="I greeted Ada."))
    body = api.chat(agent["id"], "greet Ada").json()
    assert body["status"] == "completed"
    result = json.loads(next(m["content"] for m in body["messages"] if m["role"] == "tool"))
    assert (result["status"], result["return_value"]) == ("ok", {"text": "hi Ada"})
    _, first = models.requests[-2]
    assert name in {t.name for t in first.tools}
    runs = api.get(f"/v1/tools/{tool.json()['id']}/runs", params={"min_position": body["position"]}).json()["items"]
    assert [r["agent_run_id"] for r in runs] == [body["run_id"]]

"""/v1/tools and /v1/secrets over HTTP: register, run in the real sandbox, versions, runs, secrets, permissions."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from agentmem.infrastructure.settings import Settings
from tests.clients import ApiClient, Org

GREET = {
    "name": "greet",
    "description": "Greets someone by name.",
    "language": "python",
    "source": "def main(name, times=1):\n"
    "    print('greeting', name)\n"
    "    return {'text': ' '.join(['hi ' + name] * times)}\n",
    "parameters": {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1}, "times": {"type": "integer", "minimum": 1}},
        "required": ["name"],
        "additionalProperties": False,
    },
    "tags": ["demo"],
}


def register(client: Any, **fields: Any) -> dict[str, Any]:
    body = {**GREET, "name": f"t_{uuid.uuid4().hex[:10]}", **fields}
    response = client.post("/v1/tools", json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.usefixtures("worker")
def test_a_python_tool_registered_over_http_runs_and_its_run_is_recorded(client: Any) -> None:
    tool = register(client)
    ran = client.post(f"/v1/tools/{tool['id']}/run", json={"args": {"name": "Ada", "times": 2}})
    assert ran.status_code == 200, ran.text
    run = ran.json()
    assert (run["status"], run["return_value"], run["exit_code"]) == ("ok", {"text": "hi Ada hi Ada"}, 0)
    assert run["stdout"] == "greeting Ada\n" and run["stderr"] == "" and not run["truncated"]
    assert run["tool_version"] == 1 and run["duration_ms"] > 0
    runs = client.get(f"/v1/tools/{tool['id']}/runs", params={"min_position": run["position"]}).json()["items"]
    assert [(r["id"], r["status"], r["args"], r["return_value"]) for r in runs] == [
        (run["run_id"], "ok", {"name": "Ada", "times": 2}, {"text": "hi Ada hi Ada"})
    ]
    listed = client.get("/v1/tools", params={"name": tool["name"], "min_position": run["position"]}).json()
    assert [t["id"] for t in listed["items"]] == [tool["id"]]


@pytest.mark.usefixtures("worker")
def test_arguments_that_miss_the_schema_are_422_before_anything_runs(client: Any) -> None:
    tool = register(client)
    url = f"/v1/tools/{tool['id']}/run"
    for args, field in (({}, "args"), ({"name": ""}, "args.name"), ({"name": "x", "extra": 1}, "args"),
                        ({"name": "x", "times": "2"}, "args.times")):  # fmt: skip
        refused = client.post(url, json={"args": args})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, refused.text
    ran = client.post(url, json={"args": {"name": "x"}}).json()
    runs = client.get(f"/v1/tools/{tool['id']}/runs", params={"min_position": ran["position"]}).json()["items"]
    assert [r["id"] for r in runs] == [ran["run_id"]]  # the refused ones never ran, nor were recorded


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "no spaces"}, "name"),
        ({"name": "../etc"}, "name"),
        ({"language": "ruby"}, "language"),
        ({"source": "def main(:\n"}, "source"),
        ({"source": "def helper():\n    return 1\n"}, "source"),
        ({"parameters": {"type": "array"}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"x": {"type": "nonsense"}}}}, "parameters"),
        ({"parameters": {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}}}, "parameters"),
        ({"timeout_s": 600}, "timeout_s"),
        ({"memory_mb": 8}, "memory_mb"),
        ({"secrets": ["PATH"]}, "secrets[0]"),
        ({"secrets": ["LD_PRELOAD"]}, "secrets[0]"),
    ],
)
def test_a_tool_that_breaks_a_rule_is_refused_naming_the_field(client: Any, fields: dict[str, Any], field: str) -> None:
    response = client.post("/v1/tools", json={**GREET, **fields})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_a_tool_is_versioned_with_history_as_of_if_match_delete_and_restore(client: Any) -> None:
    tool = register(client)
    url = f"/v1/tools/{tool['id']}"
    source = "def main(name, times=1):\n    return 'v2 ' + name\n"
    assert client.patch(url, json={"source": source}, headers={"If-Match": "1"}).status_code == 200
    stale = client.patch(url, json={"description": "lost"}, headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    assert client.get(url, params={"version": 1}).json()["source"] == GREET["source"]
    assert client.post(f"{url}/run", json={"args": {"name": "Bo"}}).json()["return_value"] == "v2 Bo"
    history = client.get(f"{url}/history").json()["versions"]
    assert [v["event_type"] for v in history] == ["Created", "Updated"]
    assert history[1]["changes"]["source"]["new"] == source
    assert client.delete(url).status_code == 204
    assert client.post(f"{url}/run", json={"args": {"name": "Bo"}}).status_code == 404
    assert client.post(f"{url}/restore").status_code == 200
    assert client.post(f"{url}/run", json={"args": {"name": "Bo"}}).json()["status"] == "ok"


def test_names_are_unique_in_an_organization_and_free_again_after_a_rename_or_delete(client: Any, admin: Any) -> None:
    name = f"n_{uuid.uuid4().hex[:8]}"
    first = register(client, name=name)
    taken = client.post("/v1/tools", json={**GREET, "name": name})
    assert taken.status_code == 409
    assert admin.post("/v1/tools", json={**GREET, "name": name}).status_code == 201  # another organization
    assert client.patch(f"/v1/tools/{first['id']}", json={"name": f"{name}_v2"}).status_code == 200
    second = register(client, name=name)
    assert client.patch(f"/v1/tools/{second['id']}", json={"name": f"{name}_v2"}).status_code == 409
    assert client.delete(f"/v1/tools/{first['id']}").status_code == 204
    assert client.patch(f"/v1/tools/{second['id']}", json={"name": f"{name}_v2"}).status_code == 200
    assert client.post(f"/v1/tools/{first['id']}/restore").status_code == 409  # its name is someone else's now


def test_bash_and_javascript_calling_conventions(client: Any) -> None:
    bash = register(
        client,
        language="bash",
        source='read -r args\necho "adding $ARG_NAME"\necho "{\\"sum\\": $(( $(echo $args | tr -dc 0-9) + 1 ))}"\n',
        parameters={"type": "object", "properties": {"name": {"type": "string"}}},
    )
    ran = client.post(f"/v1/tools/{bash['id']}/run", json={"args": {"name": "41"}}).json()
    assert (ran["status"], ran["return_value"], ran["stdout"]) == ("ok", {"sum": 42}, "adding 41\n")
    js = register(
        client,
        language="javascript",
        source="export async function main({ name }) {\n  console.log('js', name);\n  return [name.length];\n}\n",
    )
    ran = client.post(f"/v1/tools/{js['id']}/run", json={"args": {"name": "Ada"}}).json()
    assert (ran["status"], ran["return_value"], ran["stdout"]) == ("ok", [3], "js Ada\n")


def test_a_failing_tool_reports_error_with_its_traceback(client: Any) -> None:
    tool = register(client, source="def main(name, times=1):\n    raise ValueError('no ' + name)\n")
    ran = client.post(f"/v1/tools/{tool['id']}/run", json={"args": {"name": "way"}}).json()
    assert (ran["status"], ran["exit_code"], ran["error"]) == ("error", 1, "ValueError: no way")
    assert "Traceback" in ran["stderr"] and ran["return_value"] is None


def test_roles_register_and_run_tools_as_their_permissions_say(org: Org) -> None:
    member, viewer = org.client_with_role("member"), org.client_with_role("viewer")
    tool = register(member)
    assert viewer.get(f"/v1/tools/{tool['id']}").status_code == 200
    assert viewer.post(f"/v1/tools/{tool['id']}/run", json={"args": {"name": "x"}}).status_code == 403
    assert viewer.post("/v1/tools", json=GREET).status_code == 403
    assert member.post(f"/v1/tools/{tool['id']}/run", json={"args": {"name": "x"}}).json()["status"] == "ok"


SHOW_ENV = "import os\ndef main():\n    print(os.environ.get('API_TOKEN'))\n    return sorted(os.environ)\n"


def test_secrets_are_set_by_owners_given_only_to_tools_that_name_them_and_never_shown(
    org: Org, settings: Settings
) -> None:
    owner, member = org.owner, org.client_with_role("member")
    value = f"tok-{uuid.uuid4().hex}"
    assert member.put("/v1/secrets/API_TOKEN", json={"value": value}).status_code == 403
    put = owner.put("/v1/secrets/API_TOKEN", json={"value": value})
    assert put.status_code == 200 and put.json()["version"] == 1 and value not in put.text
    listed = owner.get("/v1/secrets").json()["items"]
    assert [s["name"] for s in listed] == ["API_TOKEN"] and value not in str(listed)

    assert member.post("/v1/tools", json={**GREET, "source": SHOW_ENV, "secrets": ["API_TOKEN"]}).status_code == 403
    named = register(owner, source=SHOW_ENV, parameters={"type": "object"}, secrets=["API_TOKEN"])
    other = register(owner, source=SHOW_ENV, parameters={"type": "object"})
    assert member.patch(f"/v1/tools/{named['id']}", json={"source": SHOW_ENV + "\n"}).status_code == 403

    seen = member.post(f"/v1/tools/{named['id']}/run", json={"args": {}}).json()
    assert "API_TOKEN" in seen["return_value"] and seen["stdout"] == "[secret API_TOKEN]\n"
    unseen = member.post(f"/v1/tools/{other['id']}/run", json={"args": {}}).json()
    assert "API_TOKEN" not in unseen["return_value"] and unseen["stdout"] == "None\n"

    with psycopg.connect(settings.database_url or "") as conn:
        in_log = conn.execute(
            "SELECT count(*) FROM agentmem_events WHERE position(%s in state) > 0", (value.encode(),)
        ).fetchone()
        sealed = conn.execute("SELECT sealed FROM organization_secrets WHERE name = 'API_TOKEN'").fetchall()
    assert in_log is not None and in_log[0] == 0
    assert sealed and all(value.encode() not in bytes(s[0]) for s in sealed)

    assert owner.delete("/v1/secrets/API_TOKEN").status_code == 204
    refused = member.post(f"/v1/tools/{named['id']}/run", json={"args": {}})
    assert refused.status_code == 409 and "API_TOKEN" in refused.json()["detail"]
    assert owner.get("/v1/secrets").json()["items"] == []
    assert owner.delete("/v1/secrets/API_TOKEN").status_code == 404


def test_agents_take_only_live_tools_of_their_organization(client: Any, admin: ApiClient) -> None:
    tool = register(client)
    foreign = register(admin)
    agent = client.post("/v1/agents", json={"name": "with tools", "tool_ids": [tool["id"]]})
    assert agent.status_code == 201 and agent.json()["tool_ids"] == [tool["id"]]
    refused = client.post("/v1/agents", json={"name": "stolen", "tool_ids": [tool["id"], foreign["id"]]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tool_ids[1]"

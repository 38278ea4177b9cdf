"""Conversations become memories through extraction jobs: ADD, UPDATE, DELETE, NONE, refused handles, provenance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from agentmem.application.llm import LLMRequest
from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.jobs import job, queue, remember, run, said, texts, user
from tests.scripted_model import ScriptedModel, decisions, facts, scripted, shown

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def model(container: Container) -> Iterator[ScriptedModel]:
    with scripted(container, ScriptedModel()) as scripted_model:
        yield scripted_model


def test_a_conversation_is_queued_then_its_facts_become_searchable_memories_with_provenance(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    ana = user()
    model.add(facts(("Ana lives in Lisbon", [0]), ("Ana has a cat named Miso", [1])))
    queued = queue(client, "I live in Lisbon", "My cat Miso sleeps all day", user_id=ana)
    assert queued["status"] == "queued" and queued["position"] > 0 and queued["episode_id"]

    assert run(http, container, queued["job_id"]) == "succeeded"
    done = job(client, queued["job_id"])
    assert done["status"] == "succeeded" and done["attempts"] == 1 and done["error"] is None
    assert [(d["event"], d["status"]) for d in done["result"]["decisions"]] == [("ADD", "applied")] * 2
    assert done["result"]["added"] == 2 and not model.asked("decisions")  # nothing similar known: no second call

    hits = client.post(
        "/v1/memories/search", json={"query": "Where does Ana live?", "user_id": ana, "min_position": done["position"]}
    ).json()["results"]
    assert hits[0]["text"] == "Ana lives in Lisbon" and hits[0]["memory_type"] == "semantic"

    cat = done["result"]["decisions"][1]["memory_id"]
    created = client.get(f"/v1/memories/{cat}/history").json()["versions"][0]
    assert created["provenance"] == {
        "source": "extraction",
        "job_id": queued["job_id"],
        "episode_id": queued["episode_id"],
        "messages": [1],
        "provider": "scripted",
        "model": "scripted-1",
        "prompt_version": "v1",
    }
    episode = client.get(f"/v1/episodes/{queued['episode_id']}").json()
    assert [m["content"] for m in episode["messages"]] == ["I live in Lisbon", "My cat Miso sleeps all day"]


def test_moving_from_lisbon_to_porto_updates_the_memory_instead_of_adding_one(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    bruno = user()
    known = remember(client, "Bruno lives in Lisbon", bruno)

    def decide(request: LLMRequest) -> dict[str, object]:
        return decisions((0, "UPDATE", shown(request)["Bruno lives in Lisbon"], "Bruno lives in Porto"))

    moved = {"text": "Bruno moved from Lisbon to Porto", "memory_type": "semantic", "source_messages": [0]}
    model.add(facts(moved | {"valid_from": "2026-10-01", "valid_to": None}), decide)
    queued = queue(client, "I moved from Lisbon to Porto last month", user_id=bruno)
    assert run(http, container, queued["job_id"]) == "succeeded"

    done = job(client, queued["job_id"])
    [decision] = done["result"]["decisions"]
    assert decision["event"] == "UPDATE" and decision["status"] == "applied"
    assert decision["memory_id"] == known["id"] and decision["old_text"] == "Bruno lives in Lisbon"
    assert texts(client, bruno, done["position"]) == ["Bruno lives in Porto"]
    memory = client.get(f"/v1/memories/{known['id']}").json()
    assert memory["version"] == 2 and memory["valid_from"].startswith("2026-10-01")
    updated = client.get(f"/v1/memories/{known['id']}/history").json()["versions"][1]
    assert updated["changes"]["text"] == {"old": "Bruno lives in Lisbon", "new": "Bruno lives in Porto"}
    assert updated["provenance"]["episode_id"] == queued["episode_id"] and updated["provenance"]["messages"] == [0]
    assert "Bruno lives in Lisbon" in model.asked("decisions")[-1].messages[-1].content


def test_a_retracted_fact_deletes_the_memory(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    carla = user()
    known = remember(client, "Carla is vegetarian", carla)
    model.add(
        facts(("Carla is not vegetarian", [0])),
        lambda request: decisions((0, "DELETE", shown(request)["Carla is vegetarian"], None)),
    )
    queued = queue(client, "Forget that I'm vegetarian, that was never true", user_id=carla)
    assert run(http, container, queued["job_id"]) == "succeeded"
    done = job(client, queued["job_id"])
    assert [(d["event"], d["status"]) for d in done["result"]["decisions"]] == [("DELETE", "applied")]
    assert texts(client, carla, done["position"]) == []
    assert client.get(f"/v1/memories/{known['id']}").status_code == 404
    deleted = client.get(f"/v1/memories/{known['id']}/history").json()["versions"][-1]
    assert deleted["event_type"] == "Deleted" and deleted["provenance"]["job_id"] == queued["job_id"]


def test_a_repeated_fact_changes_nothing(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    dev = user()
    known = remember(client, "Dev likes jazz", dev)
    model.add(facts(("Dev likes jazz", [0])), lambda r: decisions((0, "NONE", shown(r)["Dev likes jazz"], None)))
    queued = queue(client, "I really like jazz", user_id=dev)
    assert run(http, container, queued["job_id"]) == "succeeded"
    done = job(client, queued["job_id"])
    [decision] = done["result"]["decisions"]
    assert (decision["event"], decision["status"], decision["memory_id"]) == ("NONE", "unchanged", known["id"])
    assert texts(client, dev, done["position"]) == ["Dev likes jazz"]
    assert client.get(f"/v1/memories/{known['id']}").json()["version"] == 1


def test_a_decision_naming_a_memory_that_was_never_shown_is_refused_and_the_rest_applied(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    eve = user()
    known = remember(client, "Eve works at Acme", eve)
    model.add(
        facts(("Eve works at Initech", [0]), ("Eve has a dog", [1])),
        decisions((0, "UPDATE", 99, "Eve works at Initech"), (1, "ADD", None, None)),
    )
    queued = queue(client, "I work at Initech now", "and I got a dog", user_id=eve)
    assert run(http, container, queued["job_id"]) == "succeeded"
    done = job(client, queued["job_id"])
    refused, added = done["result"]["decisions"]
    assert refused["status"] == "refused" and "[99]" in refused["reason"] and refused["memory_id"] is None
    assert added["status"] == "applied"
    assert texts(client, eve, done["position"]) == ["Eve works at Acme", "Eve has a dog"]
    assert client.get(f"/v1/memories/{known['id']}").json()["version"] == 1


def test_invalid_json_fails_the_attempt_with_its_reason_and_the_next_attempt_succeeds(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    from tests.jobs import later

    fay = user()
    model.add('{"facts": [{"text": "Fay', facts(("Fay plays the cello", [0])))
    queued = queue(client, "I play the cello", user_id=fay)
    assert run(http, container, queued["job_id"]) == "queued"
    waiting = job(client, queued["job_id"])
    assert waiting["attempts"] == 1 and "not valid JSON" in waiting["error"] and waiting["next_attempt_at"]
    assert run(http, container, queued["job_id"]) == "queued"  # not due yet: nothing happens
    assert job(client, queued["job_id"])["attempts"] == 1

    assert run(http, container, queued["job_id"], later(container, 3600)) == "succeeded"
    done = job(client, queued["job_id"])
    assert done["attempts"] == 2 and done["error"] is None
    assert texts(client, fay, done["position"]) == ["Fay plays the cello"]


def test_an_empty_fact_list_succeeds_with_nothing_to_decide(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    model.add(facts())
    queued = queue(client, "hi!", user_id=user())
    assert run(http, container, queued["job_id"]) == "succeeded"
    result = job(client, queued["job_id"])["result"]
    assert result["facts"] == [] and result["decisions"] == [] and result["added"] == 0


def test_facts_citing_messages_that_do_not_exist_are_bad_output_not_memories(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    model.add(facts(("Gil speaks Basque", [7])))
    gil = user()
    queued = queue(client, "Kaixo", user_id=gil)
    assert run(http, container, queued["job_id"]) == "queued"
    assert "source_messages" in job(client, queued["job_id"])["error"]
    assert texts(client, gil, queued["position"]) == []


def test_messages_without_infer_become_episodic_memories_at_once(client: ApiClient) -> None:
    hana = user()
    response = client.post(
        "/v1/memories",
        json={
            "messages": [*said("I love hiking"), {"role": "assistant", "content": "Noted!"}],
            "infer": False,
            "user_id": hana,
            "metadata": {"channel": "chat"},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["memories"]) == 2
    items = client.get(
        "/v1/memories", params={"user_id": hana, "order": "created_asc", "min_position": body["position"]}
    ).json()["items"]
    assert [(m["text"], m["memory_type"], m["metadata"]) for m in items] == [
        ("I love hiking", "episodic", {"channel": "chat", "role": "user"}),
        ("Noted!", "episodic", {"channel": "chat", "role": "assistant"}),
    ]


def test_text_and_messages_together_or_neither_are_refused_naming_the_field(client: ApiClient) -> None:
    both = client.post("/v1/memories", json={"text": "x", "messages": said("y")})
    neither = client.post("/v1/memories", json={"user_id": "u"})
    typed = client.post("/v1/memories", json={"messages": said("y"), "memory_type": "core"})
    empty = client.post("/v1/memories", json={"messages": []})
    assert [r.status_code for r in (both, neither, typed, empty)] == [422] * 4
    assert both.json()["errors"][0]["field"] == "text" and typed.json()["errors"][0]["field"] == "memory_type"
    assert empty.json()["errors"][0]["field"] == "messages"

"""`rewrite: true` on block appends and replaces: the model condenses an overfull value, or the write is refused."""

from __future__ import annotations

import pytest

from agentmem.runtime.container import Container
from tests.clients import ApiClient
from tests.scripted_model import ScriptedModel, scripted


def block(client: ApiClient, value: str, limit: int = 40) -> dict[str, object]:
    response = client.post("/v1/blocks", json={"label": "human", "value": value, "limit": limit})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_overfull_append_with_rewrite_is_condensed_by_the_model_and_says_so(
    client: ApiClient, container: Container
) -> None:
    created = block(client, "Name: Lea. Lives in Lyon.")
    model = ScriptedModel({"value": "Lea; Lyon; cat Tom; likes tea"})
    with scripted(container, model):
        appended = client.post(
            f"/v1/blocks/{created['id']}/append", json={"text": "Has a cat called Tom. Likes tea.", "rewrite": True}
        )
    assert appended.status_code == 200, appended.text
    assert appended.json()["value"] == "Lea; Lyon; cat Tom; likes tea" and appended.json()["version"] == 2
    [request] = model.asked("block_value")
    assert "at most\n40 characters" in request.messages[0].content
    assert request.messages[1].content == "Name: Lea. Lives in Lyon.\nHas a cat called Tom. Likes tea."
    last = client.get(f"/v1/blocks/{created['id']}/history").json()["versions"][-1]
    assert last["event_type"] == "ValueRewritten"
    assert last["provenance"] == {
        "source": "rewrite",
        "operation": "append",
        "provider": "scripted",
        "model": "scripted-1",
        "prompt_version": "v1",
        "size_before": 58,
    }


def test_a_write_that_fits_never_calls_the_model(client: ApiClient, container: Container) -> None:
    created = block(client, "short")
    model = ScriptedModel()
    with scripted(container, model):
        replaced = client.patch(f"/v1/blocks/{created['id']}", json={"value": "still short", "rewrite": True})
    assert replaced.status_code == 200 and replaced.json()["value"] == "still short" and model.requests == []
    history = client.get(f"/v1/blocks/{created['id']}/history").json()["versions"]
    assert history[-1]["event_type"] == "ValueReplaced" and "provenance" not in history[-1]


def test_a_replace_with_a_new_limit_is_condensed_to_that_limit(client: ApiClient, container: Container) -> None:
    created = block(client, "x", limit=100)
    with scripted(container, ScriptedModel({"value": "twelve chars"})):
        replaced = client.patch(f"/v1/blocks/{created['id']}", json={"value": "a" * 50, "limit": 12, "rewrite": True})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["value"], replaced.json()["limit"]) == ("twelve chars", 12)


@pytest.mark.parametrize("answer", [{"value": "y" * 41}, "not json at all"])
def test_an_answer_that_still_does_not_fit_or_is_not_json_changes_nothing(
    client: ApiClient, container: Container, answer: object
) -> None:
    created = block(client, "a" * 30)
    with scripted(container, ScriptedModel(answer)):
        refused = client.post(f"/v1/blocks/{created['id']}/append", json={"text": "b" * 20, "rewrite": True})
    assert refused.status_code == (422 if isinstance(answer, dict) else 503), refused.text
    assert client.get(f"/v1/blocks/{created['id']}").json()["version"] == 1


def test_without_a_model_an_overfull_write_is_refused_as_before(client: ApiClient) -> None:
    created = block(client, "a" * 30)
    refused = client.post(f"/v1/blocks/{created['id']}/append", json={"text": "b" * 20, "rewrite": True})
    assert refused.status_code == 422 and refused.json()["size"] == 51 and refused.json()["limit"] == 40

"""The jobs API: failures with reasons, retries, lists, tenant isolation; re-extraction and consolidation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from agentmem.application.llm import LanguageModelTimeout
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org, create_org
from tests.jobs import job, later, queue, remember, run, texts, user
from tests.metrics import scrape, value
from tests.scripted_model import ScriptedModel, decisions, facts, scripted, shown

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def model(container: Container) -> Iterator[ScriptedModel]:
    with scripted(container, ScriptedModel()) as scripted_model:
        yield scripted_model


def test_a_job_fails_after_its_last_attempt_with_the_reason_and_a_retry_runs_it_again(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    ida = user()
    model.add("not json", LanguageModelTimeout("no answer within 100 s"), "still not json")
    queued = queue(client, "I was born in Faro", user_id=ida)
    statuses = [run(http, container, queued["job_id"], later(container, 3600 * n)) for n in range(3)]
    assert statuses == ["queued", "queued", "failed"]
    failed = job(client, queued["job_id"])
    assert failed["attempts"] == 3 and failed["max_attempts"] == 3 and failed["result"] is None
    assert failed["error"].startswith("InvalidModelOutput: ") and failed["next_attempt_at"] is None
    assert client.get(f"/v1/episodes/{queued['episode_id']}").status_code == 200  # the episode stays

    assert client.post(f"/v1/jobs/{queued['job_id']}/retry").status_code == 202
    again = job(client, queued["job_id"])
    assert (again["status"], again["attempts"], again["max_attempts"]) == ("queued", 3, 6)
    model.add(facts(("Ida was born in Faro", [0])))
    assert run(http, container, queued["job_id"]) == "succeeded"
    assert texts(client, ida, job(client, queued["job_id"])["position"]) == ["Ida was born in Faro"]
    assert client.post(f"/v1/jobs/{queued['job_id']}/retry").status_code == 409  # only failed jobs


def test_a_timeout_is_recorded_as_the_attempts_reason(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    model.add(LanguageModelTimeout("no answer within 100 s"))
    queued = queue(client, "I like figs", user_id=user())
    assert run(http, container, queued["job_id"]) == "queued"
    assert job(client, queued["job_id"])["error"] == "LanguageModelTimeout: no answer within 100 s"


def test_jobs_are_listed_by_status_and_episode_with_cursor_pages(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    first = queue(client, "one", user_id=user())
    second = queue(client, "two", user_id=user())
    model.add(facts())
    run(http, container, second["job_id"])
    finished = job(client, second["job_id"])
    page = client.get("/v1/jobs", params={"limit": 1, "min_position": finished["position"]}).json()
    assert [j["id"] for j in page["items"]] == [second["job_id"]] and page["next_cursor"]
    following = client.get("/v1/jobs", params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [j["id"] for j in following["items"]] == [first["job_id"]]
    succeeded = client.get("/v1/jobs", params={"status": "succeeded", "min_position": finished["position"]}).json()
    assert second["job_id"] in {j["id"] for j in succeeded["items"]}
    assert first["job_id"] not in {j["id"] for j in succeeded["items"]}
    of_episode = client.get("/v1/jobs", params={"episode_id": first["episode_id"]}).json()["items"]
    assert [(j["id"], j["kind"], j["status"]) for j in of_episode] == [(first["job_id"], "extraction", "queued")]


def test_jobs_and_episodes_are_invisible_to_other_tenants(
    client: ApiClient, admin: ApiClient, model: ScriptedModel
) -> None:
    queued = queue(client, "I live in Ghent", user_id=user())
    other = create_org(admin).owner
    calls = len(model.requests)
    job_id, episode_id = queued["job_id"], queued["episode_id"]
    assert other.get(f"/v1/jobs/{job_id}").status_code == 404
    assert other.post(f"/v1/jobs/{job_id}/retry").status_code == 404
    assert other.get(f"/v1/episodes/{episode_id}").status_code == 404
    assert other.post(f"/v1/episodes/{episode_id}/reextract", json={}).status_code == 404
    assert other.get("/v1/jobs", params={"min_position": queued["position"]}).json()["items"] == []
    assert len(model.requests) == calls  # the other tenant's re-extraction reached no model


def test_a_viewer_may_follow_jobs_but_not_queue_them(org: Org, client: ApiClient) -> None:
    viewer = org.client_with_role("viewer")
    queued = queue(client, "I play go", user_id=user())
    assert viewer.get(f"/v1/jobs/{queued['job_id']}").status_code == 200
    assert viewer.post("/v1/memories", json={"messages": [{"role": "user", "content": "x"}]}).status_code == 403
    assert viewer.post(f"/v1/jobs/{queued['job_id']}/retry").status_code == 403


def test_reextraction_dry_run_changes_nothing_and_apply_never_duplicates(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    jon = user()
    model.add(facts(("Jon sails", [0])))
    queued = queue(client, "I sail", "and I fish on Sundays", user_id=jon)
    run(http, container, queued["job_id"])
    position = job(client, queued["job_id"])["position"]

    both = facts(("Jon sails", [0]), ("Jon fishes on Sundays", [1]))
    model.add(both, lambda r: decisions((0, "NONE", shown(r)["Jon sails"], None), (1, "ADD", None, None)))
    preview = client.post(f"/v1/episodes/{queued['episode_id']}/reextract", json={"prompt_version": "v1"})
    assert preview.status_code == 200, preview.text
    assert [(d["event"], d["status"]) for d in preview.json()["decisions"]] == [
        ("NONE", "unchanged"),
        ("ADD", "planned"),
    ]
    assert texts(client, jon, position) == ["Jon sails"]

    model.add(both, decisions((0, "ADD", None, None), (1, "ADD", None, None)))  # a careless model
    applied = client.post(f"/v1/episodes/{queued['episode_id']}/reextract", json={"apply": True})
    assert applied.status_code == 202, applied.text
    assert run(http, container, applied.json()["job_id"]) == "succeeded"
    done = job(client, applied.json()["job_id"])
    assert [(d["status"], d["reason"]) for d in done["result"]["decisions"]] == [
        ("unchanged", "already added from this episode"),
        ("applied", None),
    ]
    assert texts(client, jon, done["position"]) == ["Jon sails", "Jon fishes on Sundays"]
    bad = client.post(f"/v1/episodes/{queued['episode_id']}/reextract", json={"prompt_version": "v9"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "prompt_version"
    unknown = client.post(f"/v1/episodes/{queued['episode_id']}/reextract", json={"model": "nope:gpt-9"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "model"


def test_consolidation_dry_run_plans_and_apply_merges_duplicates_and_retires_contradictions(
    client: ApiClient, http: TestClient, container: Container, model: ScriptedModel
) -> None:
    kim = user()
    for text in ("Kim likes tea", "Kim enjoys drinking tea", "Kim lives in Oslo", "Kim lives in Bergen"):
        position = remember(client, text, kim)["position"]

    def tidy(request: object) -> dict[str, object]:
        handles = shown(request)  # type: ignore[arg-type]
        return {
            "actions": [
                {
                    "event": "UPDATE",
                    "memory": handles["Kim likes tea"],
                    "text": "Kim likes drinking tea",
                    "reason": "merged with a duplicate",
                },
                {"event": "DELETE", "memory": handles["Kim enjoys drinking tea"], "text": None, "reason": "duplicate"},
                {"event": "DELETE", "memory": handles["Kim lives in Oslo"], "text": None, "reason": "moved to Bergen"},
                {"event": "DELETE", "memory": 42, "text": None, "reason": "hallucinated"},
            ]
        }

    model.add(tidy, tidy)
    dry = client.post("/v1/memories/consolidate", json={"user_id": kim, "dry_run": True})
    assert dry.status_code == 202, dry.text
    assert run(http, container, dry.json()["job_id"]) == "succeeded"
    planned = job(client, dry.json()["job_id"])["result"]
    assert [d["status"] for d in planned["decisions"]] == ["planned", "planned", "planned", "refused"]
    assert planned["memories_seen"] == 4 and texts(client, kim, position)[0] == "Kim likes tea"

    applied = client.post("/v1/memories/consolidate", json={"user_id": kim})
    assert run(http, container, applied.json()["job_id"]) == "succeeded"
    done = job(client, applied.json()["job_id"])
    assert (done["result"]["updated"], done["result"]["deleted"]) == (1, 2)
    assert texts(client, kim, done["position"]) == ["Kim likes drinking tea", "Kim lives in Bergen"]
    assert client.post("/v1/memories/consolidate", json={}).json()["errors"][0]["field"] == "user_id"


def test_queued_jobs_are_counted_at_scrape_time_and_a_run_moves_the_attempt_series(
    http: TestClient, client: ApiClient, container: Container, admin: ApiClient, model: ScriptedModel
) -> None:
    model.add(facts())  # nothing to remember: one model call, then the job succeeds
    queued = queue(client, "I keep bees", user_id=user())
    assert client.get("/v1/jobs", params={"min_position": queued["position"]}).status_code == 200
    waiting = value(scrape(admin), "agentmem_jobs", kind="extraction", status="queued")
    assert waiting >= 1
    assert run(http, container, queued["job_id"]) == "succeeded"
    done = job(client, queued["job_id"])["position"]
    assert client.get("/v1/jobs", params={"min_position": done}).status_code == 200  # the read model has it
    after = scrape(admin)
    assert value(after, "agentmem_jobs", kind="extraction", status="queued") == waiting - 1
    assert value(after, "agentmem_jobs_finished_total", kind="extraction", outcome="succeeded") >= 1

"""The job worker end to end: arq on Valkey picks queued jobs, a lost queue is swept, and the OpenAI-compatible
adapter extracts against a local stub server speaking the chat-completions protocol."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from agentmem.api.app import create_app
from agentmem.application.llm import LLMRequest
from agentmem.infrastructure.settings import LLMSettings, Settings
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org
from tests.jobs import said, user
from tests.metrics import scrape, value
from tests.scripted_model import ScriptedCatalog, ScriptedModel, decisions, facts
from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply
from tests.workers import running_job_worker

pytestmark = pytest.mark.usefixtures("worker")


@contextmanager
def stack(
    settings: Settings, org: Org, configure: Callable[[Container], None] | None = None
) -> Iterator[tuple[ApiClient, Container]]:
    """An API and a job worker of their own, on a queue of their own, sharing the test database."""
    own = settings.with_overrides(job_queue=f"agentmem:test-jobs:{uuid.uuid4().hex[:8]}")
    container = Container(own)
    if configure is not None:
        configure(container)
    with TestClient(create_app(own, container)) as http, running_job_worker(own, configure):
        yield ApiClient(http, org.owner_key), container
    container.memories.close()


def finished(client: ApiClient, job_id: str) -> dict[str, Any]:
    """The job once it has finished (the API waits up to 30 s for it)."""
    response = client.get(f"/v1/jobs/{job_id}", params={"wait": 30})
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert body["status"] in ("succeeded", "failed"), body
    return body


def lives_in(request: LLMRequest) -> dict[str, Any]:
    assert request.output is not None
    if request.output.name == "facts":
        return facts(("Moa lives in Umea", [0]))
    return decisions((0, "NONE", 1, None))


def test_a_queued_conversation_is_run_by_the_job_worker(settings: Settings, org: Org, admin: ApiClient) -> None:
    def configure(container: Container) -> None:
        container.language_models.catalog = ScriptedCatalog(ScriptedModel(rule=lives_in))

    before = scrape(admin)
    with stack(settings, org, configure) as (client, _):
        moa = user()
        queued = client.post("/v1/memories", json={"messages": said("I live in Umea"), "user_id": moa})
        assert queued.status_code == 202, queued.text
        done = finished(client, queued.json()["job_id"])
        assert done["status"] == "succeeded" and done["result"]["added"] == 1
        listed = client.get("/v1/memories", params={"user_id": moa, "min_position": done["position"]}).json()
        assert [m["text"] for m in listed["items"]] == ["Moa lives in Umea"]
    after = scrape(admin)
    succeeded = {"kind": "extraction", "outcome": "succeeded"}
    for name in ("agentmem_jobs_finished_total", "agentmem_job_seconds_count"):
        assert value(after, name, **succeeded) - value(before, name, **succeeded) == 1


def test_jobs_the_queue_lost_are_swept_back_and_run(settings: Settings, org: Org) -> None:
    def configure(container: Container) -> None:
        container.language_models.catalog = ScriptedCatalog(ScriptedModel(rule=lives_in))

    with stack(settings, org, configure) as (client, container):

        async def lose_then_sweep() -> int:
            job_id = queued.json()["job_id"]  # a Redis restart without persistence loses the queue and its entries
            await container.redis.delete(container.settings.job_queue, f"arq:job:{job_id}:1")
            future = datetime.now(UTC) + timedelta(minutes=5)
            await container.reads.wait(["jobs"], queued.json()["position"], org.id)
            lost = await container.job_queries.unfinished(future, future, 1_000)
            mine = [row for row in lost if str(row.id) == job_id]
            return await container.job_runner.sweep(mine)

        queued = client.post("/v1/memories", json={"messages": said("I live in Umea"), "user_id": user()})
        assert client.blocking_portal.call(lose_then_sweep) == 1
        assert finished(client, queued.json()["job_id"])["status"] == "succeeded"


def test_extraction_through_the_openai_compatible_adapter_against_a_local_server(settings: Settings, org: Org) -> None:
    with OpenAIChatStub() as server:
        llm = LLMSettings(
            provider="openai_compatible", model="stub-model", base_urls={"openai_compatible": server.base_url}
        )
        with stack(settings.with_overrides(llm=llm), org) as (client, _):
            lena = user()
            server.add(Reply.json(facts(("Lena lives in Lisbon", [0]))))
            first = client.post("/v1/memories", json={"messages": said("I live in Lisbon"), "user_id": lena})
            added = finished(client, first.json()["job_id"])
            assert added["status"] == "succeeded", added["error"]
            [decision] = added["result"]["decisions"]
            assert (added["result"]["provider"], added["result"]["model"]) == ("openai_compatible", "stub-model")

            server.add(
                Reply.json(facts(("Lena moved to Porto", [0]))),
                Reply.json(decisions((0, "UPDATE", 1, "Lena lives in Porto"))),
            )
            second = client.post("/v1/memories", json={"messages": said("I moved to Porto"), "user_id": lena})
            updated = finished(client, second.json()["job_id"])
            assert [d["event"] for d in updated["result"]["decisions"]] == ["UPDATE"]
            listed = client.get("/v1/memories", params={"user_id": lena, "min_position": updated["position"]}).json()
            assert [m["text"] for m in listed["items"]] == ["Lena lives in Porto"]
            history = client.get(f"/v1/memories/{decision['memory_id']}/history").json()["versions"]
            assert [v["provenance"]["model"] for v in history] == ["stub-model", "stub-model"]
            assert history[1]["provenance"]["episode_id"] == second.json()["episode_id"]

            requests = [seen.body for seen in server.seen]
            assert [r["response_format"]["json_schema"]["name"] for r in requests] == ["facts", "facts", "decisions"]
            assert "[1] Lena lives in Lisbon" in requests[2]["messages"][-1]["content"]

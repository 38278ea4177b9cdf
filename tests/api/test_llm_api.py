"""The language model over HTTP: 503 naming AGENTMEM_LLM without one; with one, the check, usage and quotas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from agentmem.api.app import create_app
from agentmem.infrastructure.settings import LLMSettings, Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org, create_org
from tests.stubs.openai_chat import OpenAIChatStub
from tests.stubs.scripted import Reply


def test_without_a_model_the_check_answers_503_naming_the_setting(client: ApiClient) -> None:
    assert client.get("/v1/llm").json() == {"configured": False, "provider": None, "model": None}
    response = client.post("/v1/llm/check")
    assert response.status_code == 503
    assert "AGENTMEM_LLM" in response.json()["detail"]


def test_everything_else_works_without_a_model(client: ApiClient) -> None:
    assert client.post("/v1/memories", json={"text": "no model needed", "user_id": "u"}).status_code == 201


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIChatStub]:
    with OpenAIChatStub() as server:
        yield server


@pytest.fixture(scope="module")
def llm_http(settings: Settings, stub: OpenAIChatStub) -> Iterator[TestClient]:
    """The app with AGENTMEM_LLM=openai_compatible:llama-stub pointing at the local server."""
    llm = LLMSettings(
        provider="openai_compatible",
        model="llama-stub",
        base_urls={"openai_compatible": stub.base_url},
        timeout=5.0,
        max_retries=3,
    )
    configured = replace(settings, llm=llm)
    container = Container(configured)
    try:
        with TestClient(create_app(configured, container)) as test_client:
            yield test_client
    finally:
        container.memories.close()


@pytest.fixture(scope="module")
def llm_org(llm_http: TestClient, admin: ApiClient) -> Org:
    created = create_org(admin)
    created.owner = ApiClient(llm_http, created.owner_key)
    return created


def test_the_configured_model_is_shown(llm_org: Org) -> None:
    assert llm_org.owner.get("/v1/llm").json() == {
        "configured": True,
        "provider": "openai_compatible",
        "model": "llama-stub",
    }


def test_429_twice_then_200_is_one_call_with_two_retries_in_the_usage(
    llm_org: Org, stub: OpenAIChatStub, worker: Worker
) -> None:
    stub.add(
        Reply.error(429, retry_after="0"),
        Reply.error(429, retry_after="0"),
        Reply(text="ready", input_tokens=40, output_tokens=2),
        Reply(text="ready", input_tokens=30, output_tokens=3),
        Reply.calls(("get_time", {"timezone": "Europe/Lisbon"})),
    )
    response = llm_org.owner.post("/v1/llm/check")
    assert response.status_code == 200, response.text
    checked = response.json()
    assert checked["ok"] is True
    assert [p["name"] for p in checked["probes"]] == ["complete", "stream", "tool_call"]
    assert checked["probes"][0]["retries"] == 2
    assert "get_time" in checked["probes"][2]["detail"]

    usage = llm_org.owner.get("/v1/usage", params={"group_by": "purpose", "min_position": checked["position"]}).json()[
        "groups"
    ]
    assert len(usage) == 1
    assert usage[0]["key"] == "check"
    assert (usage[0]["calls"], usage[0]["retries"], usage[0]["errors"]) == (3, 2, 0)
    assert usage[0]["input_tokens"] == 40 + 30 + 11
    assert usage[0]["output_tokens"] == 2 + 3 + 7
    by_model = llm_org.owner.get("/v1/usage", params={"group_by": "model"}).json()["groups"]
    assert [g["key"] for g in by_model] == ["openai_compatible:llama-stub"]
    assert by_model[0]["cost_usd"] is None  # a local model has no price


def test_members_cannot_read_usage_and_owners_only_their_own(llm_org: Org, admin: ApiClient) -> None:
    member = llm_org.client_with_role("member")
    assert member.get("/v1/usage").status_code == 403
    assert llm_org.owner.get("/v1/usage", params={"organization_id": "someone-else"}).status_code == 403


def test_superadmins_see_every_organization(llm_org: Org, admin: ApiClient, llm_http: TestClient) -> None:
    platform = ApiClient(llm_http, admin.secret)
    groups = platform.get("/v1/usage", params={"group_by": "purpose", "organization_id": "all"}).json()["groups"]
    assert llm_org.id in {g["organization_id"] for g in groups}
    own = platform.get("/v1/usage", params={"organization_id": llm_org.id}).json()["groups"]
    assert {g["organization_id"] for g in own} == {llm_org.id}


def test_usage_refuses_naive_or_inverted_ranges(llm_org: Org) -> None:
    response = llm_org.owner.get("/v1/usage", params={"since": "2026-01-01T00:00:00"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "since"
    inverted = {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
    assert llm_org.owner.get("/v1/usage", params=inverted).status_code == 400


def test_a_spent_daily_token_quota_answers_429(llm_http: TestClient, admin: ApiClient, stub: OpenAIChatStub) -> None:
    capped = create_org(admin, llm_tokens_per_day=20)
    owner = ApiClient(llm_http, capped.owner_key)
    stub.add(Reply(text="ready", input_tokens=15, output_tokens=10))
    calls_before = len(stub.seen)
    first = owner.post("/v1/llm/check").json()
    assert first["probes"][0]["ok"] is True
    assert [p["ok"] for p in first["probes"][1:]] == [False, False]
    assert "quota of 20 tokens a day" in first["probes"][1]["detail"]
    refused = owner.post("/v1/llm/check")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert len(stub.seen) == calls_before + 1

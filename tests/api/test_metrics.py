"""/metrics: who may read it, and series that move as requests, writes, searches and projections happen."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

from agentmem.runtime.container import Container
from tests.clients import ApiClient, Org, create_org
from tests.metrics import scrape, value

pytestmark = pytest.mark.usefixtures("worker")
METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdef"


def test_metrics_need_a_superadmin_or_the_metrics_token(
    http: TestClient, admin: ApiClient, org: Org, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert http.get("/metrics").status_code == 401
    assert ApiClient(http, "am_not_a_key_at_all_0123456789").get("/metrics").status_code == 401
    refused = org.owner.get("/metrics")
    assert refused.status_code == 403 and "superadmin" in refused.json()["detail"]
    assert ApiClient(http, METRICS_TOKEN).get("/metrics").status_code == 401  # no token configured
    assert admin.get("/metrics").status_code == 200
    monkeypatch.setattr(container, "settings", container.settings.with_overrides(metrics_token=METRICS_TOKEN))
    assert ApiClient(http, METRICS_TOKEN).get("/metrics").status_code == 200
    assert http.get("/metrics", headers={"X-API-Key": METRICS_TOKEN}).status_code == 200
    assert org.owner.get("/metrics").status_code == 403


def test_request_write_search_and_projection_series_move(admin: ApiClient, org: Org) -> None:
    before = scrape(admin)
    created = org.owner.post("/v1/memories", json={"text": f"the lighthouse keeper {uuid.uuid4().hex} owns a boat"})
    assert created.status_code == 201
    position = created.json()["position"]
    query = f"who owns a boat {uuid.uuid4().hex}"
    searched = org.owner.post("/v1/memories/search", json={"query": query, "mode": "hybrid", "min_position": position})
    assert searched.status_code == 200
    assert org.owner.post("/v1/memories/search", json={"query": query, "mode": "hybrid"}).status_code == 200
    after = scrape(admin)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    post = {"method": "POST", "route": "/v1/memories", "status": "201"}
    assert moved("agentmem_http_requests_total", **post) == 1
    assert moved("agentmem_http_request_seconds_count", **post) == 1
    assert moved("agentmem_http_request_seconds_bucket", **post, le="+Inf") == 1
    assert moved("agentmem_http_requests_total", method="GET", route="/metrics", status="200") == 1  # `before`
    assert moved("agentmem_eventstore_append_seconds_count") >= 1
    assert moved("agentmem_eventstore_append_events_sum") >= 1
    assert moved("agentmem_search_seconds_count", read_model="memories", mode="hybrid") == 2
    assert moved("agentmem_embedding_cache_total", cache="query", result="miss") == 1  # then a hit: same query
    assert moved("agentmem_embedding_cache_total", cache="query", result="hit") == 1
    assert moved("agentmem_embedding_seconds_count", embedder="local:all-MiniLM-L6-v2-int8", use="query") == 1

    memories = {"projection": "memories_g1", "read_model": "memories"}
    assert value(after, "agentmem_projection_position", **memories) >= position
    assert value(after, "agentmem_event_log_head") >= position
    assert ("agentmem_projection_lag_seconds", frozenset(memories.items())) in after
    assert ("agentmem_projection_lag_events", frozenset(memories.items())) in after
    assert moved("agentmem_projection_events_applied_total", **memories) >= 1
    assert moved("agentmem_projection_batch_seconds_count", projection="memories_g1") >= 1
    assert moved("agentmem_embedding_texts_total", embedder="local:all-MiniLM-L6-v2-int8", use="projection") >= 1


def test_rate_limit_and_quota_refusals_are_counted(admin: ApiClient) -> None:
    before = scrape(admin)
    limited = create_org(admin, requests_per_minute=2)
    statuses = [limited.owner.get("/v1/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    small = create_org(admin, max_memories=1)
    assert small.owner.post("/v1/memories", json={"text": "one"}).status_code == 201
    assert small.owner.post("/v1/memories", json={"text": "two"}).status_code == 429
    after = scrape(admin)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("agentmem_limit_refusals_total", limit="rate") == 1
    assert moved("agentmem_limit_refusals_total", limit="memories") == 1
    assert moved("agentmem_http_requests_total", method="GET", route="/v1/me", status="429") == 1


def test_a_request_outside_any_route_is_not_a_series_of_its_own(admin: ApiClient, http: TestClient) -> None:
    path = f"/v1/nothing-here-{uuid.uuid4().hex}"
    assert http.get(path).status_code == 404
    assert not [key for key in scrape(admin) if path in str(key)]

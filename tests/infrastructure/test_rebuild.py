"""A read model is rebuilt from the log with another embedder (another dimension) while search keeps answering."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from litestar.testing import TestClient

from agentmem.api.app import create_app
from agentmem.infrastructure.database import sync_pool
from agentmem.infrastructure.eventstore import EventLog
from agentmem.infrastructure.read_models import rebuild_searchable
from agentmem.infrastructure.runner import Progress
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container
from tests.clients import BOOTSTRAP_KEY
from tests.stubs.openai_stub import OpenAIStub
from tests.workers import running_worker


def tables(settings: Settings) -> set[str]:
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'memories_g%'").fetchall()
    return {r[0] for r in rows}


def test_rebuild_to_another_dimension_switches_without_downtime(fresh_database: Callable[..., Settings]) -> None:
    with OpenAIStub(delay=0.05) as stub:
        settings = fresh_database(
            embedder="openai:stub-embed:64", embedding_base_url=stub.base_url, embedding_api_key="k"
        )
        with running_worker(settings), TestClient(create_app(settings, Container(settings))) as client:
            client.headers["Authorization"] = f"Bearer {BOOTSTRAP_KEY}"
            texts = [
                f"fact {i}: the {w} is stored in drawer {i % 7}"
                for i, w in enumerate(["hammer", "stapler", "passport", "charger", "umbrella"] * 40)
            ]
            position = client.post("/v1/memories/batch", json={"memories": [{"text": t} for t in texts]}).json()[
                "position"
            ]
            before = client.post(
                "/v1/memories/search", json={"query": "where is the passport", "min_position": position}
            ).json()["results"]
            assert "passport" in before[0]["text"]

            answered: list[int] = []

            def search_during(progress: Progress) -> None:
                response = client.post("/v1/memories/search", json={"query": "where is the passport"})
                answered.append(response.status_code)

            assert settings.database_url
            pool = sync_pool(settings.database_url, 2, "rebuild")
            log = EventLog(settings.database_url)
            try:
                model = rebuild_searchable(settings, pool, log, "memories", "openai:stub-embed:32", search_during)
            finally:
                log.close()
                pool.close()
            assert model.table == "memories_g2" and model.dimension == 32
            assert answered and set(answered) == {200}
            assert tables(settings) == {
                f"memories_g2{suffix}" for suffix in ("", "_lex", "_lexemes", "_scopes", "_postings")
            }

            after = client.post("/v1/memories/search", json={"query": "where is the passport"}).json()["results"]
            assert "passport" in after[0]["text"]
            later = client.post("/v1/memories", json={"text": "the bicycle pump is in the garage"}).json()
            found = client.post(
                "/v1/memories/search",
                json={"query": "bicycle pump", "mode": "vector", "min_position": later["position"]},
            ).json()
            assert found["results"][0]["id"] == later["id"]
            status = client.get("/v1/admin/projections").json()
            assert {p["name"] for p in status["projections"] if p["read_model"] == "memories"} == {"memories_g2"}

"""Filtered vector search returns the full top-k: a small tenant among large ones, and selective filters."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import psycopg
import pytest

from agentmem.application.memories import MemoryApplication, NewMemory
from agentmem.domain.base import Context
from agentmem.infrastructure.database import async_pool, sync_pool
from agentmem.infrastructure.embedders import embedder_for
from agentmem.infrastructure.eventstore import EventLog, PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.postgres_search import PostgresMemorySearch
from agentmem.infrastructure.read_models import searchable_runner
from agentmem.infrastructure.settings import Settings
from agentmem.projections.filters import parse_filter
from agentmem.projections.queries import Scope
from tests.stubs.openai_stub import OpenAIStub

WORDS = [f"w{i}" for i in range(3000)]
TABLE = "memories_g1"


def sentence(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 6))


def write_and_project(settings: Settings, batches: list[tuple[str, list[NewMemory]]]) -> None:
    """Appends each (tenant, memories) batch to the log, then projects the whole log in one go."""
    assert settings.database_url
    factory = make_factory(settings.database_url, 2)
    app = MemoryApplication(
        event_store_env(settings.database_url, 2), factory=factory, positions=PostgresEventPositions(factory)
    )
    try:
        for number, (tenant, memories) in enumerate(batches):
            app.add_batch(memories, Context(tenant, "loader", f"batch-{number}"))
    finally:
        app.close()
    pool = sync_pool(settings.database_url, 2, "load")
    log = EventLog(settings.database_url)
    try:
        searchable_runner(settings, pool, log, "memories", TABLE, settings.embedder, batch_size=1000).catch_up()
    finally:
        log.close()
        pool.close()


def load(settings: Settings) -> None:
    """Three large tenants, one small one; one large tenant tags every 40th memory as rare."""
    rng = random.Random(7)
    batches = [
        (tenant, [NewMemory(text=sentence(rng), metadata={"rare": i % 40 == 0}) for i in range(1000)])
        for tenant in ("big-1", "big-2", "big-3")
        for _chunk in range(2)
    ]
    write_and_project(settings, [*batches, ("small", [NewMemory(text=sentence(rng)) for _ in range(60)])])


def exact_top(settings: Settings, query: np.ndarray, tenant: str, k: int, rare_only: bool = False) -> list[str]:
    condition = " AND metadata @> '{\"rare\": true}'" if rare_only else ""
    with psycopg.connect(settings.database_url or "") as conn:
        rows = conn.execute(
            f"SELECT id::text, embedding::text FROM {TABLE} WHERE tenant_id = %s AND NOT deleted{condition}",
            (tenant,),
        ).fetchall()
    ids = [r[0] for r in rows]
    vectors = np.array([np.array(r[1].strip("[]").split(","), dtype=np.float32) for r in rows])
    order = np.argsort(-(vectors @ query))[:k]
    return [ids[i] for i in order]


@pytest.mark.asyncio
async def test_small_tenants_and_selective_filters_get_their_full_top_k(
    fresh_database: Callable[..., Settings],
) -> None:
    with OpenAIStub() as stub:
        settings = fresh_database(
            embedder="openai:stub-embed:64", embedding_base_url=stub.base_url, embedding_api_key="k"
        )
        load(settings)
        embedder = embedder_for(settings.embedder, settings)
        pool = await async_pool(settings.database_url or "", 2, "search")
        try:
            # exact_limit well below the large tenants' 2,000 memories, so they go through HNSW
            search = PostgresMemorySearch(pool, TABLE, exact_limit=500)
            rng = random.Random(11)
            recalls = []
            for _ in range(10):
                query = sentence(rng)
                vector = embedder.embed([query])[0]
                small = (await search.search(Scope("small"), query, vector, "vector", 10, None)).hits
                assert len(small) == 10
                recalls.append(
                    len({str(h.memory.id) for h in small} & set(exact_top(settings, vector, "small", 10))) / 10
                )
                rare = (
                    await search.search(
                        Scope("big-2", metadata=parse_filter({"rare": True})), query, vector, "vector", 10, None
                    )
                ).hits
                assert len(rare) == 10 and all(h.memory.metadata["rare"] for h in rare)
                truth = exact_top(settings, vector, "big-2", 10, rare_only=True)
                recalls.append(len({str(h.memory.id) for h in rare} & set(truth)) / 10)
                big = (await search.search(Scope("big-1"), query, vector, "vector", 10, None)).hits
                assert len(big) == 10 and {h.memory.tenant_id for h in big} == {"big-1"}
                recalls.append(
                    len({str(h.memory.id) for h in big} & set(exact_top(settings, vector, "big-1", 10))) / 10
                )
            assert float(np.mean(recalls)) >= 0.95
        finally:
            await pool.close()


@pytest.mark.asyncio
async def test_text_search_on_words_in_thousands_of_memories_stays_ranked(
    fresh_database: Callable[..., Settings],
) -> None:
    """Even the rarest query word is in more memories than the candidate budget: text search scores a
    bounded set of them and still ranks memories with more of the query's words first."""
    with OpenAIStub() as stub:
        settings = fresh_database(
            embedder="openai:stub-embed:64", embedding_base_url=stub.base_url, embedding_api_key="k"
        )
        # "morning" in 2,400 memories, "coffee" in every other one of them and in 600 more
        texts = [f"morning walk number w{i}" + (" with coffee" if i % 2 else "") for i in range(2400)]
        texts += [f"coffee break number w{i}" for i in range(2400, 3000)]
        write_and_project(
            settings, [("t", [NewMemory(text=t) for t in texts[i : i + 1000]]) for i in range(0, 3000, 1000)]
        )
        assert settings.database_url
        apool = await async_pool(settings.database_url, 2, "search")
        try:
            search = PostgresMemorySearch(apool, TABLE)
            both = (await search.search(Scope("t"), "coffee in the morning", None, "text", 10, None)).hits
            assert len(both) == 10
            assert all("coffee" in h.memory.text and "morning" in h.memory.text for h in both)
            one = (await search.search(Scope("t"), "morning", None, "text", 10, None)).hits
            assert len(one) == 10 and all("morning" in h.memory.text for h in one)
        finally:
            await apool.close()

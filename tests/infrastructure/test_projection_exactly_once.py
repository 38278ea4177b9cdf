"""A projection applies every event exactly once: across SIGKILL, restarts and competing workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from agentmem.application.memories import MemoryApplication, NewMemory
from agentmem.domain.base import Context
from agentmem.infrastructure.database import sync_pool
from agentmem.infrastructure.embedders import embedder_for
from agentmem.infrastructure.embedding_cache import CachedEmbedder
from agentmem.infrastructure.eventstore import EventLog, PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.postgres_memories import PostgresMemoryView, create_table
from agentmem.infrastructure.read_models import searchable_runner
from agentmem.infrastructure.runner import ProjectionRunner
from agentmem.infrastructure.settings import Settings
from agentmem.projections.memories import MemoriesProjection
from tests.stubs.openai_stub import OpenAIStub

SERVING = "memories_g1"
CTX = Context("tenant-x", "writer", "req")


def stub_database(fresh_database: Callable[..., Settings], stub: OpenAIStub) -> Settings:
    return fresh_database(
        embedder="openai:stub-embed:64", embedding_base_url=stub.base_url, embedding_api_key="test-key"
    )


def write_history(settings: Settings, runs: int = 12, turns: int = 100) -> int:
    """Conversation turns in runs, then edits, deletes and restores; returns the head position."""
    assert settings.database_url
    factory = make_factory(settings.database_url, 2)
    app = MemoryApplication(
        event_store_env(settings.database_url, 2), factory=factory, positions=PostgresEventPositions(factory)
    )
    try:
        ids = []
        for run in range(runs):
            items = [
                NewMemory(
                    text=f"speaker {t % 2}: turn {t} of run {run} about topic{(run * turns + t) % 37}",
                    user_id=f"user{run % 3}",
                    run_id=f"run{run}",
                )
                for t in range(turns)
            ]
            ids += [r.aggregate.id for r in app.add_batch(items, CTX)]
        for memory_id in ids[::13]:
            app.update(memory_id, {"text": "an edited turn about gardening"}, CTX)
        for memory_id in ids[5::29]:
            app.delete(memory_id, CTX)
        for memory_id in ids[5::87]:
            app.restore(memory_id, CTX)
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def position_of(settings: Settings, name: str) -> int:
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute("SELECT position FROM projection_tracking WHERE name = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        threading.Event().wait(0.05)


def snapshot(settings: Settings, table: str) -> dict[str, Any]:
    """Everything the read model holds, in a comparable form."""
    with psycopg.connect(settings.database_url or "") as conn:

        def rows(query: str) -> list[tuple[Any, ...]]:
            return conn.execute(
                SQL(query).format(
                    t=Identifier(table),
                    lex=Identifier(f"{table}_lex"),
                    lexemes=Identifier(f"{table}_lexemes"),
                    scopes=Identifier(f"{table}_scopes"),
                    postings=Identifier(f"{table}_postings"),
                )
            ).fetchall()

        return {
            "rows": rows("SELECT id, version, deleted, text, position, embedding::text FROM {t} ORDER BY id"),
            "lex": rows("SELECT id, run_id, seq, tsv::text FROM {lex} ORDER BY id"),
            "lexemes": rows("SELECT tenant_id, scope, lexeme, df FROM {lexemes} WHERE df <> 0 ORDER BY 1, 2, 3"),
            "scopes": rows("SELECT tenant_id, scope, n_docs FROM {scopes} WHERE n_docs <> 0 ORDER BY 1, 2"),
            "postings": rows("SELECT tenant_id, scope, lexeme, id FROM {postings} ORDER BY 1, 2, 3, 4"),
        }


def replay(settings: Settings, table: str = "memories_g99") -> dict[str, Any]:
    """The read model built from the whole log in one go, in its own table."""
    assert settings.database_url
    pool = sync_pool(settings.database_url, 2, "replay")
    log = EventLog(settings.database_url)
    try:
        with pool.connection() as conn:
            create_table(conn, table, 64)
        searchable_runner(settings, pool, log, "memories", table, settings.embedder, batch_size=500).catch_up()
    finally:
        log.close()
        pool.close()
    return snapshot(settings, table)


@contextmanager
def worker_process(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **settings.as_env()}
    process = subprocess.Popen([sys.executable, "-m", "agentmem.cli", "worker"], env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def in_transaction(settings: Settings) -> bool:
    with psycopg.connect(settings.database_url or "") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'agentmem-worker'"
            " AND xact_start IS NOT NULL AND state <> 'idle'"
        ).fetchone()
    return bool(row and row[0])


def test_a_worker_killed_mid_batch_resumes_without_losing_or_repeating_events(
    fresh_database: Callable[..., Settings],
) -> None:
    with OpenAIStub(delay=0.1) as stub:
        settings = stub_database(fresh_database, stub)
        head = write_history(settings)
        with worker_process(settings) as first:
            wait_until(lambda: position_of(settings, SERVING) > 0)
            wait_until(lambda: in_transaction(settings))
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        stopped_at = position_of(settings, SERVING)
        assert 0 < stopped_at < head
        with worker_process(settings):
            wait_until(lambda: position_of(settings, SERVING) == head)
        assert snapshot(settings, SERVING) == replay(settings)


def test_two_workers_at_once_give_the_same_read_model_as_one_replay(
    fresh_database: Callable[..., Settings],
) -> None:
    with OpenAIStub(delay=0.02) as stub:
        settings = stub_database(fresh_database, stub)
        head = write_history(settings, runs=6)
        with worker_process(settings) as one, worker_process(settings) as two:
            wait_until(lambda: position_of(settings, SERVING) == head)
            assert one.poll() is None and two.poll() is None
        assert snapshot(settings, SERVING) == replay(settings)


def test_racing_runners_without_the_lock_still_apply_each_batch_once(
    fresh_database: Callable[..., Settings],
) -> None:
    with OpenAIStub() as stub:
        settings = stub_database(fresh_database, stub)
        head = write_history(settings, runs=4, turns=60)
        assert settings.database_url
        pool = sync_pool(settings.database_url, 4, "race")
        log = EventLog(settings.database_url)
        runners: list[ProjectionRunner] = [
            searchable_runner(settings, pool, log, "memories", SERVING, settings.embedder, batch_size=50)
            for _ in range(3)
        ]
        try:
            threads = [threading.Thread(target=r.catch_up) for r in runners]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert position_of(settings, SERVING) == head
        finally:
            log.close()
            pool.close()
        assert snapshot(settings, SERVING) == replay(settings)


def test_the_embedding_cache_never_embeds_a_text_twice(fresh_database: Callable[..., Settings]) -> None:
    with OpenAIStub() as stub:
        settings = stub_database(fresh_database, stub)
        write_history(settings, runs=3, turns=1)
        replay(settings, "memories_g98")
        embedded = stub.texts
        replay(settings, "memories_g97")
        assert embedded == 4 and stub.texts == embedded  # three texts, one edit: each embedded once


class ThreadCountingEmbedder:
    """Passes texts to the real embedder and notes which thread asked for each."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.spec = inner.spec
        self.dimension = inner.dimension
        self.calls: list[tuple[str, list[str]]] = []

    def embed(self, texts: Sequence[str]) -> Any:
        self.calls.append((threading.current_thread().name, list(texts)))
        return self.inner.embed(texts)


def test_the_next_batch_is_embedded_while_the_current_one_is_written(
    fresh_database: Callable[..., Settings],
) -> None:
    """The runner embeds batch k+1 in the background during batch k's transaction; apply then finds those
    vectors in the cache, nothing is embedded twice, and the read model equals a one-go replay."""
    with OpenAIStub(delay=0.01) as stub:
        settings = stub_database(fresh_database, stub)
        head = write_history(settings, runs=4, turns=50)  # 200 new memories, then edits
        assert settings.database_url
        pool = sync_pool(settings.database_url, 4, "warm")
        log = EventLog(settings.database_url)
        counting = ThreadCountingEmbedder(embedder_for(settings.embedder, settings))
        view = PostgresMemoryView(pool, SERVING)
        runner = ProjectionRunner(
            MemoriesProjection(SERVING, view, CachedEmbedder(counting, pool)), log, pool.connection, 50
        )
        try:
            runner.catch_up()
        finally:
            runner.close()
            log.close()
            pool.close()
        assert position_of(settings, SERVING) == head
        ahead = [text for thread, texts in counting.calls if thread.startswith("warm-") for text in texts]
        inline = [text for thread, texts in counting.calls if not thread.startswith("warm-") for text in texts]
        # the first batch is embedded inline (nothing was ahead of it), maybe after the warm thread began the second
        first_batch = next(texts for thread, texts in counting.calls if not thread.startswith("warm-"))
        # every other new memory was embedded ahead; inline after that only the edits' re-embeds
        assert len(ahead) + len(first_batch) == 200 and len(ahead) >= 150
        assert not set(ahead) & set(inline)
        everything = ahead + inline
        assert len(everything) == len(set(everything))  # nothing embedded twice
        assert snapshot(settings, SERVING) == replay(settings)

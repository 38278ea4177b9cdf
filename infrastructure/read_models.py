"""Which projections exist, which table serves each, and how a read model is rebuilt without downtime."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable

import psycopg
from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from agentmem.infrastructure.embedders import LOCAL_SPEC, embedder_for
from agentmem.infrastructure.embedding_cache import CachedEmbedder
from agentmem.infrastructure.postgres_memories import READ_MODEL, PostgresMemoryView, create_table, hnsw_ddl
from agentmem.infrastructure.postgres_tracking import (
    SCHEMA,
    ReadModel,
    active_read_model,
    ensure_tracking,
    switch_read_model,
)
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import EventLog, Progress, ProjectionRunner
from agentmem.projections.memories import MemoriesProjection

log = logging.getLogger("agentmem.read_models")
FIRST_TABLE = "memories_g1"


def dimension_of(spec: str) -> int:
    """The vector size an embedder spec produces, without loading the model."""
    if spec == LOCAL_SPEC:
        return 384
    match = re.fullmatch(r"openai:.+:(\d+)", spec)
    if not match:
        raise ValueError(f"unknown embedder {spec!r}; use {LOCAL_SPEC} or openai:<model>:<dimension>")
    return int(match.group(1))


def prepare_read_models(conn: psycopg.Connection, settings: Settings) -> ReadModel:
    """Creates the shared tables and, on first start, the memories table for the configured embedder."""
    conn.execute(SCHEMA)
    model = active_read_model(conn, READ_MODEL)
    if model is None:
        create_table(conn, FIRST_TABLE, dimension_of(settings.embedder))
        ensure_tracking(conn, FIRST_TABLE)
        switch_read_model(conn, ReadModel(READ_MODEL, FIRST_TABLE, settings.embedder, dimension_of(settings.embedder)))
        model = active_read_model(conn, READ_MODEL)
        assert model is not None
    elif model.embedder != settings.embedder:
        log.warning(
            "memories are indexed with %s, not AGENTMEM_EMBEDDER=%s; run `agentmem projections "
            "rebuild memories --embedder %s` to switch",
            model.embedder,
            settings.embedder,
            settings.embedder,
        )
    return model


def memory_runner(
    settings: Settings, pool: ConnectionPool, event_log: EventLog, table: str, embedder_spec: str, batch_size: int = 256
) -> ProjectionRunner:
    view = PostgresMemoryView(pool, table, settings.text_search_config)
    embedder = CachedEmbedder(embedder_for(embedder_spec, settings), pool)
    return ProjectionRunner(MemoriesProjection(table, view, embedder), event_log, pool.connection, batch_size)


def active_runners(settings: Settings, pool: ConnectionPool, event_log: EventLog) -> list[ProjectionRunner]:
    """The runners a worker drives: every read model's active table."""
    with pool.connection() as conn:
        model = active_read_model(conn, READ_MODEL)
    if model is None:
        return []
    return [memory_runner(settings, pool, event_log, model.table, model.embedder)]


def next_table(current: str) -> str:
    match = re.fullmatch(r"memories_g(\d+)", current)
    return f"memories_g{int(match.group(1)) + 1 if match else 2}"


def rebuild_memories(
    settings: Settings,
    pool: ConnectionPool,
    event_log: EventLog,
    embedder_spec: str,
    on_progress: Callable[[Progress], None] | None = None,
) -> ReadModel:
    """Builds a fresh memories table from the whole log beside the serving one, then switches atomically."""
    dimension = dimension_of(embedder_spec)
    with pool.connection() as conn:
        current = active_read_model(conn, READ_MODEL)
        assert current is not None, "prepare_read_models first"
        table = next_table(current.table)
        create_table(conn, table, dimension, with_hnsw=False)
        ensure_tracking(conn, table)
    runner = memory_runner(settings, pool, event_log, table, embedder_spec, batch_size=1024)
    runner.catch_up(on_progress)
    with pool.connection() as conn:
        conn.execute(hnsw_ddl(table))
    runner.catch_up(on_progress)
    model = ReadModel(READ_MODEL, table, embedder_spec, dimension)
    with pool.connection() as conn, conn.transaction():
        switch_read_model(conn, model)
    with pool.connection() as conn:
        conn.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(current.table)))
        conn.execute("DELETE FROM projection_tracking WHERE name = %s", (current.table,))
        switched = active_read_model(conn, READ_MODEL)
    assert switched is not None
    return switched


class ProgressBar:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()

    def __call__(self, progress: Progress) -> None:
        done = min(progress.position, progress.head)
        fraction = done / progress.head if progress.head else 1.0
        elapsed = max(time.monotonic() - self.started, 1e-6)
        bar = "#" * int(fraction * 30)
        sys.stderr.write(
            f"\r{self.label} [{bar:<30}] {fraction:6.1%} {done}/{progress.head} "
            f"{progress.events / elapsed:8.0f} events/s"
        )
        sys.stderr.flush()

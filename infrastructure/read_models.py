"""Every projection the workers run, which table serves each, and rebuilds without downtime.

Two kinds of read model:
- searchable ones (memories; later conversation messages) are generations of memory-shaped tables with
  vectors: the registry row in `read_models` names the serving table and its embedder, and a rebuild fills
  the next generation beside it, then switches atomically;
- plain ones (audit trail, lists) have fixed tables and a fixed tracking name.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg_pool import ConnectionPool

from agentmem.infrastructure.analytics import prepare_analytics
from agentmem.infrastructure.embedders import LOCAL_SPEC, embedder_for
from agentmem.infrastructure.embedding_cache import CachedEmbedder
from agentmem.infrastructure.eventstore import EventLog
from agentmem.infrastructure.observed_projection import observed
from agentmem.infrastructure.postgres_agents import agents_projection, prepare_agents
from agentmem.infrastructure.postgres_audit import PostgresAuditView, prepare_audit
from agentmem.infrastructure.postgres_blocks import blocks_projection, prepare_blocks
from agentmem.infrastructure.postgres_directory import PostgresDirectoryView, prepare_directory
from agentmem.infrastructure.postgres_jobs import jobs_projection, prepare_jobs
from agentmem.infrastructure.postgres_memories import PostgresMemoryView, create_table, drop_ddl, hnsw_ddl
from agentmem.infrastructure.postgres_runs import prepare_runs, runs_projection
from agentmem.infrastructure.postgres_tools import (
    prepare_tool_runs,
    prepare_tools,
    tool_runs_projection,
    tools_projection,
)
from agentmem.infrastructure.postgres_tracking import (
    SCHEMA,
    ReadModel,
    active_read_model,
    ensure_tracking,
    forget_tracking,
    switch_read_model,
    tracking_state,
)
from agentmem.infrastructure.postgres_usage import prepare_usage, usage_projection
from agentmem.infrastructure.rls import ensure_reader_role, rls_ddl
from agentmem.infrastructure.runner import Progress, ProjectionRunner, RetryPolicy
from agentmem.infrastructure.settings import Settings
from agentmem.projections.audit import AUDIT, AuditProjection
from agentmem.projections.base import Projection
from agentmem.projections.directory import DIRECTORY, DirectoryProjection
from agentmem.projections.embedding import Embedder
from agentmem.projections.memories import MemoriesProjection, MemoryView
from agentmem.projections.messages import MessagesProjection
from agentmem.projections.tools import TOOL_RUNS, TOOLS
from agentmem.projections.usage import USAGE

log = logging.getLogger("agentmem.read_models")

SearchableFactory = Callable[[str, MemoryView, Embedder], Projection]
SEARCHABLE: dict[str, SearchableFactory] = {
    "memories": MemoriesProjection,
    "messages": MessagesProjection,
}
"""Memory-shaped read models with vectors and full text, by name: each projection fills `<name>_g<N>` tables."""


@dataclass(frozen=True)
class PlainReadModel:
    """A read model with fixed tables: `prepare` creates them, `projection` builds its projector."""

    name: str
    prepare: Callable[[psycopg.Connection], None]
    projection: Callable[[ConnectionPool, Settings], Projection]


PLAIN: list[PlainReadModel] = [
    PlainReadModel("agents", prepare_agents, agents_projection),
    PlainReadModel("blocks", prepare_blocks, blocks_projection),
    PlainReadModel(AUDIT, prepare_audit, lambda pool, _: AuditProjection(PostgresAuditView(pool))),
    PlainReadModel(DIRECTORY, prepare_directory, lambda pool, _: DirectoryProjection(PostgresDirectoryView(pool))),
    PlainReadModel(USAGE, prepare_usage, usage_projection),
    PlainReadModel(TOOLS, prepare_tools, tools_projection),
    PlainReadModel(TOOL_RUNS, prepare_tool_runs, tool_runs_projection),
    PlainReadModel("jobs", prepare_jobs, jobs_projection),
    PlainReadModel("runs", prepare_runs, runs_projection),
]
"""Plain read models (audit trail, lists); their tracking name is their name."""


def dimension_of(spec: str) -> int:
    """The vector size an embedder spec produces, without loading the model."""
    if spec == LOCAL_SPEC:
        return 384
    match = re.fullmatch(r"openai:.+:(\d+)", spec)
    if not match:
        raise ValueError(f"unknown embedder {spec!r}; use {LOCAL_SPEC} or openai:<model>:<dimension>")
    return int(match.group(1))


def prepare_read_models(conn: psycopg.Connection, settings: Settings) -> None:
    """Creates the shared tables, every plain read model, and on first start each searchable one (later starts
    add any index a newer version defines to the serving tables), then the analytics views over them."""
    conn.execute(SCHEMA)
    ensure_reader_role(conn)
    for statement in rls_ddl("projection_holds"):  # tenant rows, like every such table (read by operators only)
        conn.execute(statement)
    for plain in PLAIN:
        plain.prepare(conn)
        ensure_tracking(conn, plain.name)
    for name in SEARCHABLE:
        model = active_read_model(conn, name)
        if model is None:
            table = f"{name}_g1"
            create_table(conn, table, dimension_of(settings.embedder))
            ensure_tracking(conn, table)
            switch_read_model(conn, ReadModel(name, table, settings.embedder, dimension_of(settings.embedder)))
            continue
        create_table(conn, model.table, model.dimension)  # IF NOT EXISTS throughout: adds only what is missing
        if model.embedder != settings.embedder:
            log.warning(
                "%s is indexed with %s, not AGENTMEM_EMBEDDER=%s; run `agentmem projections rebuild %s "
                "--embedder %s` to switch",
                name,
                model.embedder,
                settings.embedder,
                name,
                settings.embedder,
            )
    prepare_analytics(conn)


def searchable_runner(
    settings: Settings,
    pool: ConnectionPool,
    event_log: EventLog,
    name: str,
    table: str,
    embedder_spec: str,
    batch_size: int = 64,
) -> ProjectionRunner:
    view = PostgresMemoryView(pool, table, settings.text_search_config)
    embedder = CachedEmbedder(embedder_for(embedder_spec, settings), pool)
    projection = observed(SEARCHABLE[name](table, view, embedder))
    return ProjectionRunner(projection, event_log, pool.connection, batch_size, retry_policy(settings))


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(settings.projection_max_attempts, settings.projection_retry_seconds)


def active_runners(settings: Settings, pool: ConnectionPool, event_log: EventLog) -> list[ProjectionRunner]:
    """The runners a worker drives: each searchable read model's serving table, and every plain one."""
    policy = retry_policy(settings)
    runners = [
        ProjectionRunner(observed(p.projection(pool, settings)), event_log, pool.connection, policy=policy)
        for p in PLAIN
    ]
    with pool.connection() as conn:
        models = [active_read_model(conn, name) for name in SEARCHABLE]
    for model in models:
        if model is not None:
            runners.append(searchable_runner(settings, pool, event_log, model.name, model.table, model.embedder))
    return runners


class RebuildParkedError(RuntimeError):
    """A rebuild could not apply events the serving generation applied: it does not switch."""


def next_table(name: str, current: str) -> str:
    match = re.fullmatch(re.escape(name) + r"_g(\d+)", current)
    return f"{name}_g{int(match.group(1)) + 1 if match else 2}"


def rebuild_searchable(
    settings: Settings,
    pool: ConnectionPool,
    event_log: EventLog,
    name: str,
    embedder_spec: str,
    on_progress: Callable[[Progress], None] | None = None,
) -> ReadModel:
    """Builds the next generation from the whole log beside the serving one, then switches atomically."""
    dimension = dimension_of(embedder_spec)
    with pool.connection() as conn:
        current = active_read_model(conn, name)
        assert current is not None, "prepare_read_models first"
        table = next_table(name, current.table)
        for statement in drop_ddl(table):  # a build that died half-way starts again
            conn.execute(statement)
        forget_tracking(conn, table)
        create_table(conn, table, dimension, with_hnsw=False)
        ensure_tracking(conn, table)
    runner = searchable_runner(settings, pool, event_log, name, table, embedder_spec, batch_size=1024)
    try:
        runner.catch_up(on_progress)
        with pool.connection() as conn:
            conn.execute(hnsw_ddl(table))
        runner.catch_up(on_progress)
    finally:
        runner.close()
    with pool.connection() as conn:
        parked = set(tracking_state(conn, table).held) - set(tracking_state(conn, current.table).held)
    if parked:
        raise RebuildParkedError(
            f"the rebuild of {name} parked events of {len(parked)} tenant(s) that {current.table} holds complete; "
            f"{current.table} keeps serving (see `agentmem projections failures --projection {table}`)"
        )
    with pool.connection() as conn, conn.transaction():
        switch_read_model(conn, ReadModel(name, table, embedder_spec, dimension))
        prepare_analytics(conn)  # the analytics views follow the switch in the same transaction
    with pool.connection() as conn:
        for statement in drop_ddl(current.table):
            conn.execute(statement)
        forget_tracking(conn, current.table)
        switched = active_read_model(conn, name)
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

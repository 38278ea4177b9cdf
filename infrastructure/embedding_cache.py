"""An embedder that never embeds the same text twice with the same model: vectors cached in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from psycopg_pool import ConnectionPool

from agentmem.application.metrics import EMBEDDING_CACHE
from agentmem.application.telemetry import span
from agentmem.infrastructure.embedders import text_key, timed_embed
from agentmem.projections.embedding import Embedder, Vectors


class CachedEmbedder:
    """Looks each text up by (embedder spec, SHA-256 of the text); embeds and stores only the misses."""

    def __init__(self, inner: Embedder, pool: ConnectionPool) -> None:
        self.inner = inner
        self.pool = pool

    @property
    def spec(self) -> str:
        return self.inner.spec

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT text_hash, embedding FROM embedding_cache WHERE embedder = %s AND text_hash = ANY(%s)",
                (self.spec, list(set(keys))),
            ).fetchall()
        for text_hash, embedding in rows:
            vector = embedding.to_numpy() if hasattr(embedding, "to_numpy") else embedding
            found[bytes(text_hash)] = np.asarray(vector, dtype=np.float32)
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        EMBEDDING_CACHE.inc(len(found), cache="store", result="hit")
        EMBEDDING_CACHE.inc(len(missing), cache="store", result="miss")
        if missing:
            with span("embed", {"agentmem.embedder": self.spec, "agentmem.texts": len(missing)}):
                vectors = timed_embed(self.inner, list(missing.values()), "projection")
            fresh = dict(zip(missing, vectors, strict=True))
            with self.pool.connection() as conn, conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO embedding_cache (embedder, text_hash, embedding) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    [(self.spec, key, vector) for key, vector in fresh.items()],
                )
            found.update(fresh)
        return np.stack([found[key] for key in keys]).astype(np.float32)

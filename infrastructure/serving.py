"""Which generation of each searchable read model serves queries now, re-read every few seconds or after a switch."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg_pool import AsyncConnectionPool

from agentmem.application.reads import Found, ReadModelSwitchedError
from agentmem.infrastructure.embedders import QueryCache, embedder_for
from agentmem.infrastructure.postgres_search import PostgresMemorySearch
from agentmem.infrastructure.postgres_tracking import ReadModel, serving_read_model
from agentmem.infrastructure.settings import Settings
from agentmem.projections.queries import ListOrder, Page, Scope, SearchMode

READ_MODEL_TTL = 2.0
"""Seconds a process trusts its idea of the serving generation before reading the registry again."""


@dataclass
class ServingIndex:
    """One generation of a searchable read model and the query embedder of the model that filled it."""

    model: ReadModel
    search_sql: PostgresMemorySearch
    queries: QueryCache

    @property
    def tracking_name(self) -> str:
        return self.model.table

    async def embed(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self.queries.embed_one, text)

    async def search(
        self, scope: Scope, query: str, vector: Any, mode: SearchMode, limit: int, min_score: float | None
    ) -> Found:
        try:
            return await self.search_sql.search(scope, query, vector, mode, limit, min_score)
        except psycopg.errors.UndefinedTable:
            raise ReadModelSwitchedError(f"the {self.model.name} read model was switched; retry") from None

    async def list(self, scope: Scope, order: ListOrder, limit: int, cursor: str | None, include_deleted: bool) -> Page:
        return await self.search_sql.list(scope, order, limit, cursor, include_deleted)

    async def live_count(self, tenant_id: str) -> int:
        return await self.search_sql.live_count(tenant_id)


class ServingIndexes:
    """The serving generation of each searchable read model (memories, messages) for one API process."""

    def __init__(self, pool: AsyncConnectionPool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self._serving: dict[str, ServingIndex] = {}
        self._checked: dict[str, float] = {}

    async def serving(self, name: str, refresh: bool = False) -> ServingIndex:
        now = time.monotonic()
        current = self._serving.get(name)
        if current is not None and not refresh and now - self._checked.get(name, 0.0) <= READ_MODEL_TTL:
            return current
        async with self.pool.connection() as conn:
            model = await serving_read_model(conn, name)
        if model is None:
            raise RuntimeError(f"the {name} read model is not prepared; run agentmem serve or prepare the database")
        if current is None or current.model.table != model.table:
            embedder = await asyncio.to_thread(embedder_for, model.embedder, self.settings)
            search = PostgresMemorySearch(
                self.pool, model.table, self.settings.text_search_config, self.settings.exact_search_limit
            )
            current = ServingIndex(model, search, QueryCache(embedder))
            self._serving[name] = current
        self._checked[name] = now
        return current

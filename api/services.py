"""The running parts one API process needs, built once from the settings."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np
import psycopg
from litestar.datastructures import State
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from agentmem.api.positions import PositionWaiter
from agentmem.api.security import AuthServices
from agentmem.application.agents import AgentApplication
from agentmem.application.blocks import BlockApplication
from agentmem.application.conversations import ConversationApplication
from agentmem.application.identity import IdentityApplication
from agentmem.application.memories import MemoryApplication
from agentmem.infrastructure.database import async_pool
from agentmem.infrastructure.embedders import QueryCache, embedder_for
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.postgres_search import PostgresMemorySearch
from agentmem.infrastructure.postgres_tracking import ReadModel
from agentmem.infrastructure.secrets import server_secret
from agentmem.infrastructure.settings import Settings

READ_MODEL_TTL = 2.0


@dataclass
class ActiveSearch:
    """A searchable read model being served now: its search object and its query embedder."""

    model: ReadModel
    search: PostgresMemorySearch
    queries: QueryCache

    async def embed(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self.queries.embed_one, text)


@dataclass
class Services:
    """Applications, pools and clients shared by every request of one process."""

    settings: Settings
    memories: MemoryApplication
    positions: PostgresEventPositions
    redis: Redis
    identity: IdentityApplication
    auth: AuthServices
    blocks: BlockApplication
    agents: AgentApplication
    conversations: ConversationApplication
    pool: AsyncConnectionPool | None = None
    waiter: PositionWaiter | None = None
    _active: dict[str, ActiveSearch] = field(default_factory=dict, repr=False)
    _active_checked: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("DATABASE_URL and REDIS_URL must be set (agentmem serve sets them)")
        factory = make_factory(settings.database_url, settings.db_pool_size)
        positions = PostgresEventPositions(factory)
        env = event_store_env(settings.database_url, settings.db_pool_size)
        redis = Redis.from_url(settings.redis_url)
        secret = server_secret(settings)
        return cls(
            settings=settings,
            memories=MemoryApplication(env, factory=factory, positions=positions),
            positions=positions,
            redis=redis,
            identity=IdentityApplication(env, secret=secret, factory=factory, positions=positions),
            auth=AuthServices.build(settings, redis, secret),
            blocks=BlockApplication(env, factory=factory, positions=positions),
            agents=AgentApplication(env, factory=factory, positions=positions),
            conversations=ConversationApplication(env, factory=factory, positions=positions),
        )

    async def start(self) -> None:
        """Opens what needs the event loop: the read pool and the projection position listener."""
        assert self.settings.database_url
        self.pool = await async_pool(self.settings.database_url, self.settings.db_pool_size, "api-reads")
        self.waiter = PositionWaiter(self.pool, self.settings.database_url)
        self.waiter.start()
        self.auth.start(self.pool)

    async def stop(self) -> None:
        if self.waiter is not None:
            await self.waiter.stop()
        if self.pool is not None:
            await self.pool.close()
        self.pool = None
        self._active.clear()

    async def close(self) -> None:
        await self.stop()
        await self.redis.aclose()
        self.memories.close()
        self.identity.close()

    async def active(self, name: str = "memories", refresh: bool = False) -> ActiveSearch:
        """The searchable read model now served (re-read every few seconds, or at once after a switch)."""
        now = time.monotonic()
        current = self._active.get(name)
        if current is None or refresh or now - self._active_checked.get(name, 0.0) > READ_MODEL_TTL:
            assert self.pool is not None
            async with self.pool.connection() as conn:
                model = await _read_model(conn, name)
            if current is None or current.model.table != model.table:
                embedder = await asyncio.to_thread(embedder_for, model.embedder, self.settings)
                current = ActiveSearch(
                    model,
                    PostgresMemorySearch(self.pool, model.table, self.settings.text_search_config),
                    QueryCache(embedder),
                )
                self._active[name] = current
            self._active_checked[name] = now
        return current


async def _read_model(conn: psycopg.AsyncConnection, name: str) -> ReadModel:
    cursor = await conn.execute(
        "SELECT name, active_table, embedder, dimension, switched_at FROM read_models WHERE name = %s", (name,)
    )
    row = await cursor.fetchone()
    if row is None:
        raise RuntimeError(f"the {name} read model is not prepared; run agentmem serve or prepare_database")
    return ReadModel(*row)


def services_from_state(state: State) -> Services:
    """Dependency provider: the process's Services."""
    services: Services = state.services
    return services

"""The running parts one API process needs, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State
from redis.asyncio import Redis

from agentmem.application.memories import MemoryApplication
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.settings import Settings


@dataclass
class Services:
    """Applications and clients shared by every request of one process."""

    settings: Settings
    memories: MemoryApplication
    positions: PostgresEventPositions
    redis: Redis

    @classmethod
    def build(cls, settings: Settings) -> Services:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("DATABASE_URL and REDIS_URL must be set (agentmem serve sets them)")
        factory = make_factory(settings.database_url, settings.db_pool_size)
        positions = PostgresEventPositions(factory)
        env = event_store_env(settings.database_url, settings.db_pool_size)
        return cls(
            settings=settings,
            memories=MemoryApplication(env, factory=factory, positions=positions),
            positions=positions,
            redis=Redis.from_url(settings.redis_url),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        self.memories.close()


def services_from_state(state: State) -> Services:
    """Dependency provider: the process's Services."""
    services: Services = state.services
    return services

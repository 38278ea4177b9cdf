"""Connection pools for read models: pgvector types registered, custom plans only, no JIT.

psycopg prepares a statement after five runs, and PostgreSQL then switches to a generic plan that does
not know the parameters: for a hybrid search over 100k memories that plan took 125 ms instead of 15
(measured; mem0 loses most of its filtered search results the same way). `force_custom_plan` plans each
run with its values (about 1 ms). JIT is off: it only pays for long analytical queries.
"""

from __future__ import annotations

import psycopg
from pgvector.psycopg import register_vector, register_vector_async
from psycopg_pool import AsyncConnectionPool, ConnectionPool

SESSION = "SET plan_cache_mode = force_custom_plan; SET jit = off"


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    conn.execute(SESSION)


async def _configure_async(conn: psycopg.AsyncConnection) -> None:
    await register_vector_async(conn)
    await conn.execute(SESSION)


def sync_pool(database_url: str, size: int, name: str) -> ConnectionPool:
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=size,
        configure=_configure,
        name=name,
        open=False,
        kwargs={"autocommit": True, "application_name": f"agentmem-{name}"},
    )
    pool.open(wait=True, timeout=30)
    return pool


async def async_pool(database_url: str, size: int, name: str) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=size,
        configure=_configure_async,
        name=name,
        open=False,
        kwargs={"autocommit": True, "application_name": f"agentmem-{name}"},
    )
    await pool.open(wait=True, timeout=30)
    return pool

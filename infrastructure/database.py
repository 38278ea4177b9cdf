"""Connection pools for read models (pgvector types registered on every connection)."""

from __future__ import annotations

import psycopg
from pgvector.psycopg import register_vector, register_vector_async
from psycopg_pool import AsyncConnectionPool, ConnectionPool


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)


async def _configure_async(conn: psycopg.AsyncConnection) -> None:
    await register_vector_async(conn)


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

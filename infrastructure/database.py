"""Connection pools for read models: pgvector types registered, custom plans only, no JIT.

psycopg prepares a statement after five runs, and PostgreSQL then switches to a generic plan that does
not know the parameters: for a hybrid search over 100k memories that plan took 125 ms instead of 15
(measured; mem0 loses most of its filtered search results the same way). `force_custom_plan` plans each
run with its values (about 1 ms). JIT is off: it only pays for long analytical queries.

Connections that write read models (the synchronous pools: workers, rebuilds) store text in its storable form
(domain/storable.py): one rule for every text column, text array, tsvector input and JSONB key and value, so an
event an older server recorded with a NUL never stops a projection.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from pgvector.psycopg import register_vector, register_vector_async
from psycopg.adapt import Buffer
from psycopg.types.json import set_json_dumps
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from agentmem.domain.storable import storable_form, storable_text

SESSION = "SET plan_cache_mode = force_custom_plan; SET jit = off"


class StorableTextDumper(StrDumperUnknown):
    """Python text as psycopg sends it by default (text format, type left to the server), in its storable form."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(storable_text(obj))


class StorableTextBinaryDumper(StrBinaryDumper):
    """Python text in binary format, in its storable form."""

    def dump(self, obj: str) -> Buffer | None:
        return super().dump(storable_text(obj))


def storable_json(value: Any) -> str:
    """JSON of the value's storable form (jsonb refuses \\u0000 escapes and NaN)."""
    return json.dumps(storable_form(value))


def store_storable_forms(conn: psycopg.Connection) -> None:
    """Makes the connection send every text and JSON parameter in its storable form."""
    conn.adapters.register_dumper(str, StorableTextBinaryDumper)
    conn.adapters.register_dumper(str, StorableTextDumper)  # last: the default for `%s`, as in psycopg
    set_json_dumps(storable_json, conn)


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    store_storable_forms(conn)
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

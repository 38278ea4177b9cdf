"""Projection tracking, the read-model registry and the embedding cache, in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from agentmem.projections.base import Tracking, TrackingConflictError

PROJECTIONS_CHANNEL = "agentmem_projections"
READ_MODELS_CHANNEL = "agentmem_read_models"

SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    events_applied bigint NOT NULL DEFAULT 0,
    rate double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS read_models (
    name text PRIMARY KEY,
    active_table text NOT NULL,
    embedder text NOT NULL,
    dimension integer NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS embedding_cache (
    embedder text NOT NULL,
    text_hash bytea NOT NULL,
    embedding vector NOT NULL,
    PRIMARY KEY (embedder, text_hash)
);
"""


@dataclass(frozen=True, slots=True)
class ReadModel:
    """Which table serves a read model now, and which embedder filled it."""

    name: str
    table: str
    embedder: str
    dimension: int
    switched_at: datetime | None = None


def ensure_tracking(conn: psycopg.Connection, name: str) -> None:
    conn.execute("INSERT INTO projection_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))


def move_tracking(cursor: psycopg.Cursor, tracking: Tracking, events: int) -> None:
    """Moves the projection inside the caller's transaction; raises if another worker moved it first."""
    cursor.execute(
        "UPDATE projection_tracking SET position = %s, events_applied = events_applied + %s, "
        "rate = coalesce(%s, rate), updated_at = now() WHERE name = %s AND position = %s",
        (tracking.position, events, tracking.rate, tracking.name, tracking.previous),
        prepare=True,
    )
    if cursor.rowcount != 1:
        raise TrackingConflictError(f"{tracking.name} is no longer at {tracking.previous}")
    cursor.execute(
        "SELECT pg_notify(%s, %s)", (PROJECTIONS_CHANNEL, f"{tracking.name}:{tracking.position}"), prepare=True
    )


def tracking_position(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute("SELECT position FROM projection_tracking WHERE name = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


_SERVING = "SELECT name, active_table AS table, embedder, dimension, switched_at FROM read_models WHERE name = %s"


def active_read_model(conn: psycopg.Connection, name: str) -> ReadModel | None:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(_SERVING, (name,))
        row = cursor.fetchone()
    return ReadModel(**row) if row else None


async def serving_read_model(conn: psycopg.AsyncConnection, name: str) -> ReadModel | None:
    """The same as active_read_model, on an async connection (the API's)."""
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(_SERVING, (name,))
        row = await cursor.fetchone()
    return ReadModel(**row) if row else None


def switch_read_model(conn: psycopg.Connection, model: ReadModel) -> None:
    """Points the read model at another table, in the caller's transaction; readers follow on commit."""
    conn.execute(
        "INSERT INTO read_models (name, active_table, embedder, dimension, switched_at) "
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (name) DO UPDATE SET active_table = EXCLUDED.active_table, "
        "embedder = EXCLUDED.embedder, dimension = EXCLUDED.dimension, switched_at = now()",
        (model.name, model.table, model.embedder, model.dimension),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (READ_MODELS_CHANNEL, model.name))

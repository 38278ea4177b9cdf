"""Projection tracking, held tenants, the read-model registry and the embedding cache, in PostgreSQL.

`projection_tracking` has one row per projection: how far it has applied the log, and the failure it is retrying
now, if any. `projection_holds` has one row per tenant a projection holds back: the event that failed
(`failed_position`), how far that tenant's events are applied (`position`), and what happens next (`state`):
`parked` waits for an operator, `retrying` is applied by the worker, `skipping` is an operator's skip half done.
Every change of the set of held tenants bumps `projection_tracking.holds`, which every batch compares and sets
with the position: a batch that left out the held tenants' events commits only if that set is still the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from agentmem.projections.base import Envelope, Tracking, TrackingConflictError

PROJECTIONS_CHANNEL = "agentmem_projections"
"""Payload `<name>:<position>` when a projection moves, `holds:<name>` when its held tenants change."""
READ_MODELS_CHANNEL = "agentmem_read_models"
HOLDS_CHANNEL = "agentmem_holds"
"""Wakes the workers when an operator retries or skips a parked event."""
MAX_ERROR_CHARS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    events_applied bigint NOT NULL DEFAULT 0,
    rate double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
DO $$ BEGIN
    -- columns added after the first release; checked first, so later starts take no table lock
    IF NOT EXISTS (SELECT FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'projection_tracking'
                   AND column_name = 'holds') THEN
        ALTER TABLE projection_tracking
            ADD COLUMN IF NOT EXISTS holds bigint NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS error text,
            ADD COLUMN IF NOT EXISTS error_position bigint,
            ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS failing_since timestamptz;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS projection_holds (
    projection text NOT NULL,
    tenant_id text NOT NULL,
    position bigint NOT NULL,
    failed_position bigint NOT NULL,
    event_type text NOT NULL,
    aggregate_id uuid,
    version integer,
    state text NOT NULL CHECK (state IN ('parked', 'retrying', 'skipping')),
    error text NOT NULL,
    attempts integer NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, tenant_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS projection_holds_failed ON projection_holds (projection, failed_position);
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


@dataclass(frozen=True, slots=True)
class HeldTenant:
    """A tenant a projection holds back: its events are applied up to `position`."""

    position: int
    state: str


@dataclass(frozen=True, slots=True)
class TrackingState:
    """Where a projection is, the version of its set of held tenants, and those tenants."""

    position: int
    holds: int
    held: dict[str, HeldTenant] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Failure:
    """An event a projection failed to apply, how often, and why."""

    envelope: Envelope
    error: str
    attempts: int

    @classmethod
    def of(cls, envelope: Envelope, error: BaseException, attempts: int) -> Failure:
        return cls(envelope, f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS], attempts)

    def columns(self) -> dict[str, object]:
        event = self.envelope.event
        return {
            "tenant_id": self.envelope.tenant_id,
            "failed_position": self.envelope.position,
            "event_type": type(event).__qualname__,
            "aggregate_id": getattr(event, "originator_id", None),
            "version": getattr(event, "originator_version", None),
            "error": self.error,
            "attempts": self.attempts,
        }


def ensure_tracking(conn: psycopg.Connection, name: str) -> None:
    conn.execute("INSERT INTO projection_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))


def forget_tracking(conn: psycopg.Connection, name: str) -> None:
    """Deletes a projection's tracking and holds (its tables were dropped)."""
    conn.execute("DELETE FROM projection_holds WHERE projection = %s", (name,))
    conn.execute("DELETE FROM projection_tracking WHERE name = %s", (name,))


_CLEAR = "error = NULL, error_position = NULL, attempts = 0, failing_since = NULL"
_MOVE = (
    "UPDATE projection_tracking SET position = %s, events_applied = events_applied + %s, rate = coalesce(%s, rate),"
    f" updated_at = now(), {_CLEAR} WHERE name = %s AND position = %s AND holds = %s"
)
_HOLD_MOVE = (
    "UPDATE projection_tracking SET events_applied = events_applied + %s, holds = holds + %s, updated_at = now()"
    " WHERE name = %s AND position = %s AND holds = %s"
)
_HOLD_STEP = (
    "UPDATE projection_holds SET position = %s, updated_at = now()"
    " WHERE projection = %s AND tenant_id = %s AND position = %s AND state = 'retrying'"
)
_HOLD_RELEASE = (
    "DELETE FROM projection_holds WHERE projection = %s AND tenant_id = %s AND position = %s AND state = 'retrying'"
)


def move_tracking(cursor: psycopg.Cursor, tracking: Tracking, events: int) -> None:
    """Moves the projection (or one of its holds) inside the caller's transaction; raises if another worker moved
    it first or the held tenants changed."""
    hold = tracking.hold
    if hold is None:
        params = (tracking.position, events, tracking.rate, tracking.name, tracking.previous, tracking.holds)
        cursor.execute(_MOVE, params, prepare=True)
    else:
        cursor.execute(_HOLD_MOVE, (events, int(hold.release), tracking.name, tracking.position, tracking.holds))
    if cursor.rowcount != 1:
        raise TrackingConflictError(f"{tracking.name} is no longer at {tracking.previous} (holds {tracking.holds})")
    if hold is not None:
        if hold.release:
            cursor.execute(_HOLD_RELEASE, (tracking.name, hold.tenant_id, hold.previous))
        else:
            cursor.execute(_HOLD_STEP, (hold.position, tracking.name, hold.tenant_id, hold.previous))
        if cursor.rowcount != 1:
            moved = f"{tracking.name}: the hold of {hold.tenant_id} is no longer at {hold.previous}"
            raise TrackingConflictError(moved)
        if hold.release:
            _notify(cursor, f"holds:{tracking.name}")
        return
    _notify(cursor, f"{tracking.name}:{tracking.position}")


def _notify(cursor: psycopg.Cursor, payload: str) -> None:
    cursor.execute("SELECT pg_notify(%s, %s)", (PROJECTIONS_CHANNEL, payload), prepare=True)


def park(conn: psycopg.Connection, tracking: Tracking, failure: Failure) -> None:
    """Moves the projection past an event it cannot apply and holds the event's tenant, in one transaction."""
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE projection_tracking SET position = %s, holds = holds + 1, updated_at = now(), {_CLEAR}"
            " WHERE name = %s AND position = %s AND holds = %s",
            (tracking.position, tracking.name, tracking.previous, tracking.holds),
        )
        if cursor.rowcount != 1:
            raise TrackingConflictError(f"{tracking.name} is no longer at {tracking.previous}")
        cursor.execute(
            "INSERT INTO projection_holds (projection, tenant_id, position, failed_position, event_type, aggregate_id,"
            " version, state, error, attempts) VALUES (%(projection)s, %(tenant_id)s, %(position)s,"
            " %(failed_position)s, %(event_type)s, %(aggregate_id)s, %(version)s, 'parked', %(error)s, %(attempts)s)",
            {"projection": tracking.name, "position": tracking.previous, **failure.columns()},
        )
        _notify(cursor, f"{tracking.name}:{tracking.position}")
        _notify(cursor, f"holds:{tracking.name}")


def record_failure(conn: psycopg.Connection, name: str, failure: Failure) -> None:
    """Notes the failure a projection is retrying (shown to operators; cleared by its next move)."""
    conn.execute(
        "UPDATE projection_tracking SET error = %s, error_position = %s, attempts = %s,"
        " failing_since = coalesce(failing_since, now()) WHERE name = %s",
        (failure.error, failure.envelope.position, failure.attempts, name),
    )


def record_hold_failure(conn: psycopg.Connection, name: str, failure: Failure, *, parked: bool) -> None:
    """Notes a held tenant's failed retry; `parked` when the retries are spent (an operator decides next)."""
    conn.execute(
        "UPDATE projection_holds SET failed_position = %(failed_position)s, event_type = %(event_type)s,"
        " aggregate_id = %(aggregate_id)s, version = %(version)s, error = %(error)s, attempts = %(attempts)s,"
        " state = %(state)s, updated_at = now()"
        " WHERE projection = %(projection)s AND tenant_id = %(tenant_id)s AND state = 'retrying'",
        {"projection": name, "state": "parked" if parked else "retrying", **failure.columns()},
    )


def tracking_state(conn: psycopg.Connection, name: str) -> TrackingState:
    rows = conn.execute(
        "SELECT t.position, t.holds, h.tenant_id, h.position, h.state FROM projection_tracking t"
        " LEFT JOIN projection_holds h ON h.projection = t.name WHERE t.name = %s",
        (name,),
        prepare=True,
    ).fetchall()
    if not rows:
        return TrackingState(0, 0)
    held = {tenant: HeldTenant(int(at), state) for _, _, tenant, at, state in rows if tenant is not None}
    return TrackingState(int(rows[0][0]), int(rows[0][1]), held)


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

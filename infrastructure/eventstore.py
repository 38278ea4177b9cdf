"""The PostgreSQL event store: how eventsourcing connects, log positions of recorded events, and reading the log."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment, retry
from psycopg.conninfo import conninfo_to_dict
from psycopg.sql import SQL, Composed, Identifier

from agentmem.application.base import LOG_NAME, AgentMemApplication
from agentmem.application.metrics import EVENTSTORE_APPEND_EVENTS, EVENTSTORE_APPEND_SECONDS
from agentmem.application.telemetry import span

EVENTS_TABLE = f"{LOG_NAME}_events"


class EventRecorder(PostgresApplicationRecorder):
    """eventsourcing's recorder, inserting in an ordinary transaction instead of psycopg pipeline mode.

    In pipeline mode one large insert (measured: 1,000 events of a few hundred bytes each over the unix
    socket) waits forever: the client blocks writing the statement while the server blocks writing back.
    Here the table lock and the NOTIFY (one round trip) and then the INSERT run in one ordinary
    transaction, so commit order still equals position order and a save of any size completes.
    """

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        EVENTSTORE_APPEND_EVENTS.observe(len(stored_events))
        with (
            span("eventstore.append", {"agentmem.events": len(stored_events)}),
            EVENTSTORE_APPEND_SECONDS.time(),
            self.datastore.transaction(commit=True) as cursor,
        ):
            cursor.execute(self._lock_and_notify)
            super(PostgresApplicationRecorder, self)._insert_stored_events(cursor, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)

    @cached_property
    def _lock_and_notify(self) -> Composed:
        """The statements eventsourcing runs one by one before an insert, as one simple query."""
        return SQL("; ").join([*self.lock_table_statements, SQL("NOTIFY {}").format(Identifier(self.channel_name))])


def event_store_env(database_url: str, pool_size: int, create_tables: bool = False) -> dict[str, str]:
    """The eventsourcing environment for a PostgreSQL URL (tables are created only by prepare_database)."""
    info = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        "CREATE_TABLE": "y" if create_tables else "n",
        "APPLICATION_RECORDER_TOPIC": f"{EventRecorder.__module__}:{EventRecorder.__qualname__}",
    }


def make_factory(database_url: str, pool_size: int, create_tables: bool = False) -> PostgresFactory:
    """One eventsourcing infrastructure factory (one connection pool) shared by every application."""
    return PostgresFactory(Environment(LOG_NAME, event_store_env(database_url, pool_size, create_tables)))


class PostgresEventPositions:
    """Looks up the log position (notification id) of a recorded event."""

    def __init__(self, factory: PostgresFactory) -> None:
        self._datastore = factory.datastore
        self._statement = SQL(
            "SELECT notification_id FROM {table} WHERE originator_id = %s AND originator_version = %s"
        ).format(table=Identifier(EVENTS_TABLE))
        self._latest = SQL(
            "SELECT originator_id, max(originator_version) AS version FROM {table}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(table=Identifier(EVENTS_TABLE))
        self._head = SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {table}").format(
            table=Identifier(EVENTS_TABLE)
        )

    def position_of(self, originator_id: UUID, version: int) -> int:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(self._statement, (originator_id, version), prepare=True)
            row = cursor.fetchone()
        if row is None:
            raise LookupError(f"no event {originator_id} v{version} in the log")
        return int(row["notification_id"])

    def latest_versions(self, originator_ids: Sequence[UUID]) -> dict[UUID, int]:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(self._latest, (list(originator_ids),), prepare=True)
            return {row["originator_id"]: int(row["version"]) for row in cursor.fetchall()}

    def head(self) -> int:
        """The position of the last event in the log (0 when it is empty)."""
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute(self._head, prepare=True)
            row = cursor.fetchone()
        return int(row["head"]) if row else 0

    def ping(self) -> None:
        with self._datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT 1")


class EventLog:
    """Reads the shared event log in position order and decodes events."""

    def __init__(self, database_url: str, pool_size: int = 2) -> None:
        factory = make_factory(database_url, pool_size)
        self._app = AgentMemApplication(event_store_env(database_url, pool_size), factory=factory)

    def after(self, position: int, limit: int) -> Sequence[Notification]:
        return self._app.recorder.select_notifications(start=position + 1, limit=limit)

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def decode(self, notification: Notification) -> Any:
        return self._app.mapper.to_domain_event(notification)

    def close(self) -> None:
        self._app.close()

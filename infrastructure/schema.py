"""Creates everything the database needs, once, under an advisory lock."""

from __future__ import annotations

import psycopg

from agentmem.infrastructure.eventstore import make_factory
from agentmem.infrastructure.postgres_events import prepare_event_log
from agentmem.infrastructure.read_models import prepare_read_models
from agentmem.infrastructure.secret_vault import prepare_secret_vault
from agentmem.infrastructure.settings import Settings

MIGRATION_LOCK = 0x6167656E746D656D  # "agentmem"


def prepare_database(settings: Settings) -> None:
    """Creates the pgvector extension, the event store (with its tenant index) and the read models; safe from
    many processes at once."""
    assert settings.database_url
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            factory = make_factory(settings.database_url, pool_size=1, create_tables=True)
            try:
                factory.application_recorder()
            finally:
                factory.close()
            prepare_event_log(conn)
            prepare_read_models(conn, settings)
            prepare_secret_vault(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

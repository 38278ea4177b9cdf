"""Fixtures for infrastructure tests: a fresh database per test and a stub OpenAI embeddings server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from agentmem.infrastructure.bootstrap import bootstrap
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.settings import Settings
from tests.stubs.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def fresh_database(settings: Settings) -> Iterator[Callable[..., Settings]]:
    """Makes empty databases on the test server, prepared with the given settings; drops them afterwards."""
    assert settings.database_url
    server = make_conninfo(settings.database_url, dbname=conninfo_to_dict(settings.database_url)["dbname"])
    created: list[str] = []

    def make(*, bootstrapped: bool = True, **overrides: object) -> Settings:
        name = f"agentmem_it_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        fresh = settings.with_overrides(database_url=make_conninfo(server, dbname=name), **overrides)
        prepare_database(fresh)
        if bootstrapped:
            bootstrap(fresh)
        return fresh

    yield make
    with psycopg.connect(server, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

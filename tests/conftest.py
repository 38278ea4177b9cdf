"""Real components for every test: PostgreSQL with pgvector and a Redis-compatible server.

With DATABASE_URL / REDIS_URL set, tests use a fresh database on that server and that Redis;
otherwise they start the embedded PostgreSQL and Valkey in a temporary directory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import make_conninfo

from agentmem.api.app import create_app
from agentmem.domain.base import Context
from agentmem.infrastructure.embedded import EmbeddedServices
from agentmem.infrastructure.settings import Settings
from agentmem.infrastructure.worker import Worker
from agentmem.runtime.container import Container
from agentmem.runtime.processes import prepare
from tests.clients import BOOTSTRAP_KEY, SECRET_KEY, ApiClient, Org, create_org
from tests.live import live_server
from tests.workers import running_worker


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at a real, empty database and a real Redis-compatible server."""
    base = Settings.from_env().with_overrides(
        data_dir=Path(tmp_path_factory.mktemp("agentmem-data")),
        log_level="warning",
        secret_key=SECRET_KEY,
        bootstrap_api_key=BOOTSTRAP_KEY,
        rate_limit_per_minute=1_000_000,
    )
    embedded = EmbeddedServices(base)
    running = embedded.start()
    server_url = running.database_url
    assert server_url is not None
    name = f"agentmem_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    running = running.with_overrides(database_url=make_conninfo(server_url, dbname=name))
    prepare(running)
    try:
        yield running
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        embedded.stop()


@pytest.fixture(scope="session")
def container(settings: Settings) -> Iterator[Container]:
    """The composition root every entrypoint uses, on the test database."""
    built = Container(settings)
    yield built
    built.memories.close()


@pytest.fixture(scope="session")
def http(settings: Settings, container: Container) -> Iterator[TestClient]:
    """An HTTP client for the real app on the real database, without credentials."""
    with TestClient(create_app(settings, container)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin(http: TestClient) -> ApiClient:
    """The bootstrap owner of the `default` organization, a platform superadmin."""
    return ApiClient(http, BOOTSTRAP_KEY)


@pytest.fixture(scope="module")
def org(admin: ApiClient) -> Org:
    """A fresh organization for each test module (tests of one module share it)."""
    return create_org(admin)


@pytest.fixture(scope="module")
def client(org: Org) -> ApiClient:
    """An HTTP client holding the owner key of the module's own organization."""
    return org.owner


@pytest.fixture(scope="session")
def worker(settings: Settings) -> Iterator[Worker]:
    """A projection worker running in the background for the whole session."""
    with running_worker(settings) as running:
        yield running


@pytest.fixture(scope="session")
def live_url(settings: Settings, worker: Worker) -> Iterator[str]:
    """The URL of the real app served over a real socket (uvicorn), with projections running."""
    with live_server(settings) as url:
        yield url


@pytest.fixture
def context() -> Context:
    """A fresh tenant, actor and request for one test."""
    return Context(tenant_id=f"t-{uuid.uuid4().hex[:8]}", actor_id="tester", request_id=uuid.uuid4().hex)

"""The OpenAPI document is the contract: schemathesis sends generated requests to a real server and checks each answer.

The server is the application on uvicorn on a free port, with a projection worker, on a database of its own: the
platform routes may rename, suspend or delete any organization in it, which must not reach the rest of the suite.
The organization's routes run first with its owner's API key (/v1/auth/refresh and /logout with users' tokens, the
only credentials they accept); the platform routes run last with the superadmin's key. Every answer must have a
documented status, a documented content type and a body matching its schema, and never be a 5xx.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
import uvicorn
from psycopg.conninfo import make_conninfo
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.engine.statistic import Statistic

from agentmem.api.app import create_app
from agentmem.infrastructure.settings import LLMSettings, Settings
from agentmem.runtime.processes import prepare
from tests.clients import BOOTSTRAP_KEY, ApiClient, create_org
from tests.stubs.openai_chat import OpenAIChatStub
from tests.workers import running_worker

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
PLATFORM = "^/v1/(organizations|admin)"
COVERAGE = {"unexpected-methods": [], "generate-duplicate-query-parameters": False, "generation": {"mode": "positive"}}
"""Boundary values of every documented parameter and field; bad input comes from the fuzzing phase's negative mode."""
METHODS = {"get", "put", "post", "patch", "delete"}


@dataclass
class Run:
    """What schemathesis saw over one or more runs: cases, failures, errors, and the statuses answered."""

    statistic: Statistic = field(default_factory=Statistic)
    errors: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    succeeded: set[str] = field(default_factory=set)

    def record(self, schema: Any) -> None:
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
                self.statistic.on_scenario_finished(event.recorder)
                for interaction in event.recorder.interactions.values():
                    if interaction.response is not None:
                        self.statuses[interaction.response.status_code] += 1
                        if interaction.response.status_code < 300:
                            self.succeeded.add(event.recorder.label)
            elif isinstance(event, events.NonFatalError):
                self.errors.append(f"{event.label}: {event.info.format()}")
            elif isinstance(event, events.FatalError):
                raise event.exception

    def failures(self, config: SchemathesisConfig) -> list[str]:
        return [
            f"{label}\n{group.format(index=None, curl=group.code_sample, config=config.output)}"
            for label, grouped in self.statistic.failures.items()
            for group in grouped.values()
        ]


def contract_config(key: str, operations: list[dict[str, Any]] | None = None) -> SchemathesisConfig:
    """A bounded, repeatable run: a few examples per operation, a fixed seed, only the four checks."""
    return SchemathesisConfig.from_dict(
        {
            "seed": 11,
            "cache": {"enabled": False},  # no state between runs (and no .schemathesis folder in the work tree)
            "generation": {"mode": "all", "max-examples": 4, "deterministic": True, "with-security-parameters": False},
            "phases": {"stateful": {"enabled": False}, "coverage": COVERAGE},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "headers": {"Authorization": f"Bearer {key}"},
            "operations": operations or [],
        }
    )


@pytest.fixture(scope="module")
def own_settings(settings: Settings) -> Iterator[Settings]:
    """The suite's servers, with a fresh database of their own (schema and default organization prepared), a
    language model (a local stub) so /v1/llm/check can succeed, and reads that wait long enough on a busy machine."""
    assert settings.database_url
    server_url = make_conninfo(settings.database_url, dbname="postgres")
    name = f"agentmem_contract_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with OpenAIChatStub() as stub:
            llm = LLMSettings("openai_compatible", "stub", base_urls={"openai_compatible": stub.base_url})
            database = make_conninfo(settings.database_url, dbname=name)
            own = replace(settings, database_url=database, llm=llm, read_wait_timeout=30.0)
            prepare(own)
            yield own
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(own_settings: Settings) -> Iterator[str]:
    """The application on uvicorn on a free port, with a projection worker; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(own_settings), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, name="contract-server", daemon=True)
    with running_worker(own_settings):
        thread.start()
        while not running.started:
            if not thread.is_alive():
                raise RuntimeError("the contract server did not start")
            thread.join(timeout=0.05)
        yield f"http://127.0.0.1:{port}"
        running.should_exit = True
        thread.join(timeout=30)


def tokens(owner: ApiClient, count: int) -> list[str]:
    """Tokens of a new member of the owner's organization (each sign-in is its own token)."""
    email, password = f"contract-{uuid.uuid4().hex[:8]}@example.com", "contract-password-1"
    created = owner.post("/v1/users", json={"email": email, "name": "Contract", "role": "member", "password": password})
    assert created.status_code == 201, created.text
    signed_in = [owner.http.post("/v1/auth/token", json={"email": email, "password": password}) for _ in range(count)]
    return [response.json()["access_token"] for response in signed_in]


def test_every_answer_is_the_documented_one(server: str) -> None:
    with httpx.Client(base_url=server) as http:
        admin = ApiClient(http, BOOTSTRAP_KEY)  # an httpx client on the real server, not the TestClient
        owner = create_org(admin).owner
        refresh_token, logout_token = tokens(owner, 2)
    document = f"{server}/schema/openapi.json"
    run = Run()
    tenant = contract_config(
        owner.secret or "",
        [
            {"include-path": "/v1/auth/refresh", "headers": {"Authorization": f"Bearer {refresh_token}"}},
            {"include-path": "/v1/auth/logout", "headers": {"Authorization": f"Bearer {logout_token}"}},
        ],
    )
    run.record(schemathesis.openapi.from_url(document, config=tenant).exclude(path_regex=PLATFORM))
    platform = contract_config(BOOTSTRAP_KEY)
    run.record(schemathesis.openapi.from_url(document, config=platform).include(path_regex=PLATFORM))
    print(f"schemathesis: {run.statistic.total_cases} cases on {len(run.statistic.tested_operations)} operations")
    unreached = sorted(run.statistic.tested_operations - run.succeeded)
    print(f"answers by status: {sorted(run.statuses.items())}; no 2xx: {unreached}")
    assert not run.errors, "\n".join(run.errors)
    report = run.failures(tenant)
    assert not report, f"{run.statistic.total_failures} failures:\n" + "\n".join(report)
    paths = httpx.get(document).json()["paths"]
    assert len(run.statistic.tested_operations) == sum(len(set(item) & METHODS) for item in paths.values())
    # the credentials work: most operations reached their handler's success (the rest need a state, e.g. restore)
    assert len(run.succeeded) >= 0.75 * len(run.statistic.tested_operations)

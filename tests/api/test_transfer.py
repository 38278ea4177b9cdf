"""Export and import: an organization's history moves to a fresh database whole, or a clash moves nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import make_conninfo

from agentmem.api.app import create_app
from agentmem.cli.main import main
from agentmem.domain.base import Context
from agentmem.infrastructure.bootstrap import identity_application
from agentmem.infrastructure.settings import Settings
from agentmem.runtime import processes
from agentmem.runtime.container import Container
from tests.api.test_events_api import read_all
from tests.clients import ApiClient, Org, create_org
from tests.reading import after
from tests.workers import running_worker

pytestmark = pytest.mark.usefixtures("worker")
QUERY = "which colour is the front door?"


@pytest.fixture(scope="module")
def source(admin: ApiClient) -> dict[str, Any]:
    """An organization with a memory in four versions, a block, a tool, an agent with messages and a user with a
    password."""
    org = create_org(admin)
    owner = org.owner
    memory = owner.post("/v1/memories", json={"text": "the front door is red", "user_id": "ana"}).json()
    instants = [datetime.now(UTC).isoformat()]
    for text in ("the front door is green", "the front door is blue"):
        owner.patch(f"/v1/memories/{memory['id']}", json={"text": text})
        instants.append(datetime.now(UTC).isoformat())
    owner.post("/v1/memories", json={"text": "the garden gate squeaks", "user_id": "ana"})
    owner.post("/v1/blocks", json={"label": "persona", "value": "a careful house sitter"})
    owner.post("/v1/tools", json={"name": "door_colour", "language": "bash", "source": "echo '\"red\"'"})
    agent = owner.post("/v1/agents", json={"name": "sitter"}).json()
    owner.post(f"/v1/agents/{agent['id']}/messages", json={"messages": [{"role": "user", "content": "hello"}]})
    user = owner.post("/v1/users", json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "pa55word!"})
    org.client_with_role("member")
    position = int(user.headers["AgentMem-Position"])
    found = after(owner, "POST", "/v1/memories/search", position, json={"query": QUERY}).json()
    return {
        "org": org,
        "memory_id": memory["id"],
        "instants": instants,
        "history": owner.get(f"/v1/memories/{memory['id']}/history").json(),
        "as_of": [owner.get(f"/v1/memories/{memory['id']}", params={"as_of": t}).json() for t in instants],
        "search": [(hit["id"], hit["text"]) for hit in found["results"]],
        "feed": read_all(owner),
        "export": owner.get("/v1/export").content,
    }


@pytest.fixture(scope="module")
def fresh(settings: Settings) -> Iterator[Settings]:
    """Settings for a second, empty database on the same server (its own read models, no organizations)."""
    assert settings.database_url
    name = f"agentmem_import_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(settings.database_url, dbname=name)
    yield settings.with_overrides(database_url=url)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def head(settings: Settings) -> int:
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM agentmem_events").fetchone()
    return int(row[0]) if row else 0


def run_cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> int:
    assert settings.database_url
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AGENTMEM_SECRET_KEY", str(settings.secret_key))
    return main(list(args))


def comparable(event: dict[str, Any]) -> tuple[Any, ...]:
    """An event as both servers must show it (password hashes do not travel: redacted there, null here)."""
    data = {k: v for k, v in event["data"].items() if k != "password_hash"}
    return event["type"], event["aggregate_id"], event["version"], event["timestamp"], json.dumps(data)


def test_the_api_and_the_cli_write_the_same_export(
    source: dict[str, Any], settings: Settings, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture
) -> None:
    org: Org = source["org"]
    assert run_cli(monkeypatch, settings, "export", "--org", org.name) == 0
    cli_lines = capsysbinary.readouterr().out.splitlines()
    api_lines = source["export"].splitlines()
    assert cli_lines[1:] == api_lines[1:]  # the header differs only in exported_at
    header, end = json.loads(api_lines[0]), json.loads(api_lines[-1])
    assert header["organization_name"] == org.name and end == {"kind": "end", "events": len(api_lines) - 2}
    events = [json.loads(line) for line in api_lines[1:-1]]
    assert not [e for e in events if e["type"].split(".")[0] in ("ApiKey", "NameClaim", "EmailIndex")]
    users = [e["state"] for e in events if e["type"] == "User.Created"]
    assert users and all(u["password_hash"] is None for u in users)
    assert b"argon2" not in source["export"] and b"key_hash" not in source["export"]


def test_an_import_into_a_fresh_database_reproduces_history_as_of_search_and_feed(
    source: dict[str, Any], fresh: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org: Org = source["org"]
    path = tmp_path / "org.ndjson"
    path.write_bytes(source["export"])
    processes.prepare(fresh)
    taken = identity_application(fresh)
    squatter = taken.create_organization(org.name, Context("platform", "test", "squat")).organization
    assert run_cli(monkeypatch, fresh, "import", str(path)) == 1  # the name is taken: nothing imported
    before = head(fresh)
    taken.delete_organization(squatter.id, Context("platform", "test", "free"))
    taken.close()
    assert run_cli(monkeypatch, fresh, "import", str(path)) == 0
    assert head(fresh) > before
    issued = processes.create_key(fresh, org.name, "owner", "after import")
    assert issued is not None
    with running_worker(fresh), TestClient(create_app(fresh, Container(fresh))) as http:
        owner = ApiClient(http, issued[0].secret)
        memory_id = source["memory_id"]
        found = after(owner, "POST", "/v1/memories/search", head(fresh), json={"query": QUERY})
        assert [(hit["id"], hit["text"]) for hit in found.json()["results"]] == source["search"]
        assert owner.get(f"/v1/memories/{memory_id}/history").json() == source["history"]
        as_of = [owner.get(f"/v1/memories/{memory_id}", params={"as_of": t}).json() for t in source["instants"]]
        assert as_of == source["as_of"]
        expected = [comparable(e) for e in source["feed"] if e["aggregate_type"] not in ("ApiKey", "NameClaim")]
        imported = [comparable(e) for e in read_all(owner) if e["aggregate_type"] not in ("ApiKey", "NameClaim")]
        assert imported == expected
        tool = {"name": "door_colour", "language": "bash", "source": "echo 1"}
        assert owner.post("/v1/tools", json=tool).status_code == 409  # the import claimed its tools' names
        me = owner.get("/v1/me").json()
        assert (me["organization_id"], me["organization_name"]) == (org.id, org.name)


def test_an_import_that_clashes_with_existing_ids_imports_nothing(
    source: dict[str, Any], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    path = tmp_path / "org.ndjson"
    path.write_bytes(source["export"])
    before = head(settings)
    assert run_cli(monkeypatch, settings, "import", str(path)) == 1
    assert "exist here already" in capsys.readouterr().err and head(settings) == before


def without_first(lines: list[bytes], marker: bytes) -> list[bytes]:
    index = next(i for i, line in enumerate(lines) if marker in line)
    return lines[:index] + lines[index + 1 :]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lines: lines[:-1], "truncated"),
        (lambda lines: without_first(lines, b'"Memory.Updated"'), "where version 2 was due"),
        (lambda lines: [b'{"kind": "header", "format": "other"}', *lines[1:]], "not an AgentMem export"),
        (lambda lines: [lines[0], b'{"kind": "event", "topic": "os:system", "state": {}}', *lines[1:]], "not an"),
    ],
)
def test_a_damaged_file_is_refused_naming_the_line(
    source: dict[str, Any],
    settings: Settings,
    tmp_path: Path,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    change: Any,
    message: str,
) -> None:
    path = tmp_path / "damaged.ndjson"
    path.write_bytes(b"\n".join(change(source["export"].splitlines())))
    before = head(settings)
    assert run_cli(monkeypatch, settings, "import", str(path)) == 1
    error = capsys.readouterr().err
    assert message in error and "line " in error and head(settings) == before


def test_an_event_of_another_organization_is_refused(
    source: dict[str, Any], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    lines = source["export"].splitlines()
    second = json.loads(lines[2])
    second["state"]["tenant_id"] = str(uuid.uuid4())
    path = tmp_path / "foreign.ndjson"
    path.write_bytes(b"\n".join([lines[0], lines[1], json.dumps(second).encode(), *lines[3:]]))
    assert run_cli(monkeypatch, settings, "import", str(path)) == 1
    assert "line 3: the event belongs to another organization" in capsys.readouterr().err


def test_only_owners_export(source: dict[str, Any]) -> None:
    org: Org = source["org"]
    assert org.client_with_role("member").get("/v1/export").status_code == 403

"""One event never stops a projection: failures are retried, then parked for their tenant; operators retry or skip.

The failure is injected at the database, as in production: a trigger on one read model's table refuses rows whose
label (or text) is listed in a `poison` table, so deleting the row "fixes the bug" without touching the code.
"""

from __future__ import annotations

import getpass
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from litestar.testing import TestClient

from agentmem.api.app import create_app
from agentmem.cli.main import main
from agentmem.domain.base import Context
from agentmem.domain.memory import Memory
from agentmem.domain.projection_skip import ProjectionSkip
from agentmem.infrastructure.database import sync_pool
from agentmem.infrastructure.embedders import EmbedderError, EmbedderUnavailableError
from agentmem.infrastructure.eventstore import EventLog
from agentmem.infrastructure.read_models import RebuildParkedError, rebuild_searchable, searchable_runner
from agentmem.infrastructure.runner import unavailable
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container, projection_operations
from tests.clients import BOOTSTRAP_KEY, ApiClient, Org, create_org
from tests.infrastructure.test_projection_exactly_once import (
    SERVING,
    replay,
    snapshot,
    wait_until,
    write_history,
)
from tests.stubs.openai_stub import OpenAIStub
from tests.workers import running_worker

POISON = """
CREATE TABLE poison (value text PRIMARY KEY);
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM poison WHERE value = to_jsonb(NEW) ->> TG_ARGV[0]) THEN
    RAISE EXCEPTION '% % is poisoned', TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[0];
  END IF;
  RETURN NEW;
END $$;
"""


def sql(settings: Settings, statement: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def poison(settings: Settings, table: str, column: str, *values: str) -> None:
    """Makes rows of `table` whose `column` is one of `values` fail to be written."""
    sql(settings, POISON)
    sql(
        settings,
        f"CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW"
        f" EXECUTE FUNCTION refuse_poison('{column}')",
    )
    for value in values:
        sql(settings, "INSERT INTO poison VALUES (%s)", (value,))


def holds(settings: Settings) -> list[tuple[Any, ...]]:
    return sql(settings, "SELECT projection, tenant_id, failed_position, state, attempts FROM projection_holds")


def positions(settings: Settings) -> dict[str, int]:
    return dict(sql(settings, "SELECT name, position FROM projection_tracking"))


def head(settings: Settings) -> int:
    return int(sql(settings, "SELECT coalesce(max(notification_id), 0) FROM agentmem_events")[0][0])


def all_at_head(settings: Settings) -> bool:
    return set(positions(settings).values()) == {head(settings)}


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as running:
        yield running


@pytest.fixture
def stubbed(fresh_database: Callable[..., Settings], stub: OpenAIStub) -> Callable[..., Settings]:
    """Fresh databases embedding with a stub (fast), trying each event twice, 10 ms apart."""

    def make(**overrides: Any) -> Settings:
        defaults = {"projection_max_attempts": 2, "projection_retry_seconds": 0.01}
        settings: Settings = fresh_database(
            embedder="openai:stub-embed:64",
            embedding_base_url=stub.base_url,
            embedding_api_key="k",
            **{**defaults, **overrides},
        )
        return settings

    return make


@contextmanager
def serving(settings: Settings) -> Iterator[ApiClient]:
    """The API (as the bootstrap superadmin) and a projection worker on these settings."""
    with running_worker(settings), TestClient(create_app(settings, Container(settings))) as client:
        yield ApiClient(client, BOOTSTRAP_KEY)


def block(org: Org, label: str) -> int:
    response = org.owner.post("/v1/blocks", json={"label": label, "value": f"the {label} block"})
    assert response.status_code == 201, response.text
    return int(response.json()["position"])


def labels(org: Org, min_position: int) -> tuple[int, list[str]]:
    response = org.owner.get("/v1/blocks", params={"min_position": min_position, "order": "created_asc"})
    items = response.json().get("items", []) if response.status_code == 200 else []
    return response.status_code, [b["label"] for b in items]


def cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> int:
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    return main(["projections", *args])


def test_a_failing_projection_retries_on_its_own_while_the_others_go_on(
    stubbed: Callable[..., Settings],
) -> None:
    settings = stubbed(projection_max_attempts=1_000_000)
    poison(settings, "blocks", "label", "poison")
    with serving(settings) as admin:
        org = create_org(admin)
        stuck = block(org, "poison")
        later = org.owner.post("/v1/agents", json={"name": "still listed"}).json()["position"]
        wait_until(lambda: sql(settings, "SELECT attempts FROM projection_tracking WHERE name = 'blocks'")[0][0] > 2)
        wait_until(lambda: {p for p, at in positions(settings).items() if at < later} == {"blocks"})

        status = admin.get("/v1/admin/projections").json()
        by_name = {p["name"]: p for p in status["projections"]}
        assert by_name["blocks"]["position"] < stuck and by_name["blocks"]["error_position"] == stuck
        assert "label poison is poisoned" in by_name["blocks"]["error"]
        assert {n for n, p in by_name.items() if p["lag_events"]} == {"blocks"}
        assert org.owner.get("/v1/agents", params={"min_position": later}).status_code == 200
        assert status["parked"] == []


def test_a_poison_event_is_parked_for_its_tenant_and_retried_after_the_fix(
    stubbed: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = stubbed()
    poison(settings, "blocks", "label", "poison")
    with serving(settings) as admin:
        good, bad = create_org(admin), create_org(admin)
        block(good, "before")
        stuck = block(bad, "poison")
        held = block(bad, "held-back")
        last = block(good, "after")
        wait_until(lambda: bool(holds(settings)) and all_at_head(settings))

        assert holds(settings) == [("blocks", bad.id, stuck, "parked", 2)]
        assert labels(good, last) == (200, ["before", "after"])
        status, _ = labels(bad, held)
        assert status == 503  # read-your-writes cannot be kept for the held tenant: said, not silently stale
        assert (
            "holds this organization's data up to position"
            in bad.owner.get("/v1/blocks", params={"min_position": held}).json()["detail"]
        )
        assert labels(bad, 0) == (200, [])  # without min_position: what it has (up to before the parked event)
        parked = admin.get("/v1/admin/projections").json()["parked"]
        assert [(p["projection"], p["tenant_id"], p["position"], p["state"]) for p in parked] == [
            ("blocks", bad.id, stuck, "parked")
        ]
        assert parked[0]["event_type"] == "Block.Created" and "label poison is poisoned" in parked[0]["error"]
        ready = admin.get("/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["projections"] == "1 parked event(s) hold tenants back"

        assert cli(monkeypatch, settings, "failures") == 0
        assert f"blocks      {stuck}" in capsys.readouterr().out
        assert cli(monkeypatch, settings, "retry", "blocks", str(stuck)) == 0  # not fixed yet: parked again
        assert f"blocks {stuck} (tenant {bad.id}): parked" in capsys.readouterr().out
        assert holds(settings) == [("blocks", bad.id, stuck, "parked", 2)]

        sql(settings, "DELETE FROM poison")  # the fix
        assert cli(monkeypatch, settings, "retry") == 0
        assert f"blocks {stuck} (tenant {bad.id}): applied" in capsys.readouterr().out
        assert holds(settings) == []
        assert labels(bad, held) == (200, ["poison", "held-back"])
        ready = admin.get("/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"


def test_skipping_a_parked_event_records_it_in_the_log_and_catches_the_tenant_up(
    stubbed: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = stubbed()
    poison(settings, "blocks", "label", "poison")
    with serving(settings) as admin:
        bad = create_org(admin)
        stuck = block(bad, "poison")
        held = block(bad, "held-back")
        wait_until(lambda: bool(holds(settings)) and all_at_head(settings))

        assert cli(monkeypatch, settings, "skip", "blocks", str(stuck), "--reason", " ") == 1
        assert "say why" in capsys.readouterr().err
        assert cli(monkeypatch, settings, "skip", "blocks", str(stuck + 1000), "--reason", "x") == 1
        assert "no event is parked" in capsys.readouterr().err
        assert cli(monkeypatch, settings, "skip", "blocks", str(stuck), "--reason", "INC-42: bad label") == 0
        recorded = int(capsys.readouterr().out.rsplit(" ", 1)[1])
        wait_until(lambda: holds(settings) == [])

        assert labels(bad, held) == (200, ["held-back"])
        audit = bad.owner.get("/v1/audit", params={"action": "ProjectionSkip.Recorded", "min_position": recorded})
        assert [(e["position"], e["actor_id"]) for e in audit.json()["items"]] == [
            (recorded, f"operator:{getpass.getuser()}")
        ]
        with projection_operations(settings) as operations:
            skip = operations.log.repository.get(ProjectionSkip.id_for("blocks", stuck))
            assert (skip.tenant_id, skip.position, skip.reason) == (bad.id, stuck, "INC-42: bad label")
            assert (skip.event_type, skip.aggregate_version, skip.version) == ("Block.Created", 1, 1)
            assert "label poison is poisoned" in skip.error
            assert operations.retry("blocks") == []  # nothing parked any more
        assert all_at_head(settings)


def test_a_held_tenant_caught_up_later_gives_the_same_read_model_as_one_replay(
    stubbed: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exactly once across parking: the held tenant's events are applied after everyone else's, in log order, once."""
    settings = stubbed()
    poisoned = "speaker 1: turn 3 of run 0 about topic3"
    poison(settings, SERVING, "text", poisoned)
    write_history(settings, runs=2, turns=20)  # tenant-x, with the poisoned memory early on
    with running_worker(settings), projection_operations(settings) as operations:
        other = Context("tenant-y", "writer", "req")
        operations.log.save(
            *(Memory.create(id=uuid4(), context=other, text=f"tenant y memory {i}", run_id="r") for i in range(30))
        )
        wait_until(lambda: bool(holds(settings)) and all_at_head(settings))
        [(projection, tenant, _, state, _)] = holds(settings)
        assert (projection, tenant, state) == (SERVING, "tenant-x", "parked")
        assert sql(settings, f"SELECT count(*) FROM {SERVING} WHERE tenant_id = 'tenant-y'") == [(30,)]
        sql(settings, f"DROP TRIGGER refuse_poison ON {SERVING}")
        asked = operations.retry()
        assert [outcome for _, outcome in operations.settle(asked, 60)] == ["applied"]
    assert snapshot(settings, SERVING) == replay(settings)


def test_racing_runners_park_once_and_catch_the_tenant_up_once(stubbed: Callable[..., Settings]) -> None:
    """Three runners without the lock race through parking and the catch-up: the read model equals one replay."""
    settings = stubbed()
    poison(settings, SERVING, "text", "speaker 1: turn 3 of run 0 about topic3")
    write_history(settings, runs=2, turns=30)
    assert settings.database_url
    pool = sync_pool(settings.database_url, 6, "race")
    log = EventLog(settings.database_url)
    runners = [
        searchable_runner(settings, pool, log, "memories", SERVING, settings.embedder, batch_size=8) for _ in range(3)
    ]

    def race() -> None:
        threads = [threading.Thread(target=runner.catch_up) for runner in runners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        race()
        assert [(p, t, s) for p, t, _, s, _ in holds(settings)] == [(SERVING, "tenant-x", "parked")]
        assert positions(settings)[SERVING] == head(settings)
        sql(settings, f"DROP TRIGGER refuse_poison ON {SERVING}")
        with projection_operations(settings) as operations:
            assert len(operations.retry()) == 1
        race()
        assert holds(settings) == [] and positions(settings)[SERVING] == head(settings)
    finally:
        for runner in runners:
            runner.close()
        log.close()
        pool.close()
    assert snapshot(settings, SERVING) == replay(settings)


def test_a_rebuild_that_parks_what_the_serving_generation_applied_does_not_switch(
    stubbed: Callable[..., Settings], stub: OpenAIStub
) -> None:
    """The embedder refuses one text (as OpenAI refuses an input): the embedder's failure parks like any other."""
    settings = stubbed()
    write_history(settings, runs=1, turns=10)
    with running_worker(settings):
        wait_until(lambda: all_at_head(settings))
    stub.refuse = {"turn 4 "}
    assert settings.database_url
    pool = sync_pool(settings.database_url, 2, "rebuild")
    log = EventLog(settings.database_url)
    try:
        with pytest.raises(RebuildParkedError, match="memories_g1 keeps serving"):
            rebuild_searchable(settings, pool, log, "memories", "openai:stub-embed:32")
    finally:
        log.close()
        pool.close()
    assert sql(settings, "SELECT active_table FROM read_models WHERE name = 'memories'") == [("memories_g1",)]
    [(projection, tenant, _, state, attempts)] = holds(settings)
    assert (projection, tenant, state, attempts) == ("memories_g2", "tenant-x", "parked", 2)


def test_only_failures_of_the_event_itself_lead_to_parking(settings: Settings) -> None:
    """A lost connection, a deadlock, a full disk or the embedder being down wait; a limit the event hits does not."""

    def raised(statement: str) -> psycopg.Error:
        with psycopg.connect(settings.database_url or "", autocommit=True) as conn, pytest.raises(psycopg.Error) as e:
            conn.execute(statement)
        return e.value

    with pytest.raises(psycopg.OperationalError) as lost:
        psycopg.connect("host=127.0.0.1 port=1 connect_timeout=1")
    assert unavailable(lost.value)
    assert unavailable(psycopg.errors.lookup("40P01")("deadlock detected"))
    assert unavailable(psycopg.errors.lookup("53100")("could not extend file: No space left on device"))
    assert unavailable(EmbedderUnavailableError("embedding endpoint failed: 503"))
    assert not unavailable(EmbedderError("embedding endpoint failed: 400 input too long"))
    assert not unavailable(raised("SELECT 'x'::int"))
    too_big = raised(
        "CREATE TEMP TABLE t (x text PRIMARY KEY);"
        " INSERT INTO t SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i"
    )
    assert too_big.sqlstate == "54000" and not unavailable(too_big)  # index row too large: the event's

"""Log lines: each request logged once with its id, tenant, actor, route, status and duration; never a secret."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from agentmem.infrastructure.logs import redact
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.observability import configure_logging
from tests.clients import ApiClient, Org


@pytest.fixture(params=["json", "text"])
def log_lines(request: pytest.FixtureRequest, settings: Settings) -> Iterator[io.StringIO]:
    """Everything logged at info and above during the test, in the given format."""
    stream = io.StringIO()
    root = logging.getLogger()
    level, previous = root.level, [h for h in root.handlers if getattr(h, "agentmem", False)]
    handler = configure_logging(settings.with_overrides(log_format=request.param, log_level="info"), stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for restored in previous:
            root.addHandler(restored)
        root.setLevel(level)


def test_a_request_is_logged_with_its_context_and_without_its_key_or_memory_text(
    log_lines: io.StringIO, org: Org, http: TestClient
) -> None:
    text = f"my bank PIN is {uuid.uuid4().hex}"
    created = org.owner.post("/v1/memories", json={"text": text, "user_id": "alice"})
    assert created.status_code == 201
    searched = org.owner.post("/v1/memories/search", json={"query": text, "mode": "text"})
    assert searched.status_code == 200
    refused = ApiClient(http, org.owner_key + "x").post("/v1/memories", json={"text": text})
    assert refused.status_code == 401
    output = log_lines.getvalue()
    assert org.owner_key not in output and text not in output and "PIN" not in output
    request_id = created.headers["x-request-id"]
    access = [line for line in output.splitlines() if request_id in line]
    assert len(access) == 1, output
    me = org.owner.get("/v1/me").json()
    if output.lstrip().startswith("{"):
        line = json.loads(access[0])
        assert line["logger"] == "agentmem.access" and line["level"] == "info"
        assert (line["method"], line["route"], line["status"]) == ("POST", "/v1/memories", 201)
        assert line["tenant"] == me["organization_id"] and line["actor"].startswith("key:")
        assert line["request_id"] == request_id and line["duration_ms"] > 0
    else:
        assert re.search(r"INFO agentmem.access: POST /v1/memories 201 [0-9.]+ ms request_id=", access[0])
        assert f"tenant={me['organization_id']}" in access[0] and "actor=key:" in access[0]
        assert f"request_id={request_id}" in access[0]
    assert any("POST /v1/memories 401" in line for line in output.splitlines())


def test_keys_tokens_and_bearer_credentials_are_masked_in_any_line() -> None:
    key = "am_" + "k" * 40
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlX2hlcmU"
    line = redact(f"presented {key}; token {jwt}; header Authorization: Bearer abc.def")
    assert key not in line and jwt not in line and "abc.def" not in line
    assert line.count("[redacted]") == 3

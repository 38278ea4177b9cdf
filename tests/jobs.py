"""Helpers for job tests: hand in a conversation, run a job's next attempt in the app's event loop, read results."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar.testing import TestClient

from agentmem.application.job_runner import JobRunner, utc_now
from agentmem.runtime.container import Container
from tests.clients import ApiClient


def user() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def said(*contents: str) -> list[dict[str, str]]:
    """User messages with these contents."""
    return [{"role": "user", "content": content} for content in contents]


def queue(client: ApiClient, *contents: str, user_id: str, **extra: Any) -> dict[str, Any]:
    """POSTs a conversation for extraction; returns the 202 body."""
    response = client.post("/v1/memories", json={"messages": said(*contents), "user_id": user_id, **extra})
    assert response.status_code == 202, response.text
    return dict(response.json())


def remember(client: ApiClient, text: str, user_id: str) -> dict[str, Any]:
    """Adds a memory the plain way; returns the 201 body."""
    response = client.post("/v1/memories", json={"text": text, "user_id": user_id})
    assert response.status_code == 201, response.text
    return dict(response.json())


def later(container: Container, seconds: float) -> JobRunner:
    """The container's job runner with a clock `seconds` ahead (past a backoff or a lease, without waiting)."""
    runner = container.job_runner
    return JobRunner(
        runner.app, runner.handlers, runner.queue, runner.policy, lambda: utc_now() + timedelta(seconds=seconds)
    )


def run(http: TestClient, container: Container, job_id: str, runner: JobRunner | None = None) -> str | None:
    """Runs the job's next attempt in the app's event loop (as the job worker would); returns its status."""
    runner = runner or container.job_runner
    return http.blocking_portal.call(runner.run, UUID(job_id))


def job(client: ApiClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def texts(client: ApiClient, user_id: str, min_position: int) -> list[str]:
    """The user's live memories, oldest first, once the read model has applied `min_position`."""
    response = client.get(
        "/v1/memories", params={"user_id": user_id, "order": "created_asc", "min_position": min_position}
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["items"]]

"""Read-your-writes for tests on a busy machine: repeat a read with `min_position` until the projection got there."""

from __future__ import annotations

from typing import Any

import httpx

from tests.clients import ApiClient

ATTEMPTS = 24
"""Each attempt waits up to the server's read timeout (5 s): two minutes in all before a test gives up."""


def after(
    client: ApiClient,
    method: str,
    path: str,
    position: int,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
) -> httpx.Response:
    """The answer once the read model has applied `position` (a 503 "not yet" is asked again)."""
    for _ in range(ATTEMPTS):
        if method == "GET":
            response = client.get(path, params={**(params or {}), "min_position": position})
        else:
            response = client.request(method, path, json={**(json or {}), "min_position": position})
        if response.status_code != 503:
            return response
    raise AssertionError(f"{path} did not reach position {position}: {response.text}")

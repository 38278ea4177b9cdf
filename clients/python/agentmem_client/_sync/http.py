# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""The HTTP core: credentials, retries with backoff (honouring Retry-After), and the read-your-writes position."""

from __future__ import annotations

import random
import time
from typing import Any, TypeVar

import httpx
import msgspec

from agentmem_client.errors import APIConnectionError, error_from_response, retry_after

T = TypeVar("T")
POSITION_HEADER = "agentmem-position"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean "not done, try again": rate limits, a read model behind, a dependency restarting."""
RESENDABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Requests that may be sent again after a dropped connection (POSTs only with an Idempotency-Key)."""
USER_AGENT = "agentmem-client-python/0.1.0"


def backoff(attempt: int, base: float = 0.25, cap: float = 8.0) -> float:
    """Exponential backoff with jitter: about 0.25 s, 0.5 s, 1 s, … up to `cap`."""
    return min(cap, base * 2**attempt) * (0.5 + random.random() / 2)


class HttpCore:
    """Sends requests for every resource group and remembers the newest log position this client wrote."""

    _sleep = staticmethod(time.sleep)

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        timeout: float,
        max_retries: int,
        max_retry_wait: float,
        read_your_writes: bool,
        headers: dict[str, str] | None,
        http_client: httpx.Client | None,
    ) -> None:
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.client = http_client or httpx.Client(base_url=url, timeout=timeout)
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.read_your_writes = read_your_writes
        self.last_position = 0

    def min_position(self, given: int | None) -> int | None:
        """What a read waits for: the given position, else (read-your-writes) the newest one this client wrote."""
        if given is not None:
            return given
        return self.last_position if self.read_your_writes and self.last_position else None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Sends with retries: 429/502/503/504 always (after Retry-After or a backoff), a dropped connection only
        when sending again cannot duplicate anything (safe methods, or an Idempotency-Key)."""
        merged = {**self.headers, **(headers or {})}
        content = None
        if json is not None:
            content = msgspec.json.encode(json)
            merged["Content-Type"] = "application/json"
        resendable = method in RESENDABLE_METHODS or "Idempotency-Key" in merged
        attempt = 0
        while True:
            try:
                response = self.client.request(method, path, params=params, content=content, headers=merged)
            except httpx.TransportError as error:
                never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))
                if attempt >= self.max_retries or not (resendable or never_sent):
                    raise APIConnectionError(f"{method} {path}: {error or type(error).__name__}") from error
                delay = backoff(attempt)
            else:
                if response.status_code < 400:
                    self._note_position(response)
                    return response
                delay = retry_after(response.headers) or backoff(attempt)
                if (
                    response.status_code not in RETRY_STATUSES
                    or attempt >= self.max_retries
                    or delay > self.max_retry_wait
                ):
                    raise error_from_response(response)
            attempt += 1
            self._sleep(delay)

    def call(
        self,
        method: str,
        path: str,
        into: type[T],
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> T:
        """Sends and decodes the answer into a typed result."""
        response = self.request(method, path, params=params, json=json, headers=headers)
        return msgspec.json.decode(response.content, type=into)

    def position_of(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None) -> int:
        """Sends a request answered without a body (204) and gives the log position of its event."""
        response = self.request(method, path, json=json, headers=headers)
        return int(response.headers.get(POSITION_HEADER, 0))

    def _note_position(self, response: httpx.Response) -> None:
        position = response.headers.get(POSITION_HEADER)
        if position and position.isdigit():
            self.last_position = max(self.last_position, int(position))

    def close(self) -> None:
        self.client.close()

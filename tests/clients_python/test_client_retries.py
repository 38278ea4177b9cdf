"""Retries against the real server: 429 from the rate limiter honouring Retry-After, and an add whose answer was
lost on a dropped connection, retried with the same Idempotency-Key, creating one memory."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from agentmem_client import AgentMem, APIConnectionError, RateLimitError

from agentmem.infrastructure.settings import Settings
from tests.clients import ApiClient, create_org


def read_message(sock: socket.socket) -> bytes:
    """One HTTP/1.1 message: the head, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


class DroppingProxy:
    """Forwards connections to the server; when armed, delivers the next request and waits for the server's
    answer (so the write is committed), then closes the client's connection without it."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.armed = False
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        if self.armed:
            self.armed = False
            upstream.sendall(read_message(conn))
            assert read_message(upstream).startswith(b"HTTP/1.1 2")
            self.dropped += 1
            conn.close()
            upstream.close()
            return
        threading.Thread(target=self._pipe, args=(upstream, conn), daemon=True).start()
        self._pipe(conn, upstream)

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            target.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def proxy(live_url: str) -> Iterator[DroppingProxy]:
    dropping = DroppingProxy(live_url)
    yield dropping
    dropping.close()


def test_an_add_whose_answer_was_lost_is_retried_with_its_idempotency_key_and_stored_once(
    proxy: DroppingProxy, client: ApiClient
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    with AgentMem(proxy.url, client.secret) as am:
        proxy.armed = True
        added = am.memories.add("the parcel is at the neighbour's", user_id=user)
        assert proxy.dropped == 1
        assert [m.id for m in am.memories.list(user_id=user).items] == [added.id]
        assert [v.event_type for v in am.memories.history(added.id).versions] == ["Created"]


def test_a_create_without_idempotency_key_is_not_sent_twice_after_a_dropped_connection(
    proxy: DroppingProxy, client: ApiClient
) -> None:
    label = f"b{uuid.uuid4().hex[:8]}"
    with AgentMem(proxy.url, client.secret) as am:
        proxy.armed = True
        with pytest.raises(APIConnectionError):
            am.blocks.create(label, "once")
        am.blocks.create(f"{label}-later")  # a later write: reads now wait for a position past the lost answer's
        assert [b.label for b in am.blocks.list(label=label).items] == [label]  # sent once, stored once


def test_a_rate_limited_request_is_retried_after_the_servers_retry_after(
    live_url: str, admin: ApiClient, settings: Settings
) -> None:
    limited = create_org(admin, requests_per_minute=2)
    store = redis.Redis.from_url(str(settings.redis_url))
    waits: list[float] = []

    def minute_passes(seconds: float) -> None:
        """Instead of sleeping: record the wait, and end the organization's rate-limit window."""
        waits.append(seconds)
        for key in store.scan_iter(f"agentmem:rate*{limited.id}*"):
            store.delete(key)

    with AgentMem(live_url, limited.owner_key, max_retries=1) as am:
        am._http._sleep = minute_passes  # type: ignore[method-assign]
        am.me()
        am.me()
        assert am.me().organization_id == limited.id  # the third in the minute got 429, then succeeded
        assert len(waits) == 1 and waits[0] == int(waits[0]) and 1 <= waits[0] <= 60
        am.me()
    with AgentMem(live_url, limited.owner_key, max_retries=0) as impatient:
        with pytest.raises(RateLimitError) as limited_out:
            impatient.me()  # the third in this window, not retried
        assert limited_out.value.status == 429 and limited_out.value.retry_after is not None
        assert "requests per minute" in limited_out.value.detail

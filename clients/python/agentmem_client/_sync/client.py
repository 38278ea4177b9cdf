# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""AsyncAgentMem: one object per server and credential, with a group per resource."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import httpx
import msgspec

from agentmem_client._sync.agents import Agents, Messages
from agentmem_client._sync.blocks import Blocks
from agentmem_client._sync.chat import Chat
from agentmem_client._sync.http import HttpCore
from agentmem_client._sync.identity import ApiKeys, Audit, Auth, Organizations, Users
from agentmem_client._sync.memories import Memories
from agentmem_client.types import Me

DEFAULT_URL = "http://127.0.0.1:8000"


class AgentMem:
    """Talks to an AgentMem server: `url` and `api_key` default to AGENTMEM_URL and AGENTMEM_API_KEY.

    Requests answered with 429/503 (and 502/504) are retried up to `max_retries` times, after the server's
    Retry-After or an exponential backoff; a dropped connection is retried only when that cannot duplicate a
    write. With `read_your_writes` (default), lists and searches wait until the server's read models hold every
    write this client made (the newest `position` it saw), so an add is always found by the next search.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        read_your_writes: bool = True,
        headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.url = (url or os.environ.get("AGENTMEM_URL") or DEFAULT_URL).rstrip("/")
        self._http = HttpCore(
            self.url,
            api_key if api_key is not None else os.environ.get("AGENTMEM_API_KEY"),
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            read_your_writes=read_your_writes,
            headers=headers,
            http_client=http_client,
        )
        self.memories = Memories(self._http)
        self.blocks = Blocks(self._http)
        self.agents = Agents(self._http)
        self.messages = Messages(self._http)
        self.chat = Chat(self._http)
        self.api_keys = ApiKeys(self._http)
        self.users = Users(self._http)
        self.organizations = Organizations(self._http)
        self.audit = Audit(self._http)
        self.auth = Auth(self._http)

    @property
    def last_position(self) -> int:
        """The newest log position this client wrote (reads wait for it when read_your_writes is on)."""
        return self._http.last_position

    def me(self) -> Me:
        """Who the credentials belong to: organization, role, permissions, limits."""
        return self._http.call("GET", "/v1/me", Me)

    def health(self) -> bool:
        """Whether the server answers (no credentials needed)."""
        response = self._http.request("GET", "/health")
        return response.status_code == 200

    def projections(self) -> dict[str, Any]:
        """Superadmins: each projection's position, lag and rate, and the head of the log."""
        response = self._http.request("GET", "/v1/admin/projections")
        answer: dict[str, Any] = msgspec.json.decode(response.content)
        return answer

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AgentMem:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

"""The real MCP client from the SDK against the real server, over streamable HTTP and over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import msgspec
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult


@asynccontextmanager
async def http_session(url: str, api_key: str | None) -> AsyncIterator[Client]:
    """An MCP client session over streamable HTTP to `<url>/mcp`, presenting `api_key` as a bearer token."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
    ):
        yield client


def answer(result: CallToolResult) -> Any:
    """A tool's JSON answer (its text content), success or error."""
    text = result.content[0].text  # type: ignore[union-attr]
    return msgspec.json.decode(text)

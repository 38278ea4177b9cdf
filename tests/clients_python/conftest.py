"""The Python client against the real server (uvicorn on a socket, embedded PostgreSQL and Valkey, projections)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agentmem_client import AgentMem

from tests.clients import Org


@pytest.fixture(scope="module")
def am(live_url: str, org: Org) -> Iterator[AgentMem]:
    """The sync client holding the owner key of the module's own organization."""
    with AgentMem(live_url, org.owner_key) as client:
        yield client


def role_client(live_url: str, org: Org, role: str) -> AgentMem:
    """A client holding a new key of the organization with the given role."""
    return AgentMem(live_url, org.client_with_role(role).secret)

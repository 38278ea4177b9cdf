"""Pagination as iterators, and the async client, against the real server."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from agentmem_client import AgentMem, AsyncAgentMem

from tests.clients import Org

CLIENT_DIR = Path(__file__).parents[2] / "clients" / "python"


def test_iterating_250_memories_reads_three_pages_newest_first_and_sees_every_one(am: AgentMem) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    written = am.memories.add_batch([{"text": f"note {i}", "user_id": user} for i in range(250)])
    seen = [m.id for m in am.memories.iterate(user_id=user, page_size=100)]
    assert len(seen) == 250 and set(seen) == {w.id for w in written.memories}
    oldest_first = [m.text for m in am.memories.iterate(user_id=user, order="created_asc", page_size=100)]
    assert oldest_first[:2] == ["note 0", "note 1"] and oldest_first[-1] == "note 249"
    first = am.memories.list(user_id=user, limit=100)
    second = am.memories.list(user_id=user, limit=100, cursor=first.next_cursor)
    third = am.memories.list(user_id=user, limit=100, cursor=second.next_cursor)
    assert (len(first.items), len(second.items), len(third.items), third.next_cursor) == (100, 100, 50, None)


async def test_the_async_client_adds_searches_and_iterates(live_url: str, org: Org) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    async with AsyncAgentMem(live_url, org.owner_key) as am:
        added = await am.memories.add("Bob's bicycle is red", user_id=user)
        found = await am.memories.search("what colour is the bicycle?", user_id=user)
        assert found.results[0].id == added.id
        assert [m.id async for m in am.memories.iterate(user_id=user)] == [added.id]
        assert (await am.me()).organization_id == org.id


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    check = subprocess.run(
        [sys.executable, str(CLIENT_DIR / "generate_sync.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr

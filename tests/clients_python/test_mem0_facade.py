"""The mem0-style facade: mem0's basic usage, unchanged but for the import, answers in mem0's shapes."""

from __future__ import annotations

import uuid

import pytest
from agentmem_client import AgentMemError, AsyncMemory, Memory

from tests.clients import Org

MESSAGES = [
    {"role": "user", "content": "I'm planning to watch a movie tonight. Any recommendations?"},
    {"role": "assistant", "content": "How about thriller movies? They can be quite engaging."},
    {"role": "user", "content": "I'm not a big fan of thriller movies but I love sci-fi movies."},
]


def test_mem0_basic_usage_add_search_get_all_get_update_history_delete(live_url: str, org: Org) -> None:
    alice = f"alice-{uuid.uuid4().hex[:6]}"
    m = Memory(url=live_url, api_key=org.owner_key)
    added = m.add(MESSAGES, user_id=alice, metadata={"category": "movies"}, infer=False)
    assert [r["event"] for r in added["results"]] == ["ADD", "ADD", "ADD"]
    assert (
        set(added["results"][0]) >= {"id", "memory", "event"}
        and added["results"][0]["memory"] == MESSAGES[0]["content"]
    )

    found = m.search("which movies does the user love?", user_id=alice, limit=3)["results"]
    assert found[0]["memory"] == MESSAGES[2]["content"]
    assert set(found[0]) >= {"id", "memory", "hash", "score", "created_at", "updated_at", "user_id", "metadata"}
    assert found[0]["metadata"] == {"category": "movies", "role": "user"} and found[0]["user_id"] == alice
    answers = m.search("movies", filters={"user_id": alice, "role": "assistant"}, top_k=5)["results"]  # mem0 2.x
    assert [r["metadata"]["role"] for r in answers] == ["assistant"]

    everything = m.get_all(user_id=alice)["results"]
    assert {r["memory"] for r in everything} == {msg["content"] for msg in MESSAGES}
    assert len(m.get_all(filters={"user_id": alice}, top_k=2)["results"]) == 2

    memory_id = found[0]["id"]
    assert m.get(memory_id)["memory"] == MESSAGES[2]["content"]
    assert m.update(memory_id, "The user loves sci-fi movies") == {"message": "Memory updated successfully!"}
    assert m.get(memory_id)["memory"] == "The user loves sci-fi movies"
    assert m.delete(memory_id) == {"message": "Memory deleted successfully!"}
    assert m.get(memory_id) is None
    history = m.history(memory_id)
    assert [h["event"] for h in history] == ["ADD", "UPDATE", "DELETE"]
    assert (history[1]["old_memory"], history[1]["new_memory"]) == (
        MESSAGES[2]["content"],
        "The user loves sci-fi movies",
    )
    assert history[2]["is_deleted"] == 1 and history[0]["memory_id"] == memory_id

    assert m.delete_all(user_id=alice) == {"message": "Memories deleted successfully!"}
    assert m.get_all(user_id=alice)["results"] == []


def test_infer_true_says_what_to_do_instead(live_url: str, org: Org) -> None:
    with pytest.raises(AgentMemError, match="infer=False"):
        Memory(url=live_url, api_key=org.owner_key).add("I live in Lisbon", user_id="bob")


async def test_the_async_facade_has_the_same_shapes(live_url: str, org: Org) -> None:
    bob = f"bob-{uuid.uuid4().hex[:6]}"
    async with AsyncMemory(url=live_url, api_key=org.owner_key) as m:
        added = await m.add("Bob lives in Porto", user_id=bob, infer=False)
        assert added["results"][0]["memory"] == "Bob lives in Porto"
        found = await m.search("where does Bob live?", user_id=bob)
        assert found["results"][0]["id"] == added["results"][0]["id"]

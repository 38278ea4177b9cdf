"""Every endpoint group through the sync client, against the real server: typed results and typed errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from agentmem_client import (
    AgentMem,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from agentmem_client.types import Memory, MemoryHit

from tests.clients import ApiClient, Org
from tests.clients_python.conftest import role_client


def test_memories_add_read_back_in_time_edit_delete_restore_and_history(am: AgentMem) -> None:
    added = am.memories.add("Alice prefers green tea", user_id="alice", metadata={"source": "chat"})
    assert added.version == 1 and added.position > 0 and am.last_position >= added.position
    instant = datetime.now(UTC)
    edited = am.memories.update(added.id, text="Alice prefers coffee", expected_version=1)
    assert (edited.version, edited.text) == (2, "Alice prefers coffee")
    assert am.memories.get(added.id, version=1).text == "Alice prefers green tea"
    assert am.memories.get(added.id, as_of=instant).text == "Alice prefers green tea"
    with pytest.raises(ConflictError) as stale:
        am.memories.update(added.id, text="stale", expected_version=1)
    assert stale.value.status == 409 and stale.value.current_version == 2
    deleted = am.memories.delete(added.id)
    assert deleted.position > edited.position
    with pytest.raises(NotFoundError):
        am.memories.get(added.id)
    assert am.memories.get(added.id, include_deleted=True).deleted
    assert am.memories.restore(added.id).version == 4
    history = am.memories.history(added.id)
    assert [v.event_type for v in history.versions] == ["Created", "Updated", "Deleted", "Restored"]
    assert history.versions[1].changes["text"].old == "Alice prefers green tea"


def test_search_and_list_see_the_clients_own_writes_without_passing_positions(am: AgentMem) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    added = am.memories.add("The blue door is behind the bakery", user_id=user, memory_type="episodic")
    found = am.memories.search("where is the blue door?", user_id=user)
    assert isinstance(found.results[0], MemoryHit) and found.results[0].id == added.id
    assert found.results[0].score > 0 and found.mode == "hybrid"
    page = am.memories.list(user_id=user, memory_type=["episodic"])
    assert [m.id for m in page.items] == [added.id] and isinstance(page.items[0], Memory)
    batch = am.memories.add_batch([{"text": f"fact {i}", "user_id": user, "metadata": {"i": i}} for i in range(3)])
    assert len(batch.memories) == 3 and batch.position == am.last_position
    only = am.memories.list(user_id=user, filters={"i": {"gte": 1}})
    assert sorted(m.metadata["i"] for m in only.items) == [1, 2]


def test_bad_input_is_a_validation_error_naming_the_field(am: AgentMem) -> None:
    with pytest.raises(ValidationError) as invalid:
        am.memories.add("x", memory_type="dream")  # type: ignore[arg-type]
    assert invalid.value.status == 422 and invalid.value.errors[0].field == "memory_type"
    with pytest.raises(ValidationError) as empty:
        am.memories.search("", limit=5)
    assert empty.value.errors and empty.value.errors[0].field == "query"


def test_blocks_agents_context_and_messages(am: AgentMem) -> None:
    persona = am.blocks.create("persona", "I am Ada, a patient tutor.", limit=500)
    human = am.blocks.create("human", "Sam is learning French.", limit=100)
    agent = am.agents.create("tutor", system="Teach kindly.", block_ids=[persona.id], tags=["tutor"])
    attached = am.agents.attach_blocks(agent.id, [human.id])
    assert attached.block_ids == [persona.id, human.id]
    assert [b.label for b in am.agents.blocks(agent.id)] == ["persona", "human"]
    context = am.agents.context(agent.id)
    assert "Sam is learning French." in context.context and [b.label for b in context.blocks] == ["persona", "human"]
    appended = am.blocks.append(human.id, "Sam likes chess.")
    assert appended.value == "Sam is learning French.\nSam likes chess." and appended.version == 2
    with pytest.raises(ValidationError) as over:
        am.blocks.append(human.id, "x" * 100)
    assert over.value.body["limit"] == 100
    assert am.blocks.revert(human.id, 1).value == "Sam is learning French."
    assert [b.id for b in am.blocks.list(agent_id=agent.id).items] == [human.id, persona.id]
    assert [e.event_type for e in am.blocks.history(human.id).versions][-1] == "Reverted"
    assert am.agents.update(agent.id, description="A tutor", expected_version=2).description == "A tutor"
    assert [a.id for a in am.agents.list(tags=["tutor"]).items] == [agent.id]
    assert am.agents.detach_block(agent.id, persona.id).block_ids == [human.id]

    written = am.messages.append(
        agent.id, [{"role": "user", "content": "Bonjour!"}, {"role": "assistant", "content": "Hi"}]
    )
    assert [m.seq for m in written.messages] == [0, 1]
    assert [m.content for m in am.messages.iterate(agent.id)] == ["Bonjour!", "Hi"]
    assert am.messages.get(agent.id, written.messages[0].id).role == "user"
    assert am.messages.search(agent.id, "bonjour", mode="text").results[0].content == "Bonjour!"
    assert am.agents.delete(agent.id).position > 0
    assert am.agents.restore(agent.id).deleted is False
    assert [v.event_type for v in am.agents.history(agent.id).versions][-2:] == ["Deleted", "Restored"]
    assert am.blocks.delete(persona.id).position > 0 and am.blocks.restore(persona.id).deleted is False


def test_keys_users_organizations_audit_auth_and_me(live_url: str, am: AgentMem, org: Org) -> None:
    me = am.me()
    assert (me.organization_id, me.role) == (org.id, "owner") and "memories:write" in me.permissions
    key = am.api_keys.create("reporting", role="viewer")
    assert key.key.startswith("am_") and am.api_keys.get(key.id).role == "viewer"
    assert key.id in [k.id for k in am.api_keys.iterate()]
    viewer = AgentMem(live_url, key.key)
    assert viewer.me().role == "viewer"
    am.api_keys.revoke(key.id)
    with pytest.raises(AuthenticationError):
        viewer.me()

    email = f"{uuid.uuid4().hex[:8]}@example.com"
    user = am.users.create(email, name="Sam", role="member", password="correct horse")
    assert am.users.update(user.id, name="Samuel").name == "Samuel"
    assert user.id in [u.id for u in am.users.iterate()]
    token = am.auth.token(email, "correct horse")
    with AgentMem(live_url, token.access_token) as person:
        assert person.me().user_id == user.id
        refreshed = person.auth.refresh()
    assert am.users.disable(user.id).disabled and not am.users.enable(user.id).disabled
    with AgentMem(live_url, refreshed.access_token) as person:
        person.auth.logout()
        with pytest.raises(AuthenticationError):
            person.me()
    am.users.delete(user.id)
    with pytest.raises(NotFoundError):
        am.users.get(user.id)

    assert [o.id for o in am.organizations.list().items] == [org.id]
    assert am.organizations.update(org.id, name=org.name).name == org.name
    trail = list(am.audit.iterate(aggregate_id=user.id))
    assert [e.action for e in trail][:2] == ["User.Created", "User.Updated"] and trail[-1].action == "User.Deleted"


def test_a_viewer_cannot_write_and_another_organizations_ids_are_not_found(
    live_url: str, am: AgentMem, org: Org, admin: ApiClient
) -> None:
    mine = am.memories.add("mine")
    with role_client(live_url, org, "viewer") as viewer:
        assert viewer.memories.get(mine.id).text == "mine"
        with pytest.raises(PermissionDeniedError) as refused:
            viewer.memories.add("not allowed")
        assert refused.value.detail == "your role (viewer) does not grant memories:write"
    other = AgentMem(live_url, admin.secret)
    with pytest.raises(NotFoundError):
        other.memories.get(mine.id)
    assert other.health()

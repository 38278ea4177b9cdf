"""/v1/organizations, /v1/users, /v1/api-keys, /v1/audit and /v1/me over HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.clients import ApiClient, Org, create_org

pytestmark = pytest.mark.usefixtures("worker")


def email() -> str:
    return f"u-{uuid.uuid4().hex[:8]}@example.com"


def test_the_bootstrap_key_belongs_to_the_default_owner_who_is_superadmin(admin: ApiClient) -> None:
    me = admin.get("/v1/me").json()
    assert me["organization_name"] == "default" and me["superadmin"] is True
    assert {"orgs:create", "orgs:manage", "projections:admin"} <= set(me["permissions"])


def test_a_superadmin_creates_renames_suspends_and_deletes_an_organization(admin: ApiClient) -> None:
    created = admin.post("/v1/organizations", json={"name": f"acme-{uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201
    body = created.json()
    assert body["owner_api_key"].startswith("am_") and body["status"] == "active"
    owner = ApiClient(admin.http, body["owner_api_key"])
    url = f"/v1/organizations/{body['id']}"
    assert owner.get(url).json()["name"] == body["name"]
    renamed = owner.patch(url, json={"name": body["name"] + "-renamed"})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    assert owner.patch(url, json={"quotas": {"max_memories": 10**9}}).status_code == 403
    assert owner.patch(url, json={"status": "suspended"}).status_code == 403
    assert admin.patch(url, json={"quotas": {"max_memories": 5}}).json()["quotas"]["max_memories"] == 5
    assert admin.patch(url, json={"status": "suspended"}).json()["status"] == "suspended"
    assert owner.get("/v1/me").status_code == 403
    assert admin.patch(url, json={"status": "active"}).status_code == 200
    assert owner.get("/v1/me").json()["max_memories"] == 5
    listed = admin.get("/v1/organizations", params={"min_position": renamed.json()["position"], "limit": 100})
    assert body["id"] in [o["id"] for o in listed.json()["items"]]
    assert owner.delete(url).status_code == 403
    assert admin.delete(url).status_code == 204
    assert owner.get("/v1/me").status_code == 401
    assert admin.get(url).status_code == 404


def test_organization_names_are_unique_and_free_again_after_delete(admin: ApiClient) -> None:
    name = f"unique-{uuid.uuid4().hex[:6]}"
    first = admin.post("/v1/organizations", json={"name": name}).json()
    duplicate = admin.post("/v1/organizations", json={"name": name.upper()})
    assert duplicate.status_code == 409 and "taken" in duplicate.json()["detail"]
    assert admin.delete(f"/v1/organizations/{first['id']}").status_code == 204
    assert admin.post("/v1/organizations", json={"name": name}).status_code == 201


def test_bad_organization_input_is_422_naming_the_field(admin: ApiClient) -> None:
    for body, field in (
        ({"name": ""}, "name"),
        ({"name": "x", "quotas": {"max_memories": 0}}, "quotas.max_memories"),
        ({"name": "x", "quotas": {"bananas": 3}}, "quotas"),
        ({"name": "x", "tenant": "y"}, "tenant"),
    ):
        response = admin.post("/v1/organizations", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]]


def test_nobody_deletes_or_suspends_the_organization_they_are_signed_in_to(admin: ApiClient) -> None:
    me = admin.get("/v1/me").json()
    assert admin.delete(f"/v1/organizations/{me['organization_id']}").status_code == 409
    suspend = admin.patch(f"/v1/organizations/{me['organization_id']}", json={"status": "suspended"})
    assert suspend.status_code == 409 and "signed in" in suspend.json()["detail"]
    assert admin.get("/v1/me").status_code == 200


def test_users_are_created_listed_updated_disabled_and_deleted(org: Org) -> None:
    owner = org.owner
    address = email()
    created = owner.post("/v1/users", json={"email": address.upper(), "name": "Ann", "role": "viewer"})
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == address and user["role"] == "viewer" and "password" not in user
    assert "password_hash" not in json.dumps(user)
    assert owner.post("/v1/users", json={"email": address}).status_code == 409
    url = f"/v1/users/{user['id']}"
    updated = owner.patch(url, json={"name": "Ann B.", "role": "member", "password": "longenough"})
    assert updated.status_code == 200 and updated.json()["role"] == "member" and updated.json()["version"] == 3
    assert owner.patch(url, json={"password": "short"}).status_code == 422
    assert owner.patch(url, json={"role": "superadmin"}).status_code == 422
    assert owner.post(f"{url}/disable").json()["disabled"] is True
    listed = owner.get("/v1/users", params={"min_position": owner.post(f"{url}/disable").json()["position"]})
    assert [u["disabled"] for u in listed.json()["items"] if u["id"] == user["id"]] == [True]
    deleted = owner.delete(url)
    assert deleted.status_code == 204 and owner.get(url).status_code == 404
    assert owner.post("/v1/users", json={"email": address}).status_code == 201  # the email is free again


def test_users_lists_page_with_cursors(org: Org) -> None:
    made = [org.owner.post("/v1/users", json={"email": email(), "role": "viewer"}).json() for _ in range(5)]
    seen: list[str] = []
    params: dict[str, object] = {"limit": 2, "min_position": made[-1]["position"]}
    while True:
        page = org.owner.get("/v1/users", params=params).json()
        seen += [u["id"] for u in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert len(seen) == len(set(seen)) and {u["id"] for u in made} <= set(seen)
    assert org.owner.get("/v1/users", params={"cursor": "not-a-cursor"}).status_code == 400


def test_a_member_reads_users_but_cannot_manage_them(org: Org) -> None:
    member = org.client_with_role("member")
    assert member.get("/v1/users").status_code == 200
    assert member.post("/v1/users", json={"email": email()}).status_code == 403
    assert member.get("/v1/audit").status_code == 403


def test_the_audit_trail_filters_pages_and_exports_ndjson(admin: ApiClient) -> None:
    org = create_org(admin)
    member = org.client_with_role("member")
    memory = member.post("/v1/memories", json={"text": "audited"}).json()
    member.patch(f"/v1/memories/{memory['id']}", json={"text": "audited twice"})
    last = member.delete(f"/v1/memories/{memory['id']}")
    position = int(last.headers["AgentMem-Position"])
    owner = org.owner
    everything = owner.get("/v1/audit", params={"min_position": position, "limit": 1000}).json()["items"]
    assert [e["position"] for e in everything] == sorted(e["position"] for e in everything)
    member_actor = member.get("/v1/me").json()["actor_id"]
    by_actor = owner.get("/v1/audit", params={"actor_id": member_actor}).json()["items"]
    assert [e["action"] for e in by_actor] == ["Memory.Created", "Memory.Updated", "Memory.Deleted"]
    by_aggregate = owner.get("/v1/audit", params={"aggregate_id": memory["id"], "order": "desc"}).json()["items"]
    assert [e["version"] for e in by_aggregate] == [3, 2, 1]
    assert {e["aggregate_type"] for e in by_aggregate} == {"Memory"}
    by_action = owner.get("/v1/audit", params={"action": "Memory.Updated"}).json()["items"]
    assert [e["aggregate_id"] for e in by_action] == [memory["id"]]
    keys = owner.get("/v1/audit", params={"aggregate_type": "ApiKey"}).json()["items"]
    assert len(keys) == 2  # the owner key and the member key
    future = owner.get("/v1/audit", params={"since": datetime.now(UTC).isoformat()}).json()["items"]
    assert future == []
    until = owner.get("/v1/audit", params={"until": everything[1]["timestamp"]}).json()["items"]
    assert all(e["timestamp"] < everything[1]["timestamp"] for e in until)
    pages, params = [], {"limit": 2}
    while True:
        page = owner.get("/v1/audit", params=params).json()
        pages.append(page["items"])
        if not page["next_cursor"]:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert [e for p in pages for e in p] == everything and all(len(p) <= 2 for p in pages)
    export = owner.get("/v1/audit", headers={"Accept": "application/x-ndjson"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines == everything
    assert owner.get("/v1/audit", params={"cursor": "abc"}).status_code == 400
    assert owner.get("/v1/audit", params={"since": "2026-01-01T00:00:00"}).status_code == 400


def test_an_email_is_unique_per_organization_and_another_owner_learns_nothing(admin: ApiClient) -> None:
    first, second = create_org(admin), create_org(admin)
    address, password = email(), "same password for both"
    in_first = first.owner.post("/v1/users", json={"email": address, "role": "member", "password": password})
    assert in_first.status_code == 201
    in_second = second.owner.post("/v1/users", json={"email": address.upper(), "role": "member", "password": password})
    assert in_second.status_code == 201  # not 409: the other organization's user stays invisible
    taken = second.owner.post("/v1/users", json={"email": address})
    assert taken.status_code == 409 and "in this organization" in taken.json()["detail"]
    sign_in = {"email": address, "password": password}
    ambiguous = admin.http.post("/v1/auth/token", json=sign_in)
    assert ambiguous.status_code == 422 and ambiguous.json()["errors"][0]["field"] == "organization"
    named = admin.http.post("/v1/auth/token", json={**sign_in, "organization": second.name})
    assert named.status_code == 200
    me = admin.http.get("/v1/me", headers={"Authorization": f"Bearer {named.json()['access_token']}"}).json()
    assert me["organization_id"] == second.id and me["user_id"] == in_second.json()["id"]

    assert admin.delete(f"/v1/organizations/{first.id}").status_code == 204
    alone = admin.http.post("/v1/auth/token", json=sign_in)  # the deleted organization's account no longer counts
    assert alone.status_code == 200
    me = admin.http.get("/v1/me", headers={"Authorization": f"Bearer {alone.json()['access_token']}"}).json()
    assert me["organization_id"] == second.id and me["user_id"] == in_second.json()["id"]
    refused = admin.http.post("/v1/auth/token", json={**sign_in, "organization": first.id})
    assert refused.status_code == 401
    third = create_org(admin)
    assert third.owner.post("/v1/users", json={"email": address, "role": "viewer"}).status_code == 201

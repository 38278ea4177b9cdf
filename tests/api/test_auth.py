"""Authentication and authorization: every route needs credentials and declares its permission."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from agentmem.application.permissions import PERMISSIONS, ROLE_PERMISSIONS, matrix_markdown
from agentmem.infrastructure.secrets import derived_key
from tests.clients import SECRET_KEY, ApiClient, Org, create_org

PUBLIC = {("GET", "/health"), ("GET", "/ready"), ("POST", "/v1/auth/token"), ("GET", "/metrics")}
"""Routes the permission guard lets through; /metrics checks its own credentials (tests/api/test_metrics.py)."""


def app_routes(app: Litestar) -> list[tuple[str, str, Any]]:
    """Every (method, path, handler) of the app, except the OpenAPI schema routes."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/schema"):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.append((method, route.path, handler))
    return found


def concrete(path: str) -> str:
    """A path with every parameter filled in (a random uuid, or a word)."""
    return re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), re.sub(r"\{[^}:]+:(str|path)\}", "x", path))


def test_every_route_declares_a_known_permission_or_is_public(http: TestClient) -> None:
    undeclared = [
        (method, path)
        for method, path, handler in app_routes(http.app)
        if not handler.opt.get("public") and handler.opt.get("permission") not in PERMISSIONS
    ]
    assert undeclared == []
    public = {(m, p) for m, p, h in app_routes(http.app) if h.opt.get("public")}
    assert public == PUBLIC


def test_there_are_at_least_17_permissions_and_four_roles() -> None:
    assert len(PERMISSIONS) >= 17
    assert set(ROLE_PERMISSIONS) == {"owner", "member", "viewer", "superadmin"}
    assert ROLE_PERMISSIONS["viewer"] < ROLE_PERMISSIONS["member"] < ROLE_PERMISSIONS["owner"]
    assert ROLE_PERMISSIONS["owner"] < ROLE_PERMISSIONS["superadmin"]


def test_every_endpoint_without_credentials_is_401(http: TestClient) -> None:
    checked = 0
    for method, path, handler in app_routes(http.app):
        if handler.opt.get("public"):
            continue
        response = http.request(method, concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["status"] == 401 and response.headers["www-authenticate"] == "Bearer"
        checked += 1
    assert checked >= 25


def test_a_viewer_key_reads_but_every_write_is_403(http: TestClient, org: Org) -> None:
    viewer = org.client_with_role("viewer")
    memory = org.owner.post("/v1/memories", json={"text": "visible to viewers"}).json()
    assert viewer.get(f"/v1/memories/{memory['id']}").status_code == 200
    refused = 0
    for method, path, handler in app_routes(http.app):
        permission = handler.opt.get("permission")
        if handler.opt.get("public") or permission in ROLE_PERMISSIONS["viewer"]:
            continue
        response = viewer.request(method, concrete(path), json={})
        assert response.status_code == 403, (method, path, response.text)
        refused += 1
    assert refused >= 20
    assert viewer.get(f"/v1/memories/{memory['id']}").json()["text"] == "visible to viewers"


def test_an_api_key_works_as_bearer_and_as_x_api_key(http: TestClient, org: Org) -> None:
    as_bearer = http.get("/v1/me", headers={"Authorization": f"Bearer {org.owner_key}"})
    as_header = http.get("/v1/me", headers={"X-API-Key": org.owner_key})
    assert as_bearer.status_code == as_header.status_code == 200
    me = as_bearer.json()
    assert me["organization_id"] == org.id and me["role"] == "owner" and me["kind"] == "api_key"
    assert "memories:write" in me["permissions"] and "orgs:create" not in me["permissions"]


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer am_thisIsNotAKeyThatExists0123456789abcdefgh"},
        {"Authorization": "Bearer short"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"X-API-Key": "am_thisIsNotAKeyThatExists0123456789abcdefgh"},
    ],
)
def test_unknown_or_malformed_credentials_are_401(http: TestClient, header: dict[str, str]) -> None:
    response = http.get("/v1/me", headers=header)
    assert response.status_code == 401 and response.json()["status"] == 401


def test_a_key_that_differs_only_after_its_prefix_is_refused(http: TestClient, org: Org) -> None:
    forged = org.owner_key[:-4] + ("AAAA" if not org.owner_key.endswith("AAAA") else "BBBB")
    assert http.get("/v1/me", headers={"X-API-Key": forged}).status_code == 401


def test_a_revoked_key_is_refused_on_the_very_next_request(org: Org) -> None:
    created = org.owner.post("/v1/api-keys", json={"name": "short-lived", "role": "member"}).json()
    member = ApiClient(org.owner.http, created["key"])
    assert member.post("/v1/memories", json={"text": "before revocation"}).status_code == 201
    assert org.owner.delete(f"/v1/api-keys/{created['id']}").status_code == 204
    refused = member.post("/v1/memories", json={"text": "after revocation"})
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert org.owner.delete(f"/v1/api-keys/{created['id']}").status_code == 409


def test_a_key_cannot_revoke_itself(org: Org) -> None:
    created = org.owner.post("/v1/api-keys", json={"name": "self-revoker", "role": "owner"}).json()
    itself = ApiClient(org.owner.http, created["key"])
    refused = itself.delete(f"/v1/api-keys/{created['id']}")
    assert refused.status_code == 409 and "key you are using" in refused.json()["detail"]
    assert itself.get("/v1/me").status_code == 200
    assert org.owner.delete(f"/v1/api-keys/{created['id']}").status_code == 204


def test_a_key_that_would_expire_in_the_past_is_refused_naming_the_field(org: Org) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    refused = org.owner.post("/v1/api-keys", json={"name": "expired", "role": "viewer", "expires_at": past})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "expires_at"
    assert "future" in refused.json()["detail"]


def test_an_expired_key_is_refused(org: Org) -> None:
    soon = datetime.now(UTC) + timedelta(milliseconds=300)
    created = org.owner.post("/v1/api-keys", json={"name": "soon", "role": "viewer", "expires_at": soon.isoformat()})
    key = ApiClient(org.owner.http, created.json()["key"])
    deadline = soon + timedelta(seconds=10)
    while (response := key.get("/v1/me")).status_code == 200 and datetime.now(UTC) < deadline:
        pass  # usable until it expires, a few hundred milliseconds from now
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    valid = org.owner.post("/v1/api-keys", json={"name": "valid", "role": "viewer", "expires_at": future}).json()
    assert ApiClient(org.owner.http, valid["key"]).get("/v1/me").status_code == 200


@pytest.mark.usefixtures("worker")
def test_a_key_is_shown_once_and_stored_only_as_a_hash(org: Org) -> None:
    created = org.owner.post("/v1/api-keys", json={"name": "listed", "role": "viewer"})
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("am_") and len(body["key"]) >= 40 and body["prefix"] == body["key"][:12]
    fetched = org.owner.get(f"/v1/api-keys/{body['id']}").json()
    assert "key" not in fetched and fetched["prefix"] == body["prefix"]
    listed = org.owner.get("/v1/api-keys", params={"min_position": body["position"], "limit": 100}).json()
    assert body["id"] in [k["id"] for k in listed["items"]]
    assert all("key" not in k and "key_hash" not in k for k in listed["items"])


def test_nobody_grants_a_role_above_their_own(org: Org) -> None:
    member = org.client_with_role("member")
    assert member.post("/v1/api-keys", json={"name": "x", "role": "viewer"}).status_code == 403  # no keys:manage
    response = org.owner.post("/v1/api-keys", json={"name": "escalate", "role": "superadmin"})
    assert response.status_code == 403 and "superadmin" in response.json()["detail"]


@pytest.fixture(scope="module")
def person(org: Org) -> dict[str, str]:
    """A member of the module's organization who signs in with a password."""
    email = f"person-{uuid.uuid4().hex[:6]}@example.com"
    created = org.owner.post(
        "/v1/users", json={"email": email, "name": "Person", "role": "member", "password": "correct horse"}
    )
    assert created.status_code == 201, created.text
    return {"email": email, "password": "correct horse", "id": created.json()["id"]}


def sign_in(http: TestClient, person: dict[str, str]) -> dict[str, Any]:
    response = http.post("/v1/auth/token", json={"email": person["email"], "password": person["password"]})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_password_gets_a_24h_hs256_token_with_the_required_claims(http: TestClient, org: Org, person: dict) -> None:
    token = sign_in(http, person)
    assert token["token_type"] == "bearer" and token["expires_in"] == 24 * 3600
    header = jwt.get_unverified_header(token["access_token"])
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert {"sub", "org", "role", "jti", "iat", "exp"} <= set(claims)
    assert claims["sub"] == person["id"] and claims["org"] == org.id and claims["role"] == "member"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert me["kind"] == "user" and me["actor_id"] == f"user:{person['id']}" and me["organization_id"] == org.id


def test_a_wrong_password_or_unknown_email_is_401_with_the_same_message(http: TestClient, person: dict) -> None:
    wrong = http.post("/v1/auth/token", json={"email": person["email"], "password": "wrong password"})
    unknown = http.post("/v1/auth/token", json={"email": "nobody@example.com", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_password_guessing_is_limited_per_email(http: TestClient) -> None:
    target = f"target-{uuid.uuid4().hex[:6]}@example.com"
    body = {"email": target, "password": "guess-guess"}
    statuses = [http.post("/v1/auth/token", json=body).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert http.post("/v1/auth/token", json={**body, "email": "other-" + target}).status_code == 401


def _signed(claims: dict[str, Any], key: bytes | str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_expired_tampered_and_none_alg_tokens_are_401(http: TestClient, org: Org, person: dict) -> None:
    good = sign_in(http, person)["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    key = derived_key(SECRET_KEY.encode(), "jwt")
    now = int(time.time())
    header, payload, signature = good.split(".")
    other_payload = jwt.encode({**claims, "role": "owner"}, "x" * 32, algorithm="HS256").split(".")[1]
    unsigned = jwt.encode({**claims, "role": "owner"}, None, algorithm="none")
    cases = {
        "expired": _signed({**claims, "iat": now - 7200, "exp": now - 3600}, key),
        "tampered payload": f"{header}.{other_payload}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[::-1]}",
        "alg none": unsigned,
        "other key": _signed(claims, b"another secret that is long enough to be a key"),
        "HS512 instead of HS256": _signed(claims, key, "HS512"),
        "no jti": _signed({k: v for k, v in claims.items() if k != "jti"}, key),
        "another org": _signed({**claims, "org": str(uuid.uuid4())}, key),
    }
    for name, token in cases.items():
        response = http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.text)
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    forged_ok = _signed({**claims, "jti": uuid.uuid4().hex}, key)  # the right key makes a valid token
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {forged_ok}"}).status_code == 200


def test_logout_revokes_the_token_and_refresh_replaces_it(http: TestClient, person: dict) -> None:
    first = sign_in(http, person)["access_token"]
    refreshed = http.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {first}"})
    assert refreshed.status_code == 200
    second = refreshed.json()["access_token"]
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    assert http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {second}"}).status_code == 204
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_an_api_key_cannot_be_refreshed_or_logged_out(org: Org) -> None:
    assert org.owner.post("/v1/auth/refresh").status_code == 400
    assert org.owner.post("/v1/auth/logout").status_code == 400


def test_a_disabled_user_is_refused_at_once_and_enabled_again(http: TestClient, org: Org) -> None:
    email = f"temp-{uuid.uuid4().hex[:6]}@example.com"
    user = org.owner.post("/v1/users", json={"email": email, "role": "viewer", "password": "password123"}).json()
    token = sign_in(http, {"email": email, "password": "password123"})["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert http.get("/v1/me", headers=bearer).status_code == 200
    assert org.owner.post(f"/v1/users/{user['id']}/disable").json()["disabled"] is True
    assert http.get("/v1/me", headers=bearer).status_code == 401
    assert http.post("/v1/auth/token", json={"email": email, "password": "password123"}).status_code == 401
    assert org.owner.post(f"/v1/users/{user['id']}/enable").status_code == 200
    assert http.get("/v1/me", headers=bearer).status_code == 200


def test_a_role_change_applies_to_existing_tokens(http: TestClient, org: Org) -> None:
    email = f"promoted-{uuid.uuid4().hex[:6]}@example.com"
    user = org.owner.post("/v1/users", json={"email": email, "role": "viewer", "password": "password123"}).json()
    bearer = {"Authorization": f"Bearer {sign_in(http, {'email': email, 'password': 'password123'})['access_token']}"}
    assert http.post("/v1/memories", json={"text": "not yet"}, headers=bearer).status_code == 403
    assert org.owner.patch(f"/v1/users/{user['id']}", json={"role": "member"}).status_code == 200
    assert http.post("/v1/memories", json={"text": "now allowed"}, headers=bearer).status_code == 201


def test_requests_over_the_rate_limit_get_429_with_retry_after(admin: ApiClient) -> None:
    limited = create_org(admin, requests_per_minute=5)
    statuses = [limited.owner.get("/v1/me").status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    refused = limited.owner.get("/v1/me")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and "rate limit" in refused.json()["detail"]
    other = create_org(admin)
    assert other.owner.get("/v1/me").status_code == 200  # the limit is per organization


def test_writes_over_the_memory_quota_get_429_with_a_clear_message(admin: ApiClient) -> None:
    small = create_org(admin, max_memories=3)
    assert small.owner.post("/v1/memories/batch", json={"memories": [{"text": "a"}, {"text": "b"}]}).status_code == 201
    third = small.owner.post("/v1/memories", json={"text": "c"}).json()
    refused = small.owner.post("/v1/memories", json={"text": "d"})
    assert refused.status_code == 429 and "memory quota" in refused.json()["detail"]
    assert "Retry-After" not in refused.headers
    assert small.owner.post("/v1/memories/batch", json={"memories": [{"text": "e"}]}).status_code == 429
    assert small.owner.delete(f"/v1/memories/{third['id']}").status_code == 204
    assert small.owner.post(f"/v1/memories/{third['id']}/restore").status_code == 200
    assert small.owner.post("/v1/memories", json={"text": "f"}).status_code == 429
    assert small.owner.delete(f"/v1/memories/{third['id']}").status_code == 204
    assert small.owner.post("/v1/memories", json={"text": "g"}).status_code == 201


def test_the_readme_prints_the_permission_matrix_as_the_code_defines_it() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert matrix_markdown() in readme

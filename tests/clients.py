"""HTTP clients that present credentials: one shared TestClient, one identity per ApiClient."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from litestar.testing import TestClient

BOOTSTRAP_KEY = "am_test_bootstrap_key_0123456789abcdefghijklmnop"
SECRET_KEY = "test-secret-key-that-is-at-least-32-characters-long"


class ApiClient:
    """Sends every request with `Authorization: Bearer <secret>` (unless the call gives its own header)."""

    def __init__(self, http: TestClient, secret: str | None) -> None:
        self.http = http
        self.secret = secret

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        merged = {"Authorization": f"Bearer {self.secret}"} if self.secret else {}
        merged.update(headers or {})
        return self.http.request(method, url, headers=merged, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Everything else (e.g. `app`) comes from the shared TestClient."""
        return getattr(self.http, name)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@dataclass
class Org:
    """A fresh organization for a test: its id, name and an owner client."""

    id: str
    name: str
    owner_key: str
    owner: ApiClient

    def client_with_role(self, role: str) -> ApiClient:
        """A client holding a new key of this organization with the given role."""
        response = self.owner.post("/v1/api-keys", json={"name": f"{role} key", "role": role})
        assert response.status_code == 201, response.text
        return ApiClient(self.owner.http, response.json()["key"])


def create_org(admin: ApiClient, **quotas: int) -> Org:
    """Creates an organization through the API as the platform superadmin."""
    name = f"org-{uuid.uuid4().hex[:10]}"
    response = admin.post("/v1/organizations", json={"name": name, "quotas": quotas})
    assert response.status_code == 201, response.text
    body = response.json()
    return Org(body["id"], name, body["owner_api_key"], ApiClient(admin.http, body["owner_api_key"]))

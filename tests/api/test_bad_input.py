"""Bad input gets a clear 4xx in the one error shape, never a 500, and stores nothing."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, None),
        ('{"text": 42}', 422, "text"),
        ('{"text": ""}', 422, "text"),
        ('{"text": "ok", "surprise": true}', 422, "surprise"),
        ('{"text": "ok", "memory_type": "dream"}', 422, "memory_type"),
        ('{"text": "ok", "metadata": [1, 2]}', 422, "metadata"),
        ('{"text": "ok", "valid_from": "2024-01-01T00:00:00"}', 422, "valid_from"),
        ('{"text": "ok", "valid_from": "2024-02-01T00:00:00Z", "valid_to": "2024-01-01T00:00:00Z"}', 422, "valid_to"),
        ('{"text": "ok", "user_id": ""}', 422, "user_id"),
        ("[]", 422, None),
        ('{"text": "' + "x" * 20_001 + '"}', 422, "text"),
    ],
)
def test_bad_bodies_get_a_clear_error_naming_the_field(
    client: TestClient, body: str, status: int, field: str | None
) -> None:
    response = client.post("/v1/memories", content=body, headers=JSON)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["status"] == status and error["detail"]
    if field:
        assert field in [e.get("field") for e in error["errors"]]


def test_an_oversize_body_gets_413(client: TestClient) -> None:
    response = client.post("/v1/memories", content=b"x" * (33 * 1024 * 1024), headers=JSON)
    assert response.status_code == 413 and response.json()["status"] == 413


@pytest.mark.parametrize(
    ("path", "params", "headers"),
    [
        ("/v1/memories/{id}", {"version": "abc"}, {}),
        ("/v1/memories/{id}", {"version": "0"}, {}),
        ("/v1/memories/{id}", {"as_of": "yesterday"}, {}),
        ("/v1/memories/{id}", {"as_of": "2024-01-01T00:00:00Z", "version": "1"}, {}),
    ],
)
def test_bad_query_parameters_get_4xx(client: TestClient, path: str, params: dict, headers: dict) -> None:
    memory = client.post("/v1/memories", json={"text": "target"}).json()
    response = client.get(path.format(id=memory["id"]), params=params, headers=headers)
    assert 400 <= response.status_code < 500 and response.json()["status"] == response.status_code


def test_a_malformed_if_match_is_400_and_changes_nothing(client: TestClient) -> None:
    memory = client.post("/v1/memories", json={"text": "target"}).json()
    response = client.patch(f"/v1/memories/{memory['id']}", json={"text": "x"}, headers={"If-Match": "v-one"})
    assert response.status_code == 400
    assert client.get(f"/v1/memories/{memory['id']}").json()["version"] == 1


def test_a_bad_patch_changes_nothing(client: TestClient) -> None:
    memory = client.post("/v1/memories", json={"text": "target"}).json()
    response = client.patch(f"/v1/memories/{memory['id']}", json={"text": "x", "user_id": "moved"})
    assert response.status_code == 422
    assert client.get(f"/v1/memories/{memory['id']}/history").json()["versions"][-1]["version"] == 1


def test_a_non_uuid_id_is_404(client: TestClient) -> None:
    assert client.get("/v1/memories/not-a-uuid").status_code == 404


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert {
        "/v1/memories",
        "/v1/memories/batch",
        "/v1/memories/{memory_id}",
        "/v1/memories/{memory_id}/history",
        "/v1/memories/{memory_id}/restore",
    } <= set(schema["paths"])
    assert client.get("/schema/swagger").status_code == 200
    create = schema["paths"]["/v1/memories"]["post"]
    assert "requestBody" in create and "201" in create["responses"]

"""The OpenAPI document says what the server sends, and its Swagger UI needs nothing from outside the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

METHODS = ("get", "put", "post", "patch", "delete")
ERROR = {"$ref": "#/components/schemas/ErrorOut"}
PUBLIC = {("get", "/health"), ("get", "/ready"), ("post", "/v1/auth/token")}


@pytest.fixture(scope="module")
def document(http: TestClient) -> dict[str, Any]:
    return http.get("/schema/openapi.json").json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_every_error_answer_is_documented_in_the_one_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"status", "detail"} and "errors" in error["properties"]
    assert "status_code" not in str(document["paths"])  # Litestar's own error shape is gone
    for method, path, operation in operations(document):
        answers = operation["responses"]
        for status, answer in answers.items():
            if int(status) >= 400 and (method, path, status) != ("get", "/ready", "503"):
                assert answer["content"] == {"application/json": {"schema": ERROR}}, (method, path, status)
        assert {"400", "413", "422"} <= set(answers), (method, path)
        if (method, path) not in PUBLIC:
            assert {"401", "403", "429"} <= set(answers), (method, path)
        if "{" in path:
            assert "404" in answers, (method, path)


def test_writes_document_409_and_reads_that_wait_for_a_position_document_503(document: dict[str, Any]) -> None:
    answers = {(method, path): set(operation["responses"]) for method, path, operation in operations(document)}
    assert "409" in answers[("patch", "/v1/memories/{memory_id}")]
    assert "409" in answers[("delete", "/v1/api-keys/{api_key_id}")]
    assert "409" not in answers[("post", "/v1/memories/search")]
    assert "503" in answers[("get", "/v1/memories")]
    assert "503" in answers[("post", "/v1/memories/search")]
    assert {"401", "429"} <= answers[("post", "/v1/auth/token")]
    assert "503" in answers[("post", "/v1/llm/check")]  # no language model configured
    ready = document["paths"]["/ready"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]
    assert ready == {"$ref": "#/components/schemas/HealthOut"}


def test_204_answers_are_documented_without_a_body(document: dict[str, Any]) -> None:
    no_content = [(path, op["responses"]["204"]) for _, path, op in operations(document) if "204" in op["responses"]]
    assert len(no_content) >= 6
    for path, answer in no_content:
        assert "content" not in answer, path


def test_request_bodies_refuse_unknown_fields_as_the_server_does(document: dict[str, Any], http: TestClient) -> None:
    schemas = document["components"]["schemas"]
    bodies = [op["requestBody"] for _, _, op in operations(document) if "requestBody" in op]
    assert len(bodies) >= 15
    for body in bodies:
        name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["ToolCall"]["additionalProperties"] is False  # nested bodies too
    refused = http.post("/v1/auth/token", json={"email": "a@example.com", "password": "x", "extra": 1})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "extra"


def test_streams_document_the_media_type_they_send(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/audit"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/AuditPageOut"}
    assert "application/x-ndjson" in content
    assert set(document["paths"]["/v1/export"]["get"]["responses"]["200"]["content"]) == {"application/x-ndjson"}
    assert set(document["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"]) == {"text/event-stream"}


def test_swagger_ui_loads_only_assets_the_server_serves(http: TestClient) -> None:
    page = http.get("/schema/swagger")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text.split("spec: ", 1)[0]  # the inline document may quote anything
    urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", html)
    assert len(urls) == 4 and "//" not in "".join(urls), urls
    for url in urls:
        asset = http.get(url)
        assert asset.status_code == 200 and len(asset.content) > 500, url
    assert http.get("/schema/swagger").text.count("SwaggerUIBundle(") == 1

"""The OpenAPI document is the contract: every route's real answers, written once from what each route is.

Litestar documents the success answer of each handler and, for handlers with parameters, a 400 in its own
`{status_code, detail, extra}` shape. What is really sent differs, so one pass over the routes writes the rest:
the errors each route can answer, all in the one error shape (`ErrorOut`), 204s without a body, request bodies
closed to unknown fields (the strict-body guard refuses them), and the NDJSON form of routes that stream it.
tests/api/test_contract.py runs schemathesis against a real server to hold the document to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import swagger_ui_bundle
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, OpenAPIMediaType, OpenAPIType, Reference, Schema, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from agentmem.api.schemas.common import ErrorOut

DOCS_ASSETS = "/schema/assets"
NDJSON = "application/x-ndjson"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "bearer": SecurityScheme(type="http", scheme="bearer", description="An API key (am_…) or a token"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
}
ERRORS: dict[int, str] = {
    400: "Malformed JSON, JSON nested deeper than 64 levels, or a parameter or header that cannot be read",
    401: "No credentials, or credentials that are unknown, expired, revoked or disabled",
    403: "The role of the credentials does not grant this route's permission",
    404: "No such resource in your organization (unknown, another organization's, or not a UUID)",
    409: "A stale If-Match, a name already taken, a reused Idempotency-Key, or a state that forbids the change",
    413: "The request body is larger than the server's limit (AGENTMEM_MAX_BODY_BYTES)",
    422: "Well-formed input that breaks a rule (NUL anywhere included); `errors` names the field",
    429: "The organization's rate limit or a quota is spent; Retry-After tells when to try again",
    503: "The read model did not reach `min_position` in time, or a dependency is down",
}
"""What each error status means on this API; every one is sent in the one error shape."""
EVERY_REQUEST = frozenset({400, 413, 422})
"""The boundary checks every request before routing: body size (413), JSON depth (400), NUL anywhere (422)."""
AUTHENTICATED = frozenset({401, 403, 429})
"""The permission guard: credentials (401), the organization's rate (429), the role's permission (403)."""


def openapi_config(version: str) -> OpenAPIConfig:
    """OpenAPI 3.1 at /schema; Swagger UI from assets installed with the package (no CDN: works offline)."""
    return OpenAPIConfig(
        title="AgentMem",
        version=version,
        description="Event-sourced memory for AI agents: versioned, auditable, hybrid search.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS}/favicon-32x32.png'>",
            )
        ],
        components=Components(security_schemes=SECURITY_SCHEMES),
        security=[{"bearer": []}, {"apiKey": []}],
    )


def docs_assets() -> ControllerRouterHandler:
    """Swagger UI's JavaScript and CSS, served from the installed swagger-ui-bundle package."""
    return create_static_files_router(
        path=DOCS_ASSETS,
        directories=[swagger_ui_bundle.swagger_ui_path],
        opt={"public": True},
        include_in_schema=False,
    )


def error_statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    """The error statuses a route can answer, from what it is; `opt={"errors": (...)}` adds the rest."""
    statuses = set(EVERY_REQUEST)
    if not handler.opt.get("public"):
        statuses |= AUTHENTICATED
    if route.path_parameters:
        statuses.add(404)
    permission = str(handler.opt.get("permission", ""))
    if permission and not permission.endswith(":read") and "GET" not in handler.http_methods:
        statuses.add(409)
    if "min_position" in _parameter_names(handler):
        statuses.add(503)
    statuses.update(handler.opt.get("errors", ()))
    return statuses


def document_answers(app: Litestar) -> None:
    """Writes every route's real answers into the app's OpenAPI document (once, when the app is built)."""
    handlers = [(route, h) for route in app.routes if isinstance(route, HTTPRoute) for h in route.route_handlers]
    for route, handler in handlers:
        if handler.resolve_include_in_schema():
            handler.responses = {**answers(route, handler), **(handler.responses or {})}
    document = app.openapi_schema
    schemas = document.components.schemas or {}
    for name in _strict_bodies(handler for _, handler in handlers):
        schema = schemas.get(name)
        if isinstance(schema, Schema):
            schema.additional_properties = False
    for route, handler in handlers:
        if "ndjson" in handler.opt:
            for method in handler.http_methods:
                success = getattr((document.paths or {})[route.path_format], method.lower()).responses["200"]
                lines = Schema(type=OpenAPIType.STRING, description=handler.opt["ndjson"])
                success.content = {**(success.content or {}), NDJSON: OpenAPIMediaType(schema=lines)}


def answers(route: HTTPRoute, handler: HTTPRouteHandler) -> dict[int, ResponseSpec]:
    """The route's error answers in the one error shape, and its 204 without a body."""
    specs = {
        status: ResponseSpec(ErrorOut, description=ERRORS[status], generate_examples=False)
        for status in sorted(error_statuses(route, handler))
    }
    if handler.status_code == 204:
        specs[204] = ResponseSpec(None, description="Done, no body; AgentMem-Position gives the change's log position")
    return specs


def _parameter_names(handler: HTTPRouteHandler) -> set[str]:
    """The handler's parameters, and the fields of its body type (a search's `min_position` is in its body)."""
    parameters = handler.parsed_fn_signature.parameters
    names = set(parameters)
    data = parameters.get("data")
    if data is not None:
        info = msgspec.inspect.type_info(data.annotation)
        if isinstance(info, msgspec.inspect.StructType):
            names |= {field.name for field in info.fields}
    return names


def _strict_bodies(handlers: Iterable[HTTPRouteHandler]) -> set[str]:
    """Names of the request-body Structs (nested ones too) that refuse unknown fields."""
    names: set[str] = set()
    for handler in handlers:
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            structs = _structs(msgspec.inspect.type_info(data.annotation))
            names |= {struct.cls.__name__ for struct in structs if struct.forbid_unknown_fields}
    return names


def _structs(info: Any, seen: set[type] | None = None) -> Iterator[msgspec.inspect.StructType]:
    """Every Struct type reachable from a msgspec type description."""
    seen = set() if seen is None else seen
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        yield info
        for field in info.fields:
            yield from _structs(field.type, seen)
        return
    for name in getattr(info, "__struct_fields__", ()):
        value = getattr(info, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, msgspec.inspect.Type):
                yield from _structs(item, seen)

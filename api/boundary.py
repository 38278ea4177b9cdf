"""The rule at the HTTP boundary: nothing a read model cannot store, and no JSON nested deeper than we can parse.

One middleware checks every request before any handler runs: the body (NUL escapes and nesting depth), the query
string (NUL) and the headers (NUL). A NUL would be stored in the event log and then refused by every PostgreSQL
text column the projections write; 10,000 nested arrays exhaust the parser's recursion. The answer is a 422
naming the field (NUL) or a 400 (depth), in the one error shape, before the body reaches a handler.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import numpy as np
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from litestar.types.asgi_types import HTTPRequestEvent, HTTPResponseBodyEvent, HTTPResponseStartEvent

from agentmem.domain.errors import BadRequest, InvalidInput
from agentmem.domain.storable import MAX_DEPTH, unstorable

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class BoundaryError(Exception):
    """A request refused at the boundary: status, detail, and the field when there is one."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field

    def body(self) -> bytes:
        answer: dict[str, Any] = {"status": self.status, "detail": self.detail}
        if self.field is not None:
            answer["errors"] = [{"message": self.detail, "field": self.field}]
        return msgspec.json.encode(answer)


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in JSON text (strings do not count; malformed JSON is the parser's)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be deeper than its number of openings
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return int(np.cumsum(_STEP[np.frombuffer(brackets, dtype=np.uint8)], dtype=np.int64).max())


def check_json(raw: bytes, where: str = "body") -> Any | None:
    """Refuses JSON nested deeper than MAX_DEPTH (400) or holding NUL (422 naming the field)."""
    if json_depth(raw) > MAX_DEPTH:
        raise BoundaryError(400, f"the {where} nests JSON deeper than {MAX_DEPTH} levels")
    if b"\\u0000" not in raw:
        return None
    try:
        decoded = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None  # malformed: the handler's parser answers 400
    found = unstorable(decoded)
    if found is not None:
        field = found[0] or where
        raise BoundaryError(422, f"{field} {found[1]}", field)
    return decoded


def check_query(query_string: bytes) -> None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "\\u0000")
            raise BoundaryError(422, f"query parameter {field!r} must not contain the NUL character (U+0000)", field)


def check_headers(headers: Iterable[tuple[bytes, bytes]]) -> None:
    for name, value in headers:
        if b"\x00" in value:
            field = name.decode("latin-1")
            raise BoundaryError(422, f"header {field} must not contain the NUL character (U+0000)", field)


def boundary_middleware(max_body_bytes: int) -> Any:
    """The ASGI middleware factory; bodies over `max_body_bytes` get 413 without being held in memory."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def checked(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            try:
                check_query(scope.get("query_string", b""))
                check_headers(scope["headers"])
                body = await _read_body(receive, max_body_bytes)
                if body and _is_json(scope):
                    check_json(body)
            except BoundaryError as error:
                await _answer(send, error)
                return
            replayed = False

            async def replay() -> ReceiveMessage:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return HTTPRequestEvent(type="http.request", body=body, more_body=False)

            await app(scope, replay, send)

        return checked

    return middleware


def _is_json(scope: Scope) -> bool:
    content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"application/json")
    return b"json" in content_type.lower()


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BoundaryError(413, "the request body is too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, error: BoundaryError) -> None:
    body = error.body()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(HTTPResponseStartEvent(type="http.response.start", status=error.status, headers=headers))
    await send(HTTPResponseBodyEvent(type="http.response.body", body=body, more_body=False))


_AT = re.compile(r"^(.*) - at `\$\.?(.*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(.*)`$")
_MISSING = re.compile(r"^Object missing required field `(.*)`$")


async def strict_body(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Bodies are strict: a wrong type is a 422 naming the field, never quietly converted ("10" is not 10).

    Litestar converts bodies leniently (its signature model uses msgspec's strict=False), so a guard decodes
    the raw body once more against the handler's body type, strictly. Malformed JSON is left to Litestar (400).
    """
    parameter = getattr(handler, "parsed_fn_signature", None)
    data = parameter.parameters.get("data") if parameter is not None else None
    if data is None or not isinstance(connection, Request):
        return
    raw = await connection.body()
    try:
        msgspec.json.decode(raw, type=data.annotation, strict=True)
    except msgspec.ValidationError as error:
        try:
            msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return  # malformed JSON: Litestar answers 400
        raise InvalidInput(*_field_of(str(error))) from None
    except msgspec.DecodeError:
        return  # malformed JSON: Litestar answers 400


def _field_of(message: str) -> tuple[str, str]:
    """The field a msgspec validation message names (`limit`, `memories[0].text`), and the message."""
    match = _AT.match(message)
    core, path = (match.group(1), match.group(2)) if match else (message, "")
    for pattern in (_UNKNOWN, _MISSING):
        named = pattern.match(core)
        if named:
            path = f"{path}.{named.group(1)}" if path else named.group(1)
            break
    return path or "body", message


def decode_json_parameter(name: str, raw: str) -> Any:
    """A query parameter holding JSON (e.g. `filters`), with the same depth and NUL rules as bodies (400/422)."""
    encoded = raw.encode()
    try:
        check_json(encoded, f"{name} parameter")
        return msgspec.json.decode(encoded)
    except BoundaryError as error:
        raise (InvalidInput(name, error.detail) if error.status == 422 else BadRequest(error.detail, name)) from None
    except msgspec.DecodeError:
        raise BadRequest(f"{name} must be JSON", name) from None

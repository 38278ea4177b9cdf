"""The answer to a write: the written resource, the log position to read after, and its version as ETag."""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from msgspec import Struct

from agentmem.api.context import POSITION_HEADER

T = TypeVar("T", bound=Struct)


def written(body: T, position: int, version: int | None = None, status_code: int = 200) -> Response[T]:
    headers = {POSITION_HEADER: str(position)}
    if version is not None:
        headers["ETag"] = f'"{version}"'
    return Response(body, status_code=status_code, headers=headers)


def no_content(position: int) -> Response[None]:
    """204 for a delete, with the position of its event."""
    return Response(None, status_code=204, headers={POSITION_HEADER: str(position)})

"""The request parameters every resource shares, declared once: versions, instants, lists, read-your-writes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar.params import Parameter

from agentmem.domain.errors import BadRequest
from agentmem.projections.queries import ListOrder

Version = Annotated[int | None, Parameter(ge=1, description="Replay to this version.")]
AsOf = Annotated[datetime | None, Parameter(description="As it was at this instant (ISO-8601 with a time zone).")]
Limit = Annotated[int, Parameter(ge=1, le=100, description="Page size.")]
Cursor = Annotated[str | None, Parameter(max_length=512, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[
    int | None, Parameter(ge=0, description="Wait (bounded) until the read model has applied this log position.")
]
ListOrderParam = Annotated[
    ListOrder, Parameter(description="created_desc (default), created_asc, updated_desc or updated_asc")
]
AscDesc = Literal["asc", "desc"]
IfMatch = Annotated[
    str | None,
    Parameter(
        header="If-Match",
        required=False,
        description='The version the change expects, e.g. `3` or `"3"`; a stale one gets 409.',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        min_length=1,
        max_length=255,
        required=False,
        description="Retrying with the same key and body returns the first result and records nothing new.",
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header expects (None without the header)."""
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"If-Match must be a version number, got {if_match!r}", field="If-Match")
    return int(raw)


def check_reads(version: int | None, as_of: datetime | None) -> None:
    """`version` and `as_of` exclude each other, and an instant needs a time zone."""
    if version is not None and as_of is not None:
        raise BadRequest("give either version or as_of, not both")
    if as_of is not None and as_of.tzinfo is None:
        raise BadRequest("as_of needs a time zone, e.g. 2026-01-01T00:00:00Z", field="as_of")

"""Keyset pagination for every list of rows: an order, a cursor naming the last row seen, the next cursor.

A cursor is opaque to callers: base64 of [order, timestamp, id]. It only continues a list of the same order.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Composable

from agentmem.domain.errors import BadRequest
from agentmem.infrastructure.postgres_filters import Params

ORDERS: dict[str, tuple[str, str]] = {
    "created_desc": ("created_at", "DESC"),
    "created_asc": ("created_at", "ASC"),
    "updated_desc": ("updated_at", "DESC"),
    "updated_asc": ("updated_at", "ASC"),
}


class CursorError(BadRequest):
    """A list cursor that this list did not hand out."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="cursor")


def encode_cursor(order: str, at: datetime, row_id: UUID) -> str:
    raw = json.dumps([order, at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, order: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_order, at, row_id = json.loads(raw)
        if cursor_order != order:
            raise CursorError("this cursor belongs to a list with another order")
        return datetime.fromisoformat(at), UUID(row_id)
    except CursorError:
        raise
    except Exception:  # noqa: BLE001 - any decoding failure is a bad cursor
        raise CursorError("invalid cursor") from None


class Keyset:
    """The ORDER BY, the condition after a cursor, and the next cursor, of one list in one order."""

    def __init__(self, order: str, prefix: str = "") -> None:
        self.order = order
        self.column, self.direction = ORDERS[order]
        self.prefix = prefix
        self.order_by = SQL(f"{prefix}{self.column} {self.direction}, {prefix}id {self.direction}")

    def after(self, cursor: str | None, params: Params) -> Composable | None:
        """The condition selecting the rows after `cursor` (None for the first page)."""
        if cursor is None:
            return None
        at, after_id = decode_cursor(cursor, self.order)
        comparison = "<" if self.direction == "DESC" else ">"
        return SQL(f"({self.prefix}{self.column}, {self.prefix}id) {comparison} ({{}}, {{}})").format(
            params.add(at), params.add(after_id)
        )

    def next_cursor(self, records: Sequence[dict[str, Any]], limit: int) -> str | None:
        """Given up to limit + 1 records, the cursor of the page after the first `limit` (None at the end)."""
        if len(records) <= limit:
            return None
        last = records[limit - 1]
        return encode_cursor(self.order, last[self.column], last["id"])

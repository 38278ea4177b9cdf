# Generated from agentmem_client/_async by generate_sync.py: edit the async source, then regenerate.
"""client.blocks: core-memory blocks — create, read (now, at a version, at an instant), list, edit, append, revert,
delete, restore, history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from agentmem_client._params import NOT_GIVEN, NotGiven, body, changes, if_match, query
from agentmem_client._sync.http import HttpCore
from agentmem_client.types import Block, BlockWrite, Deleted, History, Order, Page


class Blocks:
    """Labelled, size-limited text blocks an agent sees in its context."""

    def __init__(self, http: HttpCore) -> None:
        self._http = http

    def create(
        self,
        label: str,
        value: str = "",
        *,
        limit: int | None = None,
        description: str | None = None,
        read_only: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> BlockWrite:
        payload = body(
            label=label, value=value, limit=limit, description=description, read_only=read_only, metadata=metadata
        )
        return self._http.call("POST", "/v1/blocks", BlockWrite, json=payload)

    def get(
        self, block_id: str, *, version: int | None = None, as_of: datetime | None = None, include_deleted: bool = False
    ) -> Block:
        params = query(version=version, as_of=as_of, include_deleted=include_deleted or None)
        return self._http.call("GET", f"/v1/blocks/{block_id}", Block, params=params)

    def list(
        self,
        *,
        label: str | None = None,
        agent_id: str | None = None,
        order: Order = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        include_deleted: bool = False,
        min_position: int | None = None,
    ) -> Page[Block]:
        """One page of blocks, by label or by the agent they are attached to."""
        params = query(
            label=label,
            agent_id=agent_id,
            order=order,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted or None,
            min_position=self._http.min_position(min_position),
        )
        return self._http.call("GET", "/v1/blocks", Page[Block], params=params)

    def iterate(self, *, page_size: int = 100, **filters: Any) -> Iterator[Block]:
        cursor: str | None = None
        while True:
            page = self.list(limit=page_size, cursor=cursor, **filters)
            for block in page.items:
                yield block
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def update(
        self,
        block_id: str,
        *,
        value: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        label: str | NotGiven = NOT_GIVEN,
        description: str | NotGiven | None = NOT_GIVEN,
        read_only: bool | NotGiven = NOT_GIVEN,
        metadata: dict[str, Any] | NotGiven = NOT_GIVEN,
        expected_version: int | None = None,
    ) -> BlockWrite:
        """Replaces the value and/or changes other fields."""
        fields = changes(
            value=value, limit=limit, label=label, description=description, read_only=read_only, metadata=metadata
        )
        path = f"/v1/blocks/{block_id}"
        return self._http.call("PATCH", path, BlockWrite, json=fields, headers=if_match(expected_version))

    def append(
        self, block_id: str, text: str, *, separator: str = "\n", expected_version: int | None = None
    ) -> BlockWrite:
        """Adds text at the end (past the limit: ValidationError naming the limit and the size)."""
        path = f"/v1/blocks/{block_id}/append"
        payload = {"text": text, "separator": separator}
        return self._http.call("POST", path, BlockWrite, json=payload, headers=if_match(expected_version))

    def revert(self, block_id: str, version: int, *, expected_version: int | None = None) -> BlockWrite:
        """A new version holding the value of `version`."""
        path = f"/v1/blocks/{block_id}/revert"
        payload = {"version": version}
        return self._http.call("POST", path, BlockWrite, json=payload, headers=if_match(expected_version))

    def delete(self, block_id: str, *, expected_version: int | None = None) -> Deleted:
        path = f"/v1/blocks/{block_id}"
        return Deleted(block_id, self._http.position_of("DELETE", path, headers=if_match(expected_version)))

    def restore(self, block_id: str, *, expected_version: int | None = None) -> BlockWrite:
        path = f"/v1/blocks/{block_id}/restore"
        return self._http.call("POST", path, BlockWrite, headers=if_match(expected_version))

    def history(self, block_id: str) -> History:
        return self._http.call("GET", f"/v1/blocks/{block_id}/history", History)

"""Read-your-writes for callers that cannot carry positions (an LLM calling MCP tools, an agent's own tools).

Each write's log position is remembered per actor; a later read by the same actor without `min_position`
waits for the newest one, so a memory an agent just added is found by its next search.
"""

from __future__ import annotations

from typing import Protocol


class WritePositions(Protocol):
    """The newest log position each actor wrote, shared by every API process."""

    async def remember(self, actor_id: str, position: int) -> None:
        """Keeps `position` if it is newer than the one kept for the actor."""
        ...

    async def last(self, actor_id: str) -> int | None:
        """The newest position the actor wrote recently (None if none is kept)."""
        ...

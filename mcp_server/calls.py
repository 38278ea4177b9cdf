"""One tool call: who makes it (the principal its HTTP request authenticated), the container's use cases, the
permission check of the HTTP twin, and read-your-writes by actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from msgspec import Struct

from agentmem.application.authentication import Principal
from agentmem.domain.base import Context
from agentmem.domain.errors import BadRequest, Forbidden
from agentmem.runtime.container import Container


@dataclass(frozen=True, slots=True)
class Call:
    """The caller and the use cases one tool call may use."""

    container: Container
    principal: Principal
    context: Context

    def require(self, permission: str) -> None:
        """The permission the HTTP twin's route declares; the same 403 message."""
        if permission not in self.principal.permissions:
            raise Forbidden(f"your role ({self.principal.role}) does not grant {permission}")

    async def min_position(self, given: int | None) -> int | None:
        """What a read waits for: the given position, else the newest one this caller wrote (read-your-writes)."""
        if given is not None:
            return given
        return await self.container.write_positions.last(self.principal.actor_id)

    async def wrote(self, position: int) -> None:
        await self.container.write_positions.remember(self.principal.actor_id, position)


@dataclass(frozen=True, slots=True)
class Tool:
    """An MCP tool: its name, what the model reads about it, its arguments, and what it does."""

    name: str
    description: str
    arguments: type[Struct]
    run: Callable[[Call, Any], Awaitable[Any]]
    read_only: bool = False


def check_reads(version: int | None, as_of: Any) -> None:
    """`version` and `as_of` exclude each other (as on the HTTP reads)."""
    if version is not None and as_of is not None:
        raise BadRequest("give either version or as_of, not both")

"""What every list over a plain read model shares: page parameters and read-your-writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

from litestar.params import Parameter
from msgspec import Struct

if TYPE_CHECKING:
    from agentmem.api.services import Services

T = TypeVar("T", bound=Struct)
Limit = Annotated[int, Parameter(ge=1, le=100, description="Page size.")]
Cursor = Annotated[str | None, Parameter(max_length=512, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[
    int | None, Parameter(ge=0, description="Wait (bounded) until the list includes this log position.")
]


async def wait_for_read_model(services: Services, name: str, min_position: int | None) -> None:
    """Read-your-writes: returns once the read model `name` has applied `min_position`."""
    if min_position:
        assert services.waiter is not None
        await services.waiter.wait_for(name, min_position, services.settings.read_wait_timeout)


def row_out(cls: type[T], row: dict[str, Any]) -> T:
    """A response Struct from a read-model row (uuids as strings; columns it does not show are dropped)."""
    fields = cls.__struct_fields__
    return cls(**{k: str(v) if isinstance(v, UUID) else v for k, v in row.items() if k in fields})

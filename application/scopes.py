"""Which memories a query may see: one tenant, narrowed by scope ids, types, metadata filters and instants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from agentmem.domain.errors import InvalidInput
from agentmem.projections.filters import parse_filter
from agentmem.projections.queries import Scope


def memory_scope(
    tenant_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    memory_type: str | Sequence[str] | None = None,
    filters: Any = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    valid_at: datetime | None = None,
) -> Scope:
    """A checked scope: the metadata filter parsed (FilterError names the bad part), instants with a time zone."""
    for name, value in (("created_after", created_after), ("created_before", created_before), ("valid_at", valid_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(name, f"{name} needs a time zone")
    types = (memory_type,) if isinstance(memory_type, str) else tuple(memory_type or ())
    return Scope(
        tenant_id=tenant_id,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        memory_types=types,
        metadata=parse_filter(filters) if filters is not None else None,
        created_after=created_after,
        created_before=created_before,
        valid_at=valid_at,
    )

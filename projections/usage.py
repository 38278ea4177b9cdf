"""The usage read model: one row per metered language-model call, summed by day, model, purpose or agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from agentmem.domain.model_call import ModelCall
from agentmem.projections.base import Envelope
from agentmem.projections.rows import Change, RowProjection, RowView

USAGE = "llm_usage"
MODEL_CALL_TOPIC_PREFIX = f"{ModelCall.__module__}:{ModelCall.__qualname__}."
GroupBy = Literal["day", "model", "purpose", "agent"]


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One call as the read model holds it."""

    id: UUID
    tenant_id: str
    actor_id: str
    purpose: str
    provider: str
    model: str
    agent_id: str | None
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    latency_ms: float
    retries: int
    outcome: str
    cost_usd: float | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """Which calls to sum: one tenant (or every tenant, for platform admins), a time range, a grouping."""

    tenant_id: str
    all_tenants: bool
    since: datetime
    until: datetime
    group_by: GroupBy


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """The sums of one group (a day, a provider:model, a purpose or an agent) of one organization."""

    organization_id: str
    key: str | None
    calls: int
    errors: int
    retries: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float | None
    mean_latency_ms: float


class UsageQueries(Protocol):
    """Sums over the usage read model."""

    async def summary(self, query: UsageQuery) -> list[UsageGroup]: ...


class UsageProjection(RowProjection):
    """Turns each ModelCall event into a usage row (the calls never change afterwards)."""

    created = ModelCall.Created
    topic_prefix = MODEL_CALL_TOPIC_PREFIX

    def __init__(self, view: RowView, name: str = USAGE) -> None:
        super().__init__(view, name)

    @staticmethod
    def row(event: ModelCall.Created) -> UsageRow:
        return UsageRow(
            id=event.originator_id,
            tenant_id=event.tenant_id,
            actor_id=event.actor_id,
            purpose=event.purpose,
            provider=event.provider,
            model=event.model,
            agent_id=event.agent_id,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cached_tokens=event.cached_tokens,
            latency_ms=event.latency_ms,
            retries=event.retries,
            outcome=event.outcome,
            cost_usd=event.cost_usd,
            created_at=event.timestamp,
        )

    def process_event(self, envelope: Envelope) -> Change:  # pragma: no cover - calls have no later events
        raise AssertionError(f"unexpected event {type(envelope.event).__qualname__} of a model call")

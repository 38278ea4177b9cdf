"""The model call: one metered language-model call, recorded for the tenant that made it (usage and cost)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from eventsourcing.domain import event

from agentmem.domain.base import Context, TenantAggregate


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What was metered: purpose (chat, extraction, rewrite, check), model, tokens, latency, retries, outcome."""

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


class ModelCall(TenantAggregate):
    """A language-model call as it was metered; never changed after it is recorded."""

    class Created(TenantAggregate.Created):
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

    @classmethod
    def record(cls, facts: CallFacts, context: Context) -> ModelCall:
        return cls(id=uuid4(), **vars_of(facts), **context.event_fields())  # type: ignore[arg-type]

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
        purpose: str,
        provider: str,
        model: str,
        agent_id: str | None,
        input_tokens: int,
        output_tokens: int,
        cached_tokens: int,
        latency_ms: float,
        retries: int,
        outcome: str,
        cost_usd: float | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.facts = CallFacts(
            purpose,
            provider,
            model,
            agent_id,
            input_tokens,
            output_tokens,
            cached_tokens,
            latency_ms,
            retries,
            outcome,
            cost_usd,
        )


def vars_of(facts: CallFacts) -> dict[str, object]:
    return {name: getattr(facts, name) for name in CallFacts.__dataclass_fields__}

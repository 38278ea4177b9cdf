"""Model usage: every language-model call recorded as an event of the tenant that made it, and summed back."""

from __future__ import annotations

from agentmem.application.base import AgentMemApplication
from agentmem.application.reads import Reads
from agentmem.domain.base import Context
from agentmem.domain.model_call import CallFacts, ModelCall
from agentmem.projections.usage import USAGE, UsageGroup, UsageQueries, UsageQuery


class UsageApplication(AgentMemApplication):
    """Records metered model calls; the `llm_usage` read model sums them for GET /v1/usage."""

    def record_call(self, facts: CallFacts, context: Context) -> int:
        """Appends one call; returns its log position."""
        return self.record(ModelCall.record(facts, context))


class UsageReport:
    """Usage sums, after the read model has applied `min_position` (bounded wait)."""

    def __init__(self, reads: Reads, queries: UsageQueries) -> None:
        self.reads = reads
        self.queries = queries

    async def summary(self, query: UsageQuery, min_position: int | None = None) -> list[UsageGroup]:
        await self.reads.wait([USAGE], min_position, query.tenant_id)
        return await self.queries.summary(query)

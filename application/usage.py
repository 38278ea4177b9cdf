"""Model usage: every language-model call recorded as an event of the tenant that made it."""

from __future__ import annotations

from agentmem.application.base import AgentMemApplication
from agentmem.domain.base import Context
from agentmem.domain.model_call import CallFacts, ModelCall


class UsageApplication(AgentMemApplication):
    """Records metered model calls; the `llm_usage` read model sums them for GET /v1/usage."""

    def record_call(self, facts: CallFacts, context: Context) -> int:
        """Appends one call; returns its log position."""
        return self.record(ModelCall.record(facts, context))

"""Runs: an agent's chat turns as aggregates (started, context, steps, ended), and the list of an agent's runs."""

from __future__ import annotations

import asyncio
from uuid import UUID

from agentmem.application.agents import AgentApplication
from agentmem.application.base import AgentMemApplication, NotFoundError, Saved
from agentmem.application.reads import Reads
from agentmem.domain.base import Context
from agentmem.domain.run import ContextFacts, Run, RunStart, StepFacts
from agentmem.projections.queries import ListOrder
from agentmem.projections.runs import READ_MODEL, RunPage, RunQueries


class RunNotFoundError(NotFoundError):
    """No such run for this tenant."""


class RunApplication(AgentMemApplication):
    """Records runs step by step; reads one by id from the log."""

    aggregate_cache_size = 1_000

    def start(self, run_id: UUID, start: RunStart, context: Context) -> Saved[Run]:
        run = Run.begin(run_id, start, context)
        return Saved(run, self.record(run))

    def record_context(self, run_id: UUID, facts: ContextFacts, context: Context) -> Saved[Run]:
        return self._change(run_id, context, lambda run: run.record_context(context, facts))

    def record_step(self, run_id: UUID, facts: StepFacts, context: Context) -> Saved[Run]:
        return self._change(run_id, context, lambda run: run.record_step(context, facts))

    def complete(self, run_id: UUID, stop_reason: str, context: Context) -> Saved[Run]:
        return self._change(run_id, context, lambda run: run.complete(context, stop_reason))

    def fail(self, run_id: UUID, stop_reason: str, error: str, context: Context) -> Saved[Run]:
        return self._change(run_id, context, lambda run: run.fail(context, stop_reason, error))

    def cancel(self, run_id: UUID, reason: str, context: Context) -> Saved[Run]:
        return self._change(run_id, context, lambda run: run.cancel(context, reason))

    def get(self, run_id: UUID, tenant_id: str) -> Run:
        """The run as its events left it."""
        return self.get_live(Run, run_id, tenant_id, RunNotFoundError)

    def _change(self, run_id: UUID, context: Context, change: object) -> Saved[Run]:
        def apply(run: Run) -> bool:
            change(run)  # type: ignore[operator]
            return True

        return self.change(Run, run_id, context, None, apply, RunNotFoundError)


class RunList:
    """An agent's runs, newest first, once the runs read model has applied `min_position` (404 for an agent that
    is not the tenant's)."""

    def __init__(self, reads: Reads, queries: RunQueries, agents: AgentApplication) -> None:
        self.reads = reads
        self.queries = queries
        self.agents = agents

    async def page(
        self,
        tenant_id: str,
        agent_id: UUID,
        *,
        order: ListOrder = "created_desc",
        limit: int = 20,
        cursor: str | None = None,
        min_position: int | None = None,
    ) -> RunPage:
        await asyncio.to_thread(self.agents.get, agent_id, tenant_id)
        await self.reads.wait([READ_MODEL], min_position, tenant_id)
        return await self.queries.list(tenant_id, agent_id=agent_id, order=order, limit=limit, cursor=cursor)

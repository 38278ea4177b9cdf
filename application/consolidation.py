"""Consolidation: merge near-duplicates and retire contradicted memories of one scope, as a job.

The scope's live memories (oldest first, at most `limit`) go to the model in chunks under short handles; it
answers UPDATE (the merged text) or DELETE (a duplicate or a contradicted memory, with a reason) for the ones
to change. Decisions are applied like extraction's: atomically with the job's success, with provenance, and a
dry run only records what it would do.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agentmem.application.extraction import Plan, bind_model, record, scope_key
from agentmem.application.job_runner import Attempt
from agentmem.application.jobs import JobPolicy, LogHead, ScopeLocks
from agentmem.application.llm import LanguageModels, LLMRequest, Message, OutputSchema, deadline_in
from agentmem.application.memory_changes import MemoryChanges
from agentmem.application.model_output import ACTIONS_SCHEMA, Candidate, Decision, answer_data, parse_actions
from agentmem.application.prompts import prompt_set
from agentmem.application.quota import MemoryQuota
from agentmem.application.reads import Reads
from agentmem.application.scopes import memory_scope

CHUNK = 50
"""Memories per model call: near-duplicates are only found within one call, so chunks are large, but a prompt of
50 memories of a few sentences stays well under 10,000 tokens for any model."""
PAGE = 100


class Consolidation:
    """The `consolidation` job handler."""

    def __init__(
        self,
        changes: MemoryChanges,
        models: LanguageModels,
        reads: Reads,
        head: LogHead,
        locks: ScopeLocks,
        quota: MemoryQuota,
        policy: JobPolicy,
    ) -> None:
        self.changes = changes
        self.models = models
        self.reads = reads
        self.head = head
        self.locks = locks
        self.quota = quota
        self.policy = policy

    async def __call__(self, attempt: Attempt) -> None:
        job = attempt.job
        dry_run = bool(job.params.get("dry_run"))
        model = bind_model(self.models, attempt.context, job.params)
        prompts = prompt_set(job.params.get("prompt_version"))
        plan = Plan(prompts.version, model.provider, model.model)
        async with self.locks.hold(scope_key(job.tenant_id, job.scope), self.policy.lease_seconds / 2):
            plan.candidates = await self._memories(job.tenant_id, job.scope, int(job.params.get("limit") or PAGE))
            for start in range(0, len(plan.candidates), CHUNK):
                chunk = plan.candidates[start : start + CHUNK]
                if len(chunk) < 2:
                    continue
                answer = await model.complete(
                    LLMRequest(
                        messages=(
                            Message.system(prompts.render("consolidate")),
                            Message.user("\n".join(f"[{c.handle}] {c.text} ({c.memory_type})" for c in chunk)),
                        ),
                        output=OutputSchema("actions", ACTIONS_SCHEMA),
                        temperature=0.0,
                        deadline=deadline_in(self.policy.lease_seconds / 3),
                    )
                )
                plan.note(answer)
                plan.decisions += parse_actions(answer_data(answer, ACTIONS_SCHEMA), {c.handle: c for c in chunk})

            def provenance(decision: Decision) -> dict[str, Any]:
                return {
                    "source": "consolidation",
                    "job_id": str(job.id),
                    "provider": plan.provider,
                    "model": plan.model,
                    "prompt_version": plan.prompt_version,
                    "reason": decision.reason,
                }

            changes = await asyncio.to_thread(
                self.changes.apply, plan.decisions, plan.candidates, attempt.context, provenance, None, dry_run
            )
            result = plan.result(dry_run) | {"memories_seen": len(plan.candidates)}
            await record(attempt, self.quota, result, changes)

    async def _memories(self, tenant_id: str, scope: dict[str, Any], limit: int) -> list[Candidate]:
        """The scope's live memories, oldest first, once the read model has applied the whole log."""
        head = await asyncio.to_thread(self.head.head)
        found: list[Candidate] = []
        cursor: str | None = None
        while len(found) < limit:
            page = await self.reads.list_memories(
                memory_scope(tenant_id, **scope),
                order="created_asc",
                limit=min(PAGE, limit - len(found)),
                cursor=cursor,
                min_position=head,
            )
            found += [
                Candidate(len(found) + n + 1, r.id, r.version, r.text, r.memory_type) for n, r in enumerate(page.items)
            ]
            cursor = page.next_cursor
            if cursor is None:
                break
        return found

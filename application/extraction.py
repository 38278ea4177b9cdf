"""Extraction: from an episode to memory events, in two model calls.

1. The model extracts candidate facts (text, memory type, source messages, validity) as structured output.
2. For each fact the hybrid search finds the most similar live memories of the same scope; the model sees them
   under short integer handles (never ids) and decides once per fact: ADD, UPDATE, DELETE or NONE.
3. The decisions become memory events with provenance, saved with the job's success in one transaction.

Steps 2 and 3 hold the scope's lock and first wait until the memories read model has applied the whole log, so
two conversations of one user decide one after the other, each seeing what the other added. With no similar
memory at all, every fact is an ADD and the second call is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentmem.application.job_runner import Attempt
from agentmem.application.jobs import EpisodeNotFoundError, JobApplication, JobPolicy, LogHead, ScopeLocks
from agentmem.application.llm import (
    LanguageModel,
    LanguageModels,
    LLMAnswer,
    LLMRequest,
    Message,
    OutputSchema,
    deadline_in,
)
from agentmem.application.memory_changes import Changes, MemoryChanges, NewFacts
from agentmem.application.model_output import (
    DECISIONS_SCHEMA,
    FACTS_SCHEMA,
    Candidate,
    Decision,
    Fact,
    answer_data,
    parse_decisions,
    parse_facts,
)
from agentmem.application.prompts import PromptSet, prompt_set
from agentmem.application.quota import MemoryQuota
from agentmem.application.reads import Reads
from agentmem.application.scopes import memory_scope
from agentmem.domain.base import Context
from agentmem.domain.episode import Episode

CANDIDATES_PER_FACT = 5
"""Similar memories shown to the model per fact: enough to find the one a fact updates (mem0 shows 5 too)."""


def scope_key(tenant_id: str, scope: Mapping[str, str | None]) -> str:
    """The lock key of a scope: a tenant's user and agent (runs of one user share their memories' fate)."""
    return f"scope:{tenant_id}:{scope.get('user_id') or '-'}:{scope.get('agent_id') or '-'}"


def bind_model(models: LanguageModels, context: Context, params: Mapping[str, Any]) -> LanguageModel:
    """The job's model: the one named in its parameters (provider and model) or the configured default."""
    return models.bind(context, "extraction", agent_llm=params.get("llm"))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_text(episode: Episode) -> str:
    """The messages as the extraction prompt shows them: index, role, speaker, time, content."""
    lines = [f"Today is {episode.created_on:%Y-%m-%d} (UTC)."]
    for index, message in enumerate(episode.messages):
        when: datetime = message.get("created_at") or episode.created_on
        speaker = f" {message['name']}" if message.get("name") else ""
        lines.append(f"[{index}] {message['role']}{speaker} ({when:%Y-%m-%d %H:%M %Z}): {message['content']}")
    return "\n".join(lines)


@dataclass
class Plan:
    """What a run of extraction found and decided, and which model and prompts it used."""

    prompt_version: str
    provider: str
    model: str
    facts: list[Fact] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def result(self, dry_run: bool) -> dict[str, Any]:
        """The job's result as its Succeeded event records it."""
        counts = dict.fromkeys(("ADD", "UPDATE", "DELETE"), 0)
        for decision in self.decisions:
            if decision.status == "applied":
                counts[decision.event] += 1
        return {
            "dry_run": dry_run,
            "provider": self.provider,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "facts": [
                {
                    "text": f.text,
                    "memory_type": f.memory_type,
                    "source_messages": list(f.sources),
                    "valid_from": iso(f.valid_from),
                    "valid_to": iso(f.valid_to),
                }
                for f in self.facts
            ],
            "decisions": [d.as_dict() for d in self.decisions],
            "added": counts["ADD"],
            "updated": counts["UPDATE"],
            "deleted": counts["DELETE"],
        }

    def note(self, answer: LLMAnswer) -> None:
        self.provider, self.model = answer.provider, answer.model


class Extraction:
    """The `extraction` job handler, and the dry run of re-extraction."""

    def __init__(
        self,
        jobs: JobApplication,
        changes: MemoryChanges,
        models: LanguageModels,
        reads: Reads,
        head: LogHead,
        locks: ScopeLocks,
        quota: MemoryQuota,
        policy: JobPolicy,
        read_model: str = "memories",
    ) -> None:
        self.jobs = jobs
        self.changes = changes
        self.models = models
        self.reads = reads
        self.head = head
        self.locks = locks
        self.quota = quota
        self.policy = policy
        self.read_model = read_model

    async def __call__(self, attempt: Attempt) -> None:
        job = attempt.job
        episode = await asyncio.to_thread(self.jobs.any_episode, job.episode_id) if job.episode_id else None
        if episode is None or episode.tenant_id != job.tenant_id:
            raise EpisodeNotFoundError(f"episode {job.episode_id} not found")
        dry_run = bool(job.params.get("dry_run"))
        context = attempt.context
        model = bind_model(self.models, context, job.params)
        prompts = prompt_set(job.params.get("prompt_version"))
        plan = Plan(prompts.version, model.provider, model.model)
        plan.facts = await self._facts(model, prompts, episode, plan)
        async with self.locks.hold(scope_key(job.tenant_id, episode.scope), self.policy.lease_seconds / 2):
            await self._decide(model, prompts, episode, plan)

            def provenance(decision: Decision) -> dict[str, Any]:
                return {
                    "source": "extraction",
                    "job_id": str(job.id),
                    "episode_id": str(episode.id),
                    "messages": list(decision.sources),
                    "provider": plan.provider,
                    "model": plan.model,
                    "prompt_version": plan.prompt_version,
                }

            new = NewFacts(episode.id, episode.scope, episode.metadata, plan.facts)
            changes = await asyncio.to_thread(
                self.changes.apply, plan.decisions, plan.candidates, context, provenance, new, dry_run
            )
            await record(attempt, self.quota, plan.result(dry_run), changes)

    async def preview(self, episode: Episode, params: Mapping[str, Any], context: Context) -> Plan:
        """What extraction would decide now against today's memories, without writing anything."""
        model = bind_model(self.models, context, params)
        prompts = prompt_set(params.get("prompt_version"))
        plan = Plan(prompts.version, model.provider, model.model)
        plan.facts = await self._facts(model, prompts, episode, plan)
        await self._decide(model, prompts, episode, plan)
        new = NewFacts(episode.id, episode.scope, episode.metadata, plan.facts)
        await asyncio.to_thread(
            self.changes.apply, plan.decisions, plan.candidates, context, lambda _: {}, new, dry_run=True
        )
        return plan

    async def _facts(self, model: LanguageModel, prompts: PromptSet, episode: Episode, plan: Plan) -> list[Fact]:
        answer = await model.complete(
            LLMRequest(
                messages=(Message.system(prompts.render("extract")), Message.user(conversation_text(episode))),
                output=OutputSchema("facts", FACTS_SCHEMA),
                temperature=0.0,
                deadline=deadline_in(self.policy.lease_seconds / 3),
            )
        )
        plan.note(answer)
        return parse_facts(answer_data(answer, FACTS_SCHEMA), len(episode.messages))

    async def _decide(self, model: LanguageModel, prompts: PromptSet, episode: Episode, plan: Plan) -> None:
        """Finds the candidates of each fact and the model's decisions (all ADD when nothing similar exists)."""
        if not plan.facts:
            return
        head = await asyncio.to_thread(self.head.head)
        scope = memory_scope(episode.tenant_id, **episode.scope)
        handles: dict[object, Candidate] = {}
        related: list[list[int]] = []
        for fact in plan.facts:
            found = await self.reads.search(
                self.read_model, scope, fact.text, limit=CANDIDATES_PER_FACT, min_position=head
            )
            mine: list[int] = []
            for hit in found.hits:
                row = hit.memory
                if row.id not in handles:
                    handles[row.id] = Candidate(len(handles) + 1, row.id, row.version, row.text, row.memory_type)
                mine.append(handles[row.id].handle)
            related.append(mine)
        plan.candidates = list(handles.values())
        if not plan.candidates:
            plan.decisions = [
                Decision("ADD", fact=n, new_text=f.text, sources=f.sources) for n, f in enumerate(plan.facts)
            ]
            return
        answer = await model.complete(
            LLMRequest(
                messages=(
                    Message.system(prompts.render("decide")),
                    Message.user(decision_text(plan.facts, plan.candidates, related)),
                ),
                output=OutputSchema("decisions", DECISIONS_SCHEMA),
                temperature=0.0,
                deadline=deadline_in(self.policy.lease_seconds / 3),
            )
        )
        plan.note(answer)
        by_handle = {c.handle: c for c in plan.candidates}
        plan.decisions = parse_decisions(answer_data(answer, DECISIONS_SCHEMA), plan.facts, by_handle)


async def record(attempt: Attempt, quota: MemoryQuota, result: dict[str, Any], changes: Changes) -> None:
    """Saves the job's success with its memory events, within the memory quota (added memories reserved first)."""
    tenant_id = attempt.job.tenant_id
    limit = int(attempt.job.params.get("max_memories") or 0)
    reserving = quota.reserve(tenant_id, changes.added, limit) if changes.added else contextlib.nullcontext()
    async with reserving:
        await attempt.succeed(result, changes.memories)
    if changes.deleted:
        await quota.release(tenant_id, changes.deleted)


def decision_text(facts: list[Fact], candidates: list[Candidate], related: list[list[int]]) -> str:
    """The decision prompt's input: known memories under handles, then each new fact with its related handles."""
    lines = ["Known memories:"]
    lines += [f"[{c.handle}] {c.text} ({c.memory_type})" for c in candidates]
    lines += ["", "New facts:"]
    for number, (fact, handles) in enumerate(zip(facts, related, strict=True)):
        similar = ", ".join(f"[{h}]" for h in handles) or "none"
        lines.append(f"{number}. {fact.text} ({fact.memory_type}; similar: {similar})")
    return "\n".join(lines)

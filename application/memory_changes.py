"""Turns a job's decisions into memory events (not yet saved), each carrying the job's provenance.

A memory a job adds gets an id derived from the episode and the fact's text, so running an episode again (a
retry, a re-extraction) can never add the same fact twice: the id exists and the decision becomes
`unchanged`. A memory the model saw at one version and that changed since is a ConcurrentChangeError: the
attempt fails whole and the next one decides on what is there now, never overwriting a newer edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from agentmem.application.job_runner import ConcurrentChangeError
from agentmem.application.memories import MemoryApplication
from agentmem.application.model_output import Candidate, Decision, Fact
from agentmem.domain.base import Context
from agentmem.domain.errors import AgentMemError
from agentmem.domain.memory import Memory

EXTRACTED_NAMESPACE = UUID("3f0e9a52-6c1d-4b8e-9d27-5a4c1e7b8f60")


def extracted_id(tenant_id: str, episode_id: UUID, text: str) -> UUID:
    """The id of the memory an episode's fact becomes: the same fact of the same episode, the same memory."""
    normalized = " ".join(text.lower().split())
    return uuid5(EXTRACTED_NAMESPACE, f"{tenant_id}\x1f{episode_id}\x1f{normalized}")


@dataclass(frozen=True, slots=True)
class NewFacts:
    """Where ADD decisions put their memories: the episode, its scope and metadata, and the facts."""

    episode_id: UUID
    scope: dict[str, str | None]
    metadata: dict[str, Any]
    facts: Sequence[Fact]


@dataclass(frozen=True, slots=True)
class Changes:
    """The memories with pending events, and how many memories were added and deleted (for the quota)."""

    memories: list[Memory]
    added: int
    deleted: int


class MemoryChanges:
    """Applies decisions to freshly loaded memories; statuses say what happened to each decision."""

    def __init__(self, memories: MemoryApplication) -> None:
        self.memories = memories

    def apply(
        self,
        decisions: Sequence[Decision],
        candidates: Sequence[Candidate],
        context: Context,
        provenance: Callable[[Decision], dict[str, Any]],
        new: NewFacts | None = None,
        dry_run: bool = False,
    ) -> Changes:
        """Runs each planned decision on the memories (nothing is saved here); `dry_run` only marks them planned."""
        seen_versions = {c.memory_id: c.version for c in candidates}
        touched: dict[UUID, Memory] = {}
        for decision in decisions:
            if decision.status != "planned":
                continue
            if decision.event == "NONE":
                decision.status, decision.reason = "unchanged", decision.reason or "already known"
                continue
            try:
                if decision.event == "ADD":
                    assert new is not None, "ADD needs the episode's facts"
                    self._add(decision, new, context, provenance(decision), touched)
                else:
                    self._change(decision, new, seen_versions, context, provenance(decision), touched)
            except ConcurrentChangeError:
                raise
            except AgentMemError as error:  # a rule of the memory refused it (e.g. a second change to a deleted one)
                decision.refuse(str(error))
        applied = [d for d in decisions if d.status == "applied"]
        if dry_run:
            for decision in applied:
                decision.status = "planned"
            return Changes([], 0, 0)
        added = sum(d.event == "ADD" for d in applied)
        deleted = sum(d.event == "DELETE" for d in applied)
        return Changes([m for m in touched.values() if m.pending_events], added, deleted)

    def _change(
        self,
        decision: Decision,
        new: NewFacts | None,
        seen_versions: dict[UUID, int],
        context: Context,
        provenance: dict[str, Any],
        touched: dict[UUID, Memory],
    ) -> None:
        memory = self._load(decision, seen_versions, context, touched)
        if memory is None:
            return
        if decision.event == "DELETE":
            memory.delete(context, provenance)
        else:
            fact = new.facts[decision.fact] if new is not None and decision.fact is not None else None
            if not memory.update(context, self._update(decision, fact), provenance):
                decision.status, decision.reason = "unchanged", "the memory says this already"
                return
        decision.status = "applied"

    def _add(
        self,
        decision: Decision,
        new: NewFacts,
        context: Context,
        provenance: dict[str, Any],
        touched: dict[UUID, Memory],
    ) -> None:
        assert decision.fact is not None
        fact = new.facts[decision.fact]
        memory_id = extracted_id(context.tenant_id, new.episode_id, fact.text)
        decision.memory_id = memory_id
        if memory_id in touched or self.memories.load(Memory, memory_id, context.tenant_id) is not None:
            decision.status, decision.reason = "unchanged", "already added from this episode"
            return
        touched[memory_id] = Memory.create(
            id=memory_id,
            context=context,
            text=fact.text,
            memory_type=fact.memory_type,
            metadata=dict(new.metadata),
            valid_from=fact.valid_from,
            valid_to=fact.valid_to,
            provenance=provenance,
            **new.scope,
        )
        decision.status = "applied"

    def _load(
        self, decision: Decision, seen_versions: dict[UUID, int], context: Context, touched: dict[UUID, Memory]
    ) -> Memory | None:
        assert decision.memory_id is not None
        memory = touched.get(decision.memory_id)
        if memory is None:
            memory = self.memories.load(Memory, decision.memory_id, context.tenant_id)
            if memory is not None and memory.version != seen_versions.get(decision.memory_id, memory.version):
                raise ConcurrentChangeError(f"memory {decision.memory_id} changed after the model saw it")
            if memory is None or memory.deleted:
                decision.refuse("the memory is gone")
                return None
            touched[memory.id] = memory
        return memory

    @staticmethod
    def _update(decision: Decision, fact: Fact | None) -> dict[str, Any]:
        changes: dict[str, Any] = {"text": decision.new_text}
        if fact is not None and (fact.valid_from is not None or fact.valid_to is not None):
            changes.update(valid_from=fact.valid_from, valid_to=fact.valid_to)
        return changes

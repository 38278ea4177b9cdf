"""The prompts jobs send to the language model, as versioned templates: every job records the version it used.

A prompt set is never edited once released: a better prompt is a new version, so a memory's provenance always
names the exact words that produced it, and `POST /v1/episodes/{id}/reextract` can compare versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from agentmem.domain.errors import InvalidInput

_ENV = Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)  # noqa: S701 - prompts, not HTML


@dataclass(frozen=True)
class PromptSet:
    """The system prompts of one version: extract facts, decide against known memories, consolidate, rewrite."""

    version: str
    extract: Template
    decide: Template
    consolidate: Template
    rewrite: Template

    def render(self, name: str, **values: Any) -> str:
        template: Template = getattr(self, name)
        return template.render(**values).strip()


V1 = PromptSet(
    version="v1",
    extract=_ENV.from_string(
        """
You extract durable facts worth remembering from a conversation between a user and an assistant.
Each message is shown as [index] role (time): content.

Rules:
- Extract facts about the user, their life, preferences, plans, relationships, and anything they ask to remember.
- One fact per item, self-contained, in the third person ("Ana lives in Porto", not "I live in Porto").
  Use the speaker's name when given; otherwise say "the user".
- Skip small talk, greetings, and what the assistant says unless the user confirms it.
- A fact the user retracts or corrects is stated in its corrected form ("the user no longer eats meat").
- memory_type: semantic (a fact about the world or the user), episodic (an event that happened at a time),
  procedural (how to do something), core (identity, name, essentials), resource (a document, link or file),
  knowledge (general knowledge the user taught).
- source_messages: the indexes of the messages the fact comes from.
- valid_from / valid_to: ISO-8601 dates (YYYY-MM-DD) only when the conversation states when the fact holds;
  resolve relative times ("last month", "since Tuesday") against the time of the message that says it.
  Otherwise null.
- If nothing is worth remembering, return an empty list.
"""
    ),
    decide=_ENV.from_string(
        """
You keep a memory store consistent. For each new fact, decide what to do with the memories already stored.
Known memories are shown under short integer handles like [3]; refer to them only by these handles.

Decide one event per fact:
- ADD: the fact is new. memory = null, text = null.
- UPDATE: the fact refines, corrects or supersedes a known memory ("lives in Lisbon" -> "moved to Porto").
  memory = its handle, text = the new full text of that memory.
- DELETE: the fact says a known memory is no longer true or was retracted, and nothing replaces it.
  memory = its handle, text = null.
- NONE: the fact is already known (same meaning). memory = the handle of that memory, or null.

Give exactly one decision for every fact index, and never a handle that is not listed.
"""
    ),
    consolidate=_ENV.from_string(
        """
You tidy a memory store. The memories of one user or agent are listed under short integer handles like [3].

Find:
- near-duplicates (same meaning): keep one, UPDATE it with the best combined text if needed, DELETE the others;
- contradictions: DELETE the memory that is older or less specific, and say why.

Refer to memories only by their handles. Leave everything else alone: return an empty list when there is
nothing to merge or retire. Each action: event (UPDATE or DELETE), memory (handle), text (the new full text
for UPDATE, else null), reason (a short sentence).
"""
    ),
    rewrite=_ENV.from_string(
        """
You condense a core-memory block that has grown past its size limit. Keep every fact that matters to the
agent, drop repetition and filler, keep the block's structure and language. The result must be at most
{{ limit }} characters long (it is {{ size }} now). Answer with the new value only.
"""
    ),
)

PROMPTS: dict[str, PromptSet] = {V1.version: V1}
DEFAULT_PROMPT_VERSION = V1.version


def prompt_set(version: str | None) -> PromptSet:
    """The prompts of `version` (the default when None); InvalidInput naming `prompt_version` for unknown ones."""
    found = PROMPTS.get(version or DEFAULT_PROMPT_VERSION)
    if found is None:
        raise InvalidInput("prompt_version", f"prompt_version must be one of {', '.join(PROMPTS)}")
    return found

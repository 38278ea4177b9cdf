"""The episode aggregate: a conversation handed in for extraction, kept as it was said (the source of the facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import InvalidInput
from agentmem.domain.memory import check_scope_id
from agentmem.domain.metadata import check_metadata

MAX_MESSAGES = 100
MAX_CONTENT_CHARS = 100_000
MAX_NAME_CHARS = 64
ROLES = ("user", "assistant", "system", "tool")


class EpisodeRuleError(DomainError):
    """An episode rule refused a change."""


class InvalidEpisodeError(EpisodeRuleError, InvalidInput):
    """A field of the episode breaks a rule; `field` names it (e.g. `messages[2].content`)."""


def check_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checks 1 to MAX_MESSAGES messages of {role, content, name?, created_at?}; names the first bad field."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise InvalidEpisodeError("messages", f"an episode holds 1 to {MAX_MESSAGES} messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]."
        if message.get("role") not in ROLES:
            raise InvalidEpisodeError(f"{where}role", f"role must be one of {', '.join(ROLES)}")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            raise InvalidEpisodeError(f"{where}content", "content must not be empty")
        if len(content) > MAX_CONTENT_CHARS:
            raise InvalidEpisodeError(f"{where}content", f"content must be at most {MAX_CONTENT_CHARS:,} characters")
        name = message.get("name")
        if name is not None and not (isinstance(name, str) and 1 <= len(name) <= MAX_NAME_CHARS):
            raise InvalidEpisodeError(f"{where}name", f"name must be 1 to {MAX_NAME_CHARS} characters")
        created_at = message.get("created_at")
        if created_at is not None and not (isinstance(created_at, datetime) and created_at.tzinfo is not None):
            raise InvalidEpisodeError(f"{where}created_at", "created_at must be an instant with a time zone")
    return messages


class Episode(TenantAggregate):
    """Messages of one conversation with the scope they belong to; memories extracted from it point back here."""

    class Created(TenantAggregate.Created):
        messages: list[dict[str, Any]]
        user_id: str | None
        agent_id: str | None
        run_id: str | None
        metadata: dict[str, Any]

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        messages: list[dict[str, Any]],
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Episode:
        """Checks the messages, the scope and the metadata, then records Created."""
        metadata = {} if metadata is None else metadata
        check_messages(messages)
        check_metadata(metadata, InvalidEpisodeError)
        for field, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
            check_scope_id(field, value)
        kept = [{k: v for k, v in m.items() if k in ("role", "content", "name", "created_at")} for m in messages]
        return cls(
            id=id,
            messages=kept,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            metadata=metadata,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        messages: list[dict[str, Any]],
        user_id: str | None,
        agent_id: str | None,
        run_id: str | None,
        metadata: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.messages = messages
        self.user_id = user_id
        self.agent_id = agent_id
        self.run_id = run_id
        self.metadata = metadata
        self.created_by = actor_id

    @property
    def scope(self) -> dict[str, str | None]:
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}

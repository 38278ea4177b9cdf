"""The agent aggregate: instructions, model settings, attached blocks and tools, and how its context is laid out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.context_template import TemplateRuleError, check_template
from agentmem.domain.errors import Conflict, InvalidInput, NotFound
from agentmem.domain.metadata import check_metadata

LLM_PROVIDERS = ("openai", "anthropic", "gemini", "azure_openai", "openai_compatible")
EMBEDDING_PROVIDERS = ("local", "openai", "openai_compatible")
MAX_NAME_CHARS = 255
MAX_DESCRIPTION_CHARS = 2_000
MAX_SYSTEM_CHARS = 50_000
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_BLOCKS = 50
MAX_TOOLS = 100
EDITABLE_FIELDS = (
    "name",
    "description",
    "system",
    "llm",
    "embedding",
    "tool_ids",
    "tags",
    "metadata",
    "context_template",
)


class AgentRuleError(DomainError):
    """An agent rule refused a change."""


class InvalidAgentError(AgentRuleError, InvalidInput):
    """A field value breaks an agent rule; `field` names it."""


class AgentDeletedError(AgentRuleError, Conflict):
    """The agent is deleted: restore it before editing it."""


class AgentNotDeletedError(AgentRuleError, Conflict):
    """Only a deleted agent can be restored."""


class BlockNotAttachedError(AgentRuleError, NotFound):
    """The block is not attached to this agent."""


def _text(field: str, value: Any, maximum: int, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or len(value) > maximum or (required and not value.strip()):
        need = "1 to" if required else "at most"
        raise InvalidAgentError(field, f"{field} must be {need} {maximum:,} characters")


def check_llm(llm: dict[str, Any] | None) -> None:
    if llm is None:
        return
    if not isinstance(llm, dict) or llm.get("provider") not in LLM_PROVIDERS:
        raise InvalidAgentError("llm", f"llm.provider must be one of {', '.join(LLM_PROVIDERS)}")
    _text("llm.model", llm.get("model"), 255, required=True)
    temperature = llm.get("temperature")
    if temperature is not None and (not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2):
        raise InvalidAgentError("llm.temperature", "llm.temperature must be between 0 and 2")


def check_embedding(embedding: dict[str, Any] | None) -> None:
    if embedding is None:
        return
    if not isinstance(embedding, dict) or embedding.get("provider") not in EMBEDDING_PROVIDERS:
        raise InvalidAgentError("embedding", f"embedding.provider must be one of {', '.join(EMBEDDING_PROVIDERS)}")
    _text("embedding.model", embedding.get("model"), 255, required=True)
    dimension = embedding.get("dimension")
    if dimension is not None and (not isinstance(dimension, int) or not 1 <= dimension <= 16_384):
        raise InvalidAgentError("embedding.dimension", "embedding.dimension must be between 1 and 16,384")


def check_tags(tags: list[str]) -> list[str]:
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidAgentError("tags", f"tags must be a list of at most {MAX_TAGS}")
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_CHARS:
            raise InvalidAgentError("tags", f"every tag must be 1 to {MAX_TAG_CHARS} characters")
    return list(dict.fromkeys(tags))


def check_ids(field: str, ids: list[UUID], maximum: int) -> list[UUID]:
    if not isinstance(ids, list) or len(ids) > maximum or not all(isinstance(i, UUID) for i in ids):
        raise InvalidAgentError(field, f"{field} must be a list of at most {maximum} ids")
    return list(dict.fromkeys(ids))


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Checks the editable fields given (and the template against the agent they describe); returns them cleaned."""
    checked = dict(fields)
    if "name" in fields:
        _text("name", fields["name"], MAX_NAME_CHARS, required=True)
    _text("description", fields.get("description"), MAX_DESCRIPTION_CHARS)
    _text("system", fields.get("system"), MAX_SYSTEM_CHARS)
    check_llm(fields.get("llm"))
    check_embedding(fields.get("embedding"))
    if "tags" in fields:
        checked["tags"] = check_tags(fields["tags"])
    if "tool_ids" in fields:
        checked["tool_ids"] = check_ids("tool_ids", fields["tool_ids"], MAX_TOOLS)
    if "metadata" in fields:
        check_metadata(fields["metadata"], InvalidAgentError)
    return checked


def check_context_template(template: str | None, agent: dict[str, Any]) -> None:
    if template is None:
        return
    if not isinstance(template, str) or not template.strip():
        raise InvalidAgentError("context_template", "context_template must be a non-empty string or null")
    try:
        check_template(template, agent)
    except TemplateRuleError as error:
        raise InvalidAgentError("context_template", f"the context template does not render: {error}") from None


class Agent(TenantAggregate):
    """An agent of a tenant: what it is told, which model it uses, and which blocks and tools it has."""

    class Created(TenantAggregate.Created):
        name: str
        description: str | None
        system: str
        llm: dict[str, Any] | None
        embedding: dict[str, Any] | None
        block_ids: list[UUID]
        tool_ids: list[UUID]
        tags: list[str]
        metadata: dict[str, Any]
        context_template: str | None

    class Updated(TenantAggregate.Event):
        changes: dict[str, Any]

    class BlocksAttached(TenantAggregate.Event):
        block_ids: list[UUID]

    class BlocksDetached(TenantAggregate.Event):
        block_ids: list[UUID]

    class Deleted(TenantAggregate.Event):
        pass

    class Restored(TenantAggregate.Event):
        pass

    @classmethod
    def create(cls, *, id: UUID, context: Context, name: str, block_ids: list[UUID], **fields: Any) -> Agent:  # noqa: A002
        """Checks every rule (the context template renders), then records Created."""
        defaults: dict[str, Any] = {
            "description": None,
            "system": "",
            "llm": None,
            "embedding": None,
            "tool_ids": [],
            "tags": [],
            "metadata": {},
            "context_template": None,
        }
        unknown = set(fields) - set(defaults)
        if unknown:
            raise InvalidAgentError(sorted(unknown)[0], f"{sorted(unknown)[0]} is not an agent field")
        values = check_fields({**defaults, **fields, "name": name})
        if values["system"] is None:
            values["system"] = ""
        check_context_template(values["context_template"], {**values, "id": id})
        block_ids = check_ids("block_ids", block_ids, MAX_BLOCKS)
        return cls(id=id, block_ids=block_ids, **values, **context.event_fields())

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        name: str,
        description: str | None,
        system: str,
        llm: dict[str, Any] | None,
        embedding: dict[str, Any] | None,
        block_ids: list[UUID],
        tool_ids: list[UUID],
        tags: list[str],
        metadata: dict[str, Any],
        context_template: str | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.description = description
        self.system = system
        self.llm = llm
        self.embedding = embedding
        self.block_ids = list(block_ids)
        self.tool_ids = list(tool_ids)
        self.tags = list(tags)
        self.metadata = metadata
        self.context_template = context_template
        self.deleted = False
        self.created_by = actor_id
        self.updated_by = actor_id

    def state(self) -> dict[str, Any]:
        """The agent's fields as a plain dict (without id, version and timestamps)."""
        return {
            "name": self.name,
            "description": self.description,
            "system": self.system,
            "llm": self.llm,
            "embedding": self.embedding,
            "block_ids": list(self.block_ids),
            "tool_ids": list(self.tool_ids),
            "tags": list(self.tags),
            "metadata": self.metadata,
            "context_template": self.context_template,
            "deleted": self.deleted,
        }

    def _check_live(self) -> None:
        if self.deleted:
            raise AgentDeletedError("the agent is deleted; restore it before changing it")

    def update(self, context: Context, changes: dict[str, Any]) -> bool:
        """Changes editable fields; records Updated with only the fields that differ. False if none did."""
        self._check_live()
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidAgentError(field, f"{field} cannot be changed here")
        changes = check_fields(changes)
        if changes.get("system", "") is None:
            changes["system"] = ""
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        after = {**self.state(), **differing, "id": self.id}
        check_context_template(after["context_template"], after)
        self._updated(changes=differing, **context.event_fields())
        return True

    def attach(self, context: Context, block_ids: list[UUID]) -> bool:
        """Attaches blocks not attached yet, after those already attached. False if all of them were."""
        self._check_live()
        new = [b for b in check_ids("block_ids", block_ids, MAX_BLOCKS) if b not in self.block_ids]
        if not new:
            return False
        if len(self.block_ids) + len(new) > MAX_BLOCKS:
            raise InvalidAgentError("block_ids", f"an agent has at most {MAX_BLOCKS} blocks")
        self._attached(block_ids=new, **context.event_fields())
        return True

    def detach(self, context: Context, block_ids: list[UUID]) -> None:
        """Detaches attached blocks; refuses ids that are not attached."""
        self._check_live()
        missing = [b for b in block_ids if b not in self.block_ids]
        if missing:
            raise BlockNotAttachedError(f"block {missing[0]} is not attached to this agent")
        if block_ids:
            self._detached(block_ids=list(dict.fromkeys(block_ids)), **context.event_fields())

    def delete(self, context: Context) -> None:
        """Soft delete: the agent leaves reads until it is restored; its conversation stays in the log."""
        self._check_live()
        self._deleted(**context.event_fields())

    def restore(self, context: Context) -> None:
        """Undoes a soft delete."""
        if not self.deleted:
            raise AgentNotDeletedError("the agent is not deleted")
        self._restored(**context.event_fields())

    @event(Updated)
    def _updated(self, changes: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_by = actor_id

    @event(BlocksAttached)
    def _attached(self, block_ids: list[UUID], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.block_ids = [*self.block_ids, *block_ids]
        self.updated_by = actor_id

    @event(BlocksDetached)
    def _detached(self, block_ids: list[UUID], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.block_ids = [b for b in self.block_ids if b not in block_ids]
        self.updated_by = actor_id

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True
        self.updated_by = actor_id

    @event(Restored)
    def _restored(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = False
        self.updated_by = actor_id

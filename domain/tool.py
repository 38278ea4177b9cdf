"""The tool aggregate: user code an agent may call, with the JSON Schema its arguments must meet and its limits."""

from __future__ import annotations

import ast
import json
import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import event
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, best_match
from jsonschema_specifications import REGISTRY
from referencing.exceptions import Unresolvable

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.secret import check_secret_name

LANGUAGES = ("python", "bash", "javascript")
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_DESCRIPTION_CHARS = 2_000
MAX_SOURCE_CHARS = 65_536
MAX_SCHEMA_BYTES = 16_384
MAX_TIMEOUT_S = 60.0
MIN_MEMORY_MB, MAX_MEMORY_MB = 64, 1_024
MAX_SECRETS = 16
MAX_TAGS = 32
MAX_TAG_CHARS = 64
DEFAULT_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}
EDITABLE_FIELDS = (
    "name",
    "description",
    "parameters",
    "language",
    "source",
    "timeout_s",
    "memory_mb",
    "secrets",
    "tags",
)


class ToolRuleError(DomainError):
    """A tool rule refused a change."""


class InvalidToolError(ToolRuleError, InvalidInput):
    """A field value breaks a tool rule; `field` names it."""


class ToolDeletedError(ToolRuleError, Conflict):
    """The tool is deleted: restore it before editing or running it."""


class ToolNotDeletedError(ToolRuleError, Conflict):
    """Only a deleted tool can be restored."""


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidToolError("name", "name must be a function name: a letter or _, then letters, digits or _ (≤ 64)")
    return name


def check_parameters(schema: Any) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for an object of arguments, with local `$ref`s only (nothing is fetched)."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise InvalidToolError("parameters", 'parameters must be a JSON Schema with "type": "object"')
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise InvalidToolError("parameters", f"parameters must be at most {MAX_SCHEMA_BYTES:,} bytes of JSON")
    remote = next(_remote_refs(schema), None)
    if remote is not None:
        raise InvalidToolError("parameters", f"parameters may only hold local references (#/…), not {remote!r}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise InvalidToolError("parameters", f"parameters is not a valid JSON Schema: {error.message}") from None
    return schema


def _remote_refs(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("$ref", "$dynamicRef") and not (isinstance(item, str) and item.startswith("#")):
                yield item
            yield from _remote_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _remote_refs(item)


def check_source(language: Any, source: Any) -> None:
    if language not in LANGUAGES:
        raise InvalidToolError("language", f"language must be one of {', '.join(LANGUAGES)}")
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_CHARS:
        raise InvalidToolError("source", f"source must be 1 to {MAX_SOURCE_CHARS:,} characters")
    if language != "python":
        return
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        line = getattr(error, "lineno", None)
        raise InvalidToolError("source", f"the Python source does not parse (line {line}): {error}") from None
    if "main" not in _top_level_names(module):
        raise InvalidToolError("source", "the Python source must define a function main")


def _top_level_names(module: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _number(field: str, value: Any, low: float, high: float, *, whole: bool = False) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise InvalidToolError(field, f"{field} must be {'a whole number ' if whole else ''}from {low:g} to {high:g}")


def check_fields(fields: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    """Checks the fields given and returns them cleaned; `language` is the tool's when the change keeps it."""
    checked = dict(fields)
    if "name" in fields:
        check_name(fields["name"])
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS):
        raise InvalidToolError("description", f"description must be at most {MAX_DESCRIPTION_CHARS:,} characters")
    if "parameters" in fields:
        check_parameters(fields["parameters"])
    if "source" in fields or "language" in fields:
        check_source(fields.get("language", language), fields.get("source"))
    if "timeout_s" in fields:
        _number("timeout_s", fields["timeout_s"], 0.1, MAX_TIMEOUT_S)
    if "memory_mb" in fields:
        _number("memory_mb", fields["memory_mb"], MIN_MEMORY_MB, MAX_MEMORY_MB, whole=True)
    if "secrets" in fields:
        secrets = fields["secrets"]
        if not isinstance(secrets, list) or len(secrets) > MAX_SECRETS:
            raise InvalidToolError("secrets", f"secrets must be a list of at most {MAX_SECRETS} names")
        checked["secrets"] = list(dict.fromkeys(check_secret_name(s, f"secrets[{i}]") for i, s in enumerate(secrets)))
    if "tags" in fields:
        tags = fields["tags"]
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise InvalidToolError("tags", f"tags must be a list of at most {MAX_TAGS}")
        if not all(isinstance(t, str) and 0 < len(t) <= MAX_TAG_CHARS for t in tags):
            raise InvalidToolError("tags", f"every tag must be 1 to {MAX_TAG_CHARS} characters")
        checked["tags"] = list(dict.fromkeys(tags))
    return checked


class Tool(TenantAggregate):
    """A tool of a tenant: a `main` in Python, bash or JavaScript, its argument schema, limits and secrets."""

    class Created(TenantAggregate.Created):
        name: str
        description: str
        parameters: dict[str, Any]
        language: str
        source: str
        timeout_s: float
        memory_mb: int
        secrets: list[str]
        tags: list[str]

    class Updated(TenantAggregate.Event):
        changes: dict[str, Any]

    class Deleted(TenantAggregate.Event):
        pass

    class Restored(TenantAggregate.Event):
        pass

    @classmethod
    def create(cls, *, id: UUID, context: Context, **fields: Any) -> Tool:  # noqa: A002
        """Checks every rule, then records Created."""
        defaults: dict[str, Any] = {
            "description": "",
            "parameters": DEFAULT_PARAMETERS,
            "timeout_s": 10.0,
            "memory_mb": 256,
            "secrets": [],
            "tags": [],
        }
        unknown = set(fields) - set(EDITABLE_FIELDS)
        if unknown:
            raise InvalidToolError(sorted(unknown)[0], f"{sorted(unknown)[0]} is not a tool field")
        values = check_fields({**defaults, **fields})
        for required in ("name", "language", "source"):
            if required not in values:
                raise InvalidToolError(required, f"{required} is required")
        values["timeout_s"] = float(values["timeout_s"])
        values["description"] = values["description"] or ""
        return cls(id=id, **values, **context.event_fields())

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,  # noqa: ARG002
        name: str,
        description: str,
        parameters: dict[str, Any],
        language: str,
        source: str,
        timeout_s: float,
        memory_mb: int,
        secrets: list[str],
        tags: list[str],
    ) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.description = description
        self.parameters = parameters
        self.language = language
        self.source = source
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.secrets = list(secrets)
        self.tags = list(tags)
        self.deleted = False
        self.created_by = actor_id
        self.updated_by = actor_id

    def state(self) -> dict[str, Any]:
        """The tool's fields as a plain dict (without id, version and timestamps)."""
        return {name: getattr(self, name) for name in (*EDITABLE_FIELDS, "deleted")}

    def update(self, context: Context, changes: dict[str, Any]) -> bool:
        """Changes editable fields; records Updated with only the fields that differ. False if none did."""
        self._check_live()
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            field = sorted(unknown)[0]
            raise InvalidToolError(field, f"{field} cannot be changed here")
        if "language" in changes and "source" not in changes:
            changes = {**changes, "source": self.source}
        changes = check_fields(changes, self.language)
        if "timeout_s" in changes:
            changes["timeout_s"] = float(changes["timeout_s"])
        if changes.get("description", "") is None:
            changes["description"] = ""
        differing = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not differing:
            return False
        self._updated(changes=differing, **context.event_fields())
        return True

    def check_args(self, args: Any) -> dict[str, Any]:
        """The arguments if they meet the tool's schema; otherwise InvalidToolError naming the first bad one."""
        if not isinstance(args, dict):
            raise InvalidToolError("args", "args must be a JSON object")
        validator = Draft202012Validator(self.parameters, registry=REGISTRY)
        try:
            error = best_match(validator.iter_errors(args))
        except Unresolvable as unresolvable:
            raise InvalidToolError("args", f"the tool's parameters cannot be resolved: {unresolvable}") from None
        if error is not None:
            where = ".".join(str(p) for p in ("args", *error.absolute_path))
            raise InvalidToolError(where, f"{where}: {error.message}")
        return args

    def delete(self, context: Context) -> None:
        """Soft delete: the tool leaves reads and cannot run until it is restored."""
        self._check_live()
        self._deleted(**context.event_fields())

    def restore(self, context: Context) -> None:
        """Undoes a soft delete."""
        if not self.deleted:
            raise ToolNotDeletedError("the tool is not deleted")
        self._restored(**context.event_fields())

    def _check_live(self) -> None:
        if self.deleted:
            raise ToolDeletedError("the tool is deleted; restore it before changing it")

    @event(Updated)
    def _updated(self, changes: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated_by = actor_id

    @event(Deleted)
    def _deleted(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = True
        self.updated_by = actor_id

    @event(Restored)
    def _restored(self, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.deleted = False
        self.updated_by = actor_id

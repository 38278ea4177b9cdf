"""Export and import of one organization's whole event history as NDJSON (one JSON object per line).

The file is a header line, one line per event in log order (the event as the store holds it: its topic, its
aggregate id and version, and its state in eventsourcing's JSON), and an end line with the count, so a
truncated file is refused instead of imported as a shorter history.

What does not travel, by rule:
- API keys (`ApiKey` events): their hashes are secrets, keyed with the source server's secret, useless elsewhere;
  issue new keys on the target (`agentmem keys create`).
- password hashes: exported as null, so imported users have no password until one is set again.
- the platform's bookkeeping (`NameClaim`, `EmailIndex`): the import claims the organization's name (and its live
  tools' names) and lists its users' addresses anew on the target, in the same transaction as the events.
- secret values: they are sealed with the source server's secret, beside the log; set them again on the target.
- platform superadmin rights: an imported user is never a superadmin of the target.

An import checks everything first (format, every event decodes and belongs to the organization, every
aggregate's versions follow each other, no id or name is taken on the target), then writes all events in one
transaction: it lands whole or not at all. Events get new log positions; ids, versions and timestamps are
kept, so history, `as_of` reads and search answer as on the source once the projections have caught up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic

from agentmem.application.base import ApplicationError, EventPositions, check_storable
from agentmem.application.events import TenantLog, decode, is_secret
from agentmem.application.identity import IdentityApplication
from agentmem.application.tools import name_claim
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.email_index import PLATFORM_TENANT, EmailIndex
from agentmem.domain.errors import Conflict, InvalidInput
from agentmem.domain.name_claim import NameClaim, NameTakenError
from agentmem.domain.organization import Organization
from agentmem.domain.tool import Tool
from agentmem.domain.user import User

FORMAT = "agentmem-export/1"
PAGE = 1000
DOMAIN_TOPICS = "agentmem.domain."
NOT_EXPORTED = tuple(get_topic(cls) + "." for cls in (ApiKey, NameClaim, EmailIndex))
"""Topic prefixes of events an export leaves out (credentials, platform bookkeeping)."""
IMPORT_CONTEXT = Context(tenant_id=PLATFORM_TENANT, actor_id="system:import", request_id="import")
SHOWN_CLASHES = 3


class ImportFileError(ApplicationError, InvalidInput):
    """The file is not a complete AgentMem export, or one of its lines breaks a rule; the message names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__("file", f"line {line}: {message}")


class ImportClashError(ApplicationError, Conflict):
    """Something in the file already exists here (an id, the organization's name); nothing was imported."""


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import wrote: the organization, how many of its events, and the log position after them."""

    organization_id: UUID
    name: str
    events: int
    position: int


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class OrganizationExport:
    """Writes an organization's events as export lines."""

    def __init__(self, log: TenantLog, identity: IdentityApplication) -> None:
        self.log = log
        self.identity = identity

    async def lines(self, organization_id: UUID) -> AsyncIterator[bytes]:
        """The header, every exported event in log order, and the end line."""
        organization = self.identity.get_organization(organization_id)
        tenant_id = organization.tenant_id
        yield _line(
            {
                "kind": "header",
                "format": FORMAT,
                "organization_id": str(organization.id),
                "organization_name": organization.name,
                "exported_at": datetime.now(UTC).isoformat(),
            }
        )
        count, after = 0, 0
        while True:
            rows = await self.log.read(tenant_id, after, PAGE)
            for row in rows:
                if row.topic.startswith(NOT_EXPORTED) or row.state is None:
                    continue
                event = decode(self.identity.mapper, row, tenant_id)
                state = {k: (None if is_secret(k) else v) for k, v in json.loads(row.state).items()}
                count += 1
                yield _line(
                    {
                        "kind": "event",
                        "position": row.position,
                        "type": type(event).__qualname__,
                        "aggregate_id": str(row.originator_id),
                        "version": row.version,
                        "topic": row.topic,
                        "state": state,
                    }
                )
            if len(rows) < PAGE:
                break
            after = rows[-1].position
        yield _line({"kind": "end", "events": count})


@dataclass
class _Replay:
    """What reading a file found: the organization, its events in order, every aggregate as they leave it."""

    organization_id: UUID
    events: list[Any]
    aggregates: dict[UUID, Any]


class OrganizationImport:
    """Replays an export into this server's log, whole or not at all."""

    def __init__(self, identity: IdentityApplication, positions: EventPositions) -> None:
        self.identity = identity
        self.positions = positions

    def run(self, lines: Iterable[str | bytes]) -> Imported:
        replay = self._read(lines)
        organization = replay.aggregates.get(replay.organization_id)
        if not isinstance(organization, Organization):
            raise ImportFileError(1, f"the file holds no organization {replay.organization_id}")
        self._check_free(replay)
        users = [a for a in replay.aggregates.values() if isinstance(a, User)]
        try:
            bookkeeping = self.identity.register_imported(organization, users, IMPORT_CONTEXT)
        except NameTakenError:
            raise ImportClashError(f"an organization named {organization.name!r} exists here") from None
        tenant = replace(IMPORT_CONTEXT, tenant_id=organization.tenant_id)
        tools = [name_claim(a, tenant) for a in replay.aggregates.values() if isinstance(a, Tool) and not a.deleted]
        pending = [e for aggregate in (*bookkeeping, *tools) for e in aggregate.collect_events()]
        mapper = self.identity.mapper
        stored = [mapper.to_stored_event(e) for e in (*replay.events, *pending)]
        try:
            positions = self.identity.recorder.insert_events(stored)
        except IntegrityError:
            raise ImportClashError(
                "ids or the name of this organization were taken while importing; nothing was imported"
            ) from None
        assert positions
        return Imported(organization.id, organization.name, len(replay.events), max(positions))

    def _read(self, lines: Iterable[str | bytes]) -> _Replay:
        numbered = enumerate((raw for raw in lines if raw.strip()), start=1)
        header = self._record(next(numbered, (1, b"")))
        if header.get("kind") != "header" or header.get("format") != FORMAT:
            raise ImportFileError(1, f"not an AgentMem export (the first line must be a {FORMAT} header)")
        try:
            organization_id = UUID(str(header["organization_id"]))
        except (KeyError, ValueError):
            raise ImportFileError(1, "the header names no organization_id") from None
        replay = _Replay(organization_id, [], {})
        for number, raw in numbered:
            record = self._record((number, raw))
            if record.get("kind") == "end":
                if record.get("events") != len(replay.events):
                    raise ImportFileError(
                        number, f"the file ends after {len(replay.events)} events, not {record.get('events')}"
                    )
                return replay
            event = self._event(number, record, str(organization_id))
            aggregate = replay.aggregates.get(event.originator_id)
            expected = aggregate.version + 1 if aggregate is not None else 1
            if event.originator_version != expected:
                raise ImportFileError(
                    number,
                    f"version {event.originator_version} of {event.originator_id} where version {expected} was due",
                )
            try:
                replay.aggregates[event.originator_id] = event.mutate(aggregate)
            except Exception as error:  # noqa: BLE001 - any failure to replay is the file's fault
                raise ImportFileError(number, f"event does not follow its aggregate's history: {error}") from None
            replay.events.append(event)
        raise ImportFileError(len(replay.events) + 2, "the file is truncated (no end line)")

    @staticmethod
    def _record(numbered: tuple[int, str | bytes]) -> dict[str, Any]:
        number, raw = numbered
        try:
            record = json.loads(raw)
        except ValueError:
            raise ImportFileError(number, "not a JSON object") from None
        if not isinstance(record, dict):
            raise ImportFileError(number, "not a JSON object")
        return record

    def _event(self, number: int, record: dict[str, Any], tenant_id: str) -> Any:
        """The domain event of a line, checked: a domain topic, exported kinds only, this organization's."""
        topic, state = record.get("topic"), record.get("state")
        if record.get("kind") != "event" or not isinstance(topic, str) or not isinstance(state, dict):
            raise ImportFileError(number, "an event line needs kind, topic, aggregate_id, version and state")
        origin = state.get("originator_topic", DOMAIN_TOPICS)
        if not topic.startswith(DOMAIN_TOPICS) or not str(origin).startswith(DOMAIN_TOPICS):
            raise ImportFileError(number, f"{topic!r} is not an AgentMem event")
        if topic.startswith(NOT_EXPORTED):
            raise ImportFileError(number, f"{topic!r} events are never imported (credentials, platform records)")
        if topic.endswith(":User.Created"):
            state = {**state, "superadmin": False}
        try:
            stored = StoredEvent(
                UUID(str(record.get("aggregate_id"))), int(record["version"]), topic, json.dumps(state).encode()
            )
            event = self.identity.mapper.to_domain_event(stored)
        except Exception as error:  # noqa: BLE001 - whatever the line holds, it is the file's fault
            raise ImportFileError(number, f"cannot read the event: {error}") from None
        if getattr(event, "tenant_id", None) != tenant_id:
            raise ImportFileError(number, "the event belongs to another organization than the header's")
        try:
            check_storable([event])
        except InvalidInput as error:
            raise ImportFileError(number, str(error)) from None
        return event

    def _check_free(self, replay: _Replay) -> None:
        taken = list(self.positions.latest_versions(list(replay.aggregates)))
        if taken:
            shown = ", ".join(str(i) for i in taken[:SHOWN_CLASHES])
            raise ImportClashError(
                f"{len(taken)} aggregates of this file exist here already ({shown}); "
                "was this organization imported before? nothing was imported"
            )

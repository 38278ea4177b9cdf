"""The job aggregate: background work (extraction, consolidation) whose every state change is an event.

A job is queued, then each attempt starts (holding a lease until a deadline) and either fails (retried later,
or failed for good once the attempts are spent) or succeeds. The success event is saved in the same transaction
as the memory events the job decided on, so the log never holds one without the other: a job run twice, or
retried after a crash, finds itself succeeded and does nothing. A worker that died mid-attempt leaves the job
`running` with a lease in the past; the next start records that attempt as interrupted first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from agentmem.domain.base import Context, DomainError, TenantAggregate
from agentmem.domain.errors import Conflict, InvalidInput

JOB_KINDS = ("extraction", "consolidation")
STATUSES = ("queued", "running", "succeeded", "failed")
MAX_REASON_CHARS = 1_000


class JobRuleError(DomainError):
    """A job rule refused a change."""


class InvalidJobError(JobRuleError, InvalidInput):
    """A field of a new job breaks a rule."""


class JobStateError(JobRuleError, Conflict):
    """The job's status does not allow this (retrying a job that has not failed)."""


class Job(TenantAggregate):
    """One unit of background work of a tenant, with its attempts, its error and its result."""

    class Created(TenantAggregate.Created):
        kind: str
        episode_id: UUID | None
        scope: dict[str, Any]
        params: dict[str, Any]
        max_attempts: int

    class Started(TenantAggregate.Event):
        attempt: int
        lease_until: datetime

    class AttemptFailed(TenantAggregate.Event):
        attempt: int
        reason: str
        retry_at: datetime | None

    class Succeeded(TenantAggregate.Event):
        attempt: int
        result: dict[str, Any]

    class RetryRequested(TenantAggregate.Event):
        attempt_limit: int

    @classmethod
    def create(
        cls,
        *,
        id: UUID,  # noqa: A002
        context: Context,
        kind: str,
        scope: dict[str, Any],
        params: dict[str, Any],
        max_attempts: int,
        episode_id: UUID | None = None,
    ) -> Job:
        """Queues a job of a known kind with at least one attempt."""
        if kind not in JOB_KINDS:
            raise InvalidJobError("kind", f"kind must be one of {', '.join(JOB_KINDS)}")
        if max_attempts < 1:
            raise InvalidJobError("max_attempts", "a job needs at least one attempt")
        return cls(
            id=id,
            kind=kind,
            episode_id=episode_id,
            scope=scope,
            params=params,
            max_attempts=max_attempts,
            **context.event_fields(),
        )

    @event(Created)
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002, ARG002
        tenant_id: str,
        actor_id: str,
        request_id: str,
        kind: str,
        episode_id: UUID | None,
        scope: dict[str, Any],
        params: dict[str, Any],
        max_attempts: int,
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.episode_id = episode_id
        self.scope = scope
        self.params = params
        self.max_attempts = max_attempts
        self.attempt_limit = max_attempts
        self.status = "queued"
        self.attempts = 0
        self.lease_until: datetime | None = None
        self.error: str | None = None
        self.next_attempt_at: datetime | None = None
        self.result: dict[str, Any] | None = None
        self.created_by = actor_id
        self.request_id = request_id

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    def start(self, context: Context, now: datetime, lease_until: datetime) -> bool:
        """Starts the next attempt, holding the job until `lease_until`. False when there is nothing to start:
        the job is finished, another worker's lease still holds, or it is not due yet."""
        if self.finished:
            return False
        if self.status == "running":
            assert self.lease_until is not None
            if self.lease_until > now:
                return False
            message = f"attempt {self.attempts} was interrupted (its worker stopped before the lease ended)"
            self.fail(context, self.attempts, message, retry_at=now)
            if self.finished:
                return False
        if self.next_attempt_at is not None and self.next_attempt_at > now:
            return False
        self._started(attempt=self.attempts + 1, lease_until=lease_until, **context.event_fields())
        return True

    @event(Started)
    def _started(self, attempt: int, lease_until: datetime, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.status = "running"
        self.attempts = attempt
        self.lease_until = lease_until
        self.next_attempt_at = None

    def fail(self, context: Context, attempt: int, reason: str, retry_at: datetime | None) -> None:
        """Ends the running attempt: queued again for `retry_at` while attempts remain, else failed for good."""
        self._check_running(attempt)
        final = retry_at is None or self.attempts >= self.attempt_limit
        self._attempt_failed(
            attempt=attempt,
            reason=reason[:MAX_REASON_CHARS],
            retry_at=None if final else retry_at,
            **context.event_fields(),
        )

    @event(AttemptFailed)
    def _attempt_failed(
        self,
        attempt: int,  # noqa: ARG002
        reason: str,
        retry_at: datetime | None,
        tenant_id: str,  # noqa: ARG002
        actor_id: str,  # noqa: ARG002
        request_id: str,  # noqa: ARG002
    ) -> None:
        self.status = "queued" if retry_at is not None else "failed"
        self.error = reason
        self.next_attempt_at = retry_at
        self.lease_until = None

    def succeed(self, context: Context, attempt: int, result: dict[str, Any]) -> None:
        """Ends the running attempt with its result (saved together with the memory events it decided on)."""
        self._check_running(attempt)
        self._succeeded(attempt=attempt, result=result, **context.event_fields())

    @event(Succeeded)
    def _succeeded(self, attempt: int, result: dict[str, Any], tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.status = "succeeded"
        self.result = result
        self.error = None
        self.lease_until = None

    def request_retry(self, context: Context) -> None:
        """Queues a failed job again with a fresh set of attempts."""
        if self.status != "failed":
            raise JobStateError(f"only a failed job can be retried; this one is {self.status}")
        self._retry_requested(attempt_limit=self.attempts + self.max_attempts, **context.event_fields())

    @event(RetryRequested)
    def _retry_requested(self, attempt_limit: int, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.status = "queued"
        self.attempt_limit = attempt_limit
        self.next_attempt_at = None

    def _check_running(self, attempt: int) -> None:
        if self.status != "running" or attempt != self.attempts:
            raise JobStateError(f"attempt {attempt} is not the running attempt of this job ({self.status})")

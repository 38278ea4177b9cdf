"""The email index aggregate: which users, in which organizations, sign in with one email address.

Emails are unique within an organization, not across them: one organization can never learn that an address
is used by another. Sign-in by email alone finds the candidates here (consistently, from the log) and checks
the password against each; only a correct password can tell that an address has accounts in several places.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from agentmem.domain.base import Context, TenantAggregate

PLATFORM_TENANT = "platform"
"""The tenant of platform-wide bookkeeping aggregates (never an organization's id)."""


class EmailIndex(TenantAggregate):
    """The users holding one email address, with their organizations."""

    class Created(TenantAggregate.Created):
        address: str

    class Listed(TenantAggregate.Event):
        user_id: UUID
        user_tenant_id: str

    class Unlisted(TenantAggregate.Event):
        user_id: UUID

    @staticmethod
    def id_for(address: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/agentmem/email-index/{address}")

    @classmethod
    def open(cls, address: str, context: Context) -> EmailIndex:
        """A new, empty index for an address (its events belong to the platform, not an organization)."""
        fields = {**context.event_fields(), "tenant_id": PLATFORM_TENANT}
        return cls(id=cls.id_for(address), address=address, **fields)

    @event(Created)
    def __init__(self, *, id: UUID, tenant_id: str, actor_id: str, request_id: str, address: str) -> None:  # noqa: A002, ARG002
        self.tenant_id = tenant_id
        self.address = address
        self.users: dict[UUID, str] = {}

    def list_user(self, context: Context, user_id: UUID, user_tenant_id: str) -> None:
        fields = {**context.event_fields(), "tenant_id": PLATFORM_TENANT}
        self._listed(user_id=user_id, user_tenant_id=user_tenant_id, **fields)

    def unlist_user(self, context: Context, user_id: UUID) -> None:
        if user_id in self.users:
            self._unlisted(user_id=user_id, **{**context.event_fields(), "tenant_id": PLATFORM_TENANT})

    def tenant_holds(self, tenant_id: str) -> bool:
        return tenant_id in self.users.values()

    @event(Listed)
    def _listed(self, user_id: UUID, user_tenant_id: str, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.users[user_id] = user_tenant_id

    @event(Unlisted)
    def _unlisted(self, user_id: UUID, tenant_id: str, actor_id: str, request_id: str) -> None:  # noqa: ARG002
        self.users.pop(user_id, None)

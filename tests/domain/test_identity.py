"""Organization, User, ApiKey and NameClaim rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agentmem.domain.api_key import ApiKey, ApiKeyRevokedError, InvalidApiKeyError
from agentmem.domain.base import Context
from agentmem.domain.name_claim import NameClaim, NameTakenError
from agentmem.domain.organization import InvalidOrganizationError, Organization, OrganizationDeletedError
from agentmem.domain.user import InvalidUserError, User, UserDeletedError, normalize_email

ADMIN = Context(tenant_id="platform", actor_id="user:admin", request_id="r1")


def test_an_organization_is_its_own_tenant_even_when_an_admin_creates_it() -> None:
    org = Organization.create(id=uuid4(), context=ADMIN, name=" Acme ", quotas={"max_memories": 10})
    assert org.tenant_id == str(org.id) and org.name == "Acme" and org.status == "active"
    assert org.quotas == {"requests_per_minute": None, "max_memories": 10, "llm_tokens_per_day": None}
    org.update(ADMIN, {"status": "suspended"})
    assert all(e.tenant_id == org.tenant_id and e.actor_id == "user:admin" for e in org.collect_events())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"status": "gone"}, "status"),
        ({"quotas": {"max_memories": -1}}, "quotas.max_memories"),
        ({"quotas": {"max_memories": True}}, "quotas.max_memories"),
        ({"quotas": {"storage": 1}}, "quotas"),
        ({"id": "x"}, "id"),
    ],
)
def test_organization_changes_are_checked(changes: dict, field: str) -> None:
    org = Organization.create(id=uuid4(), context=ADMIN, name="Acme")
    with pytest.raises(InvalidOrganizationError) as error:
        org.update(ADMIN, changes)
    assert error.value.field == field


def test_a_deleted_organization_cannot_change() -> None:
    org = Organization.create(id=uuid4(), context=ADMIN, name="Acme")
    assert org.update(ADMIN, {"name": "Acme"}) is False
    org.delete(ADMIN)
    with pytest.raises(OrganizationDeletedError):
        org.update(ADMIN, {"name": "Other"})


def test_emails_are_normalised_and_checked() -> None:
    assert normalize_email("  Ann@Example.COM ") == "ann@example.com"
    assert normalize_email("root@localhost") == "root@localhost"
    for bad in ("", "ann", "ann@", "a b@example.com", "x" * 250 + "@example.com"):
        with pytest.raises(InvalidUserError):
            normalize_email(bad)


def test_a_user_changes_role_is_disabled_and_deleted() -> None:
    tenant = Context(tenant_id="t1", actor_id="key:k", request_id="r")
    user = User.create(id=uuid4(), context=tenant, email="a@example.com", name="A", role="viewer", password_hash=None)
    assert user.update(tenant, {"role": "member"}) and user.role == "member"
    with pytest.raises(InvalidUserError):
        user.update(tenant, {"role": "superadmin"})
    with pytest.raises(InvalidUserError):
        user.update(tenant, {"email": "b@example.com"})
    assert user.disable(tenant) and not user.disable(tenant) and not user.active
    assert user.enable(tenant) and user.active
    user.delete(tenant)
    with pytest.raises(UserDeletedError):
        user.change_password(tenant, "hash")


def test_an_api_key_is_usable_until_it_expires_or_is_revoked() -> None:
    expires = datetime.now(UTC) + timedelta(minutes=1)
    tenant = Context(tenant_id="t1", actor_id="key:k", request_id="r")
    key = ApiKey.create(
        id=uuid4(), context=tenant, name="ci", role="viewer", prefix="am_x", key_hash="h", expires_at=expires
    )
    assert key.usable_at(expires - timedelta(seconds=1)) and not key.usable_at(expires)
    key.revoke(tenant)
    with pytest.raises(ApiKeyRevokedError):
        key.revoke(tenant)
    with pytest.raises(InvalidApiKeyError):
        ApiKey.create(id=uuid4(), context=tenant, name="x", role="root", prefix="p", key_hash="h")
    with pytest.raises(InvalidApiKeyError):
        ApiKey.create(id=uuid4(), context=tenant, name="x", role="viewer", prefix="p", key_hash="h",
                      expires_at=datetime(2030, 1, 1))  # fmt: skip
    with pytest.raises(InvalidApiKeyError, match="future") as past:
        ApiKey.create(id=uuid4(), context=tenant, name="x", role="viewer", prefix="p", key_hash="h",
                      expires_at=datetime.now(UTC) - timedelta(seconds=1))  # fmt: skip
    assert past.value.field == "expires_at"


def test_a_name_claim_is_derived_from_the_name_and_taken_once() -> None:
    assert NameClaim.id_for("email", "a@example.com") == NameClaim.id_for("email", "a@example.com")
    assert NameClaim.id_for("email", "a") != NameClaim.id_for("organization", "a")
    holder, other = uuid4(), uuid4()
    claim = NameClaim.create(context=ADMIN, kind="email", name="a@example.com", ref=holder)
    with pytest.raises(NameTakenError):
        claim.claim(ADMIN, other)
    claim.release(ADMIN)
    claim.claim(ADMIN, other)
    assert claim.ref == other

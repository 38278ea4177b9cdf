"""IdentityApplication against the real event store: organizations, users, keys, sign-in, bootstrap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agentmem.application.identity import (
    AuthenticationError,
    IdentityApplication,
    OrganizationNotFoundError,
    OrganizationSuspendedError,
    UserNotFoundError,
    WeakPasswordError,
)
from agentmem.domain.base import Context
from agentmem.domain.name_claim import NameTakenError
from agentmem.infrastructure.bootstrap import identity_application
from agentmem.infrastructure.settings import Settings

ADMIN = Context(tenant_id="platform", actor_id="user:admin", request_id="req")


@pytest.fixture(scope="module")
def identity(settings: Settings) -> Iterator[IdentityApplication]:
    app = identity_application(settings)
    yield app
    app.close()


def name() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


def test_a_new_organization_comes_with_a_working_owner_key(identity: IdentityApplication) -> None:
    created = identity.create_organization(name(), ADMIN)
    found = identity.authenticate_key(created.owner_key.secret)
    assert found.organization.id == created.organization.id and found.key is not None
    assert found.key.role == "owner" and found.key.tenant_id == created.organization.tenant_id
    assert created.owner_key.secret not in repr(found.key.__dict__)  # only the hash is kept
    assert identity.find_organization(created.organization.name.upper()) is not None


def test_keys_are_refused_when_unknown_revoked_expired_or_their_org_is_gone(identity: IdentityApplication) -> None:
    created = identity.create_organization(name(), ADMIN)
    owner = replace(ADMIN, tenant_id=created.organization.tenant_id)
    soon = identity.create_key("soon", "viewer", owner, expires_at=datetime.now(UTC) + timedelta(minutes=1))
    identity.authenticate_key(soon.secret)
    with pytest.raises(AuthenticationError, match="expired"):
        identity.authenticate_key(soon.secret, now=datetime.now(UTC) + timedelta(minutes=2))
    with pytest.raises(AuthenticationError):
        identity.authenticate_key(soon.secret[:-1] + "x")
    identity.revoke_key(soon.key.id, owner)
    with pytest.raises(AuthenticationError, match="revoked"):
        identity.authenticate_key(soon.secret)
    identity.update_organization(created.organization.id, {"status": "suspended"}, ADMIN)
    with pytest.raises(OrganizationSuspendedError):
        identity.authenticate_key(created.owner_key.secret)
    identity.delete_organization(created.organization.id, ADMIN)
    with pytest.raises(AuthenticationError):
        identity.authenticate_key(created.owner_key.secret)
    with pytest.raises(OrganizationNotFoundError):
        identity.get_organization(created.organization.id)


def test_emails_are_unique_across_organizations_until_the_user_is_deleted(identity: IdentityApplication) -> None:
    a = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    b = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    user = identity.create_user(a, email=address, name="A", role="member").aggregate
    with pytest.raises(NameTakenError):
        identity.create_user(b, email=address.upper(), name="B", role="member")
    with pytest.raises(UserNotFoundError):
        identity.delete_user(user.id, b)
    identity.delete_user(user.id, a)
    assert identity.create_user(b, email=address, name="B", role="member").aggregate.tenant_id == b.tenant_id


def test_sign_in_checks_the_argon2id_hash(identity: IdentityApplication) -> None:
    org = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    user = identity.create_user(org, email=address, name="A", role="viewer", password="s3cret-pass").aggregate
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert identity.login(address.upper(), "s3cret-pass").user is not None
    for email, password in ((address, "wrong-pass"), ("nobody@example.com", "s3cret-pass"), ("not an email", "x")):
        with pytest.raises(AuthenticationError, match="wrong email or password"):
            identity.login(email, password)
    with pytest.raises(WeakPasswordError):
        identity.update_user(user.id, org.tenant_id, {}, org, password="short")
    keyless = identity.create_user(org, email=f"x{address}", name="", role="viewer").aggregate
    with pytest.raises(AuthenticationError):
        identity.login(keyless.email, "")


def test_bootstrap_runs_once(identity: IdentityApplication, settings: Settings) -> None:
    assert identity.bootstrap(settings.bootstrap_email, None, settings.bootstrap_api_key) is None
    default = identity.find_organization("default")
    assert default is not None
    another_key = "am_" + "z" * 40
    added = identity.bootstrap(settings.bootstrap_email, None, another_key)
    assert added is not None and added.key is not None and added.key.key.role == "superadmin"
    found = identity.authenticate_key(another_key)
    assert found.user is not None and found.user.superadmin and found.organization.id == default.id
    assert identity.bootstrap(settings.bootstrap_email, None, another_key) is None

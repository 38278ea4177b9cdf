"""IdentityApplication against the real event store: organizations, users, keys, sign-in, bootstrap."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agentmem.application.authentication import (
    AmbiguousAccountError,
    AuthenticationError,
    Authenticator,
    OrganizationSuspendedError,
)
from agentmem.application.bootstrap import bootstrap
from agentmem.application.identity import (
    EmailTakenError,
    IdentityApplication,
    OrganizationNotFoundError,
    UserNotFoundError,
    WeakPasswordError,
)
from agentmem.domain.base import Context
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container

ADMIN = Context(tenant_id="platform", actor_id="user:admin", request_id="req")


@pytest.fixture(scope="module")
def identity(container: Container) -> IdentityApplication:
    return container.identity


@pytest.fixture(scope="module")
def auth(container: Container) -> Authenticator:
    return container.auth


def name() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


def test_a_new_organization_comes_with_a_working_owner_key(identity: IdentityApplication, auth: Authenticator) -> None:
    created = identity.create_organization(name(), ADMIN)
    found = auth.authenticate_key(created.owner_key.secret)
    assert found.organization.id == created.organization.id and found.key is not None
    assert found.key.role == "owner" and found.key.tenant_id == created.organization.tenant_id
    assert created.owner_key.secret not in repr(found.key.__dict__)  # only the hash is kept
    assert identity.find_organization(created.organization.name.upper()) is not None


def test_keys_are_refused_when_unknown_revoked_expired_or_their_org_is_gone(
    identity: IdentityApplication, auth: Authenticator
) -> None:
    created = identity.create_organization(name(), ADMIN)
    owner = replace(ADMIN, tenant_id=created.organization.tenant_id)
    soon = identity.create_key("soon", "viewer", owner, expires_at=datetime.now(UTC) + timedelta(minutes=1))
    auth.authenticate_key(soon.secret)
    with pytest.raises(AuthenticationError, match="expired"):
        auth.authenticate_key(soon.secret, now=datetime.now(UTC) + timedelta(minutes=2))
    with pytest.raises(AuthenticationError):
        auth.authenticate_key(soon.secret[:-1] + ("y" if soon.secret.endswith("x") else "x"))  # always a changed key
    identity.revoke_key(soon.key.id, owner)
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.authenticate_key(soon.secret)
    identity.update_organization(created.organization.id, {"status": "suspended"}, ADMIN)
    with pytest.raises(OrganizationSuspendedError):
        auth.authenticate_key(created.owner_key.secret)
    identity.delete_organization(created.organization.id, ADMIN)
    with pytest.raises(AuthenticationError):
        auth.authenticate_key(created.owner_key.secret)
    with pytest.raises(OrganizationNotFoundError):
        identity.get_organization(created.organization.id)


def test_an_email_is_unique_within_an_organization_and_says_nothing_across_them(
    identity: IdentityApplication, auth: Authenticator
) -> None:
    a = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    b = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    user = identity.create_user(a, email=address, name="A", role="member", password="password-a").aggregate
    with pytest.raises(EmailTakenError):
        identity.create_user(a, email=address.upper(), name="A again", role="member")
    other = identity.create_user(b, email=address, name="B", role="member", password="password-b").aggregate
    assert other.tenant_id == b.tenant_id  # another organization learns nothing: the address is free there
    assert auth.login(address, "password-a").organization.tenant_id == a.tenant_id
    assert auth.login(address, "password-b").organization.tenant_id == b.tenant_id
    with pytest.raises(UserNotFoundError):
        identity.delete_user(user.id, b)
    identity.delete_user(user.id, a)
    with pytest.raises(AuthenticationError):
        auth.login(address, "password-a")
    again = identity.create_user(a, email=address, name="A2", role="member", password="password-b").aggregate
    with pytest.raises(AmbiguousAccountError):
        auth.login(address, "password-b")  # only someone holding the password learns of the second account
    assert auth.login(address, "password-b", organization=a.tenant_id).user == again


def test_sign_in_checks_the_argon2id_hash(identity: IdentityApplication, auth: Authenticator) -> None:
    org = replace(ADMIN, tenant_id=identity.create_organization(name(), ADMIN).organization.tenant_id)
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    user = identity.create_user(org, email=address, name="A", role="viewer", password="s3cret-pass").aggregate
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert auth.login(address.upper(), "s3cret-pass").user is not None
    for email, password in ((address, "wrong-pass"), ("nobody@example.com", "s3cret-pass"), ("not an email", "x")):
        with pytest.raises(AuthenticationError, match="wrong email or password"):
            auth.login(email, password)
    with pytest.raises(WeakPasswordError):
        identity.update_user(user.id, org.tenant_id, {}, org, password="short")
    keyless = identity.create_user(org, email=f"x{address}", name="", role="viewer").aggregate
    with pytest.raises(AuthenticationError):
        auth.login(keyless.email, "")


def test_bootstrap_runs_once(identity: IdentityApplication, auth: Authenticator, settings: Settings) -> None:
    assert bootstrap(identity, settings.bootstrap_email, None, settings.bootstrap_api_key) is None
    default = identity.find_organization("default")
    assert default is not None
    another_key = "am_" + "z" * 40
    added = bootstrap(identity, settings.bootstrap_email, None, another_key)
    assert added is not None and added.key is not None and added.key.key.role == "superadmin"
    found = auth.authenticate_key(another_key)
    assert found.user is not None and found.user.superadmin and found.organization.id == default.id
    assert bootstrap(identity, settings.bootstrap_email, None, another_key) is None

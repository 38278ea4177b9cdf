"""The first start: the `default` organization, its owner (a platform superadmin) and an owner API key."""

from __future__ import annotations

from dataclasses import dataclass, replace

from agentmem.application.authentication import AuthenticationError
from agentmem.application.credentials import key_id
from agentmem.application.identity import IdentityApplication, IssuedKey
from agentmem.domain.api_key import ApiKey
from agentmem.domain.base import Context
from agentmem.domain.email_index import PLATFORM_TENANT
from agentmem.domain.organization import Organization
from agentmem.domain.user import User

DEFAULT_ORGANIZATION = "default"
BOOTSTRAP_CONTEXT = Context(tenant_id=PLATFORM_TENANT, actor_id="system:bootstrap", request_id="bootstrap")


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    """What the first start created: the default organization, its owner and the owner's key."""

    organization: Organization
    user: User
    key: IssuedKey | None


def bootstrap(
    identity: IdentityApplication, email: str, password: str | None = None, secret: str | None = None
) -> Bootstrapped | None:
    """On first start: the `default` organization, its owner (a platform superadmin) and an owner key.

    Later starts create nothing, except a key for `secret` when that key does not exist yet.
    """
    existing = identity.find_organization(DEFAULT_ORGANIZATION)
    if existing is not None:
        if secret is None or identity.get_aggregate(ApiKey, key_id(secret)) is not None:
            return None
        owner = _bootstrap_owner(identity, existing, email)
        context = replace(BOOTSTRAP_CONTEXT, tenant_id=existing.tenant_id)
        key = identity.create_key("bootstrap", "superadmin", context, user_id=owner.id, secret=secret)
        return Bootstrapped(existing, owner, key)
    created = identity.create_organization(DEFAULT_ORGANIZATION, BOOTSTRAP_CONTEXT)
    context = replace(BOOTSTRAP_CONTEXT, tenant_id=created.organization.tenant_id)
    user = identity.create_user(
        context, email=email, name="Administrator", role="owner", password=password, superadmin=True
    ).aggregate
    identity.revoke_key(created.owner_key.key.id, context)
    key = identity.create_key("bootstrap", "superadmin", context, user_id=user.id, secret=secret)
    return Bootstrapped(created.organization, user, key)


def _bootstrap_owner(identity: IdentityApplication, organization: Organization, email: str) -> User:
    for user_id, tenant_id in identity.users_with_email(email).items():
        user = identity.load(User, user_id, tenant_id) if tenant_id == organization.tenant_id else None
        if user is not None and user.active:
            return user
    raise AuthenticationError(f"no active bootstrap owner {email!r} in the default organization")

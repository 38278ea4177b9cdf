"""First start: the `default` organization, its owner (a platform superadmin) and an owner API key."""

from __future__ import annotations

import logging
import sys

from agentmem.application.bootstrap import bootstrap as bootstrap_identity
from agentmem.application.identity import IdentityApplication
from agentmem.infrastructure.eventstore import PostgresEventPositions, event_store_env, make_factory
from agentmem.infrastructure.secrets import server_secret, write_private
from agentmem.infrastructure.settings import Settings

log = logging.getLogger("agentmem.bootstrap")
ADMIN_KEY_FILE = "admin-api-key"


def identity_application(settings: Settings, pool_size: int = 2) -> IdentityApplication:
    """An identity application on its own small connection pool (for the CLI and the first start)."""
    assert settings.database_url
    factory = make_factory(settings.database_url, pool_size)
    return IdentityApplication(
        event_store_env(settings.database_url, pool_size),
        secret=server_secret(settings),
        factory=factory,
        positions=PostgresEventPositions(factory),
    )


def bootstrap(settings: Settings) -> str | None:
    """Creates the default organization on an empty log; returns the owner key it made (None if it made none).

    A generated key is printed once and written to `<data-dir>/admin-api-key` (mode 0600);
    AGENTMEM_BOOTSTRAP_API_KEY, when set, is used as the key instead.
    """
    app = identity_application(settings)
    try:
        created = bootstrap_identity(
            app, settings.bootstrap_email, settings.bootstrap_password, settings.bootstrap_api_key
        )
    finally:
        app.close()
    if created is None or created.key is None:
        return None
    key = created.key.secret
    if settings.bootstrap_api_key is None:
        path = settings.data_dir.resolve() / ADMIN_KEY_FILE
        path.unlink(missing_ok=True)
        write_private(path, key + "\n")
        sys.stderr.write(
            f"\nAgentMem created organization 'default' and its owner {created.user.email} (platform superadmin).\n"
            f"Owner API key (shown once, also saved to {path}):\n\n    {key}\n\n"
        )
    log.info("bootstrapped organization %s", created.organization.id)
    return key

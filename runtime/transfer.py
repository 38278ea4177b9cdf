"""Wiring for `agentmem export` and `agentmem import`: the organization transfer use cases on the configured
database (or the embedded one in the data directory)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import BinaryIO
from uuid import UUID

from agentmem.application.transfer import Imported, OrganizationExport, OrganizationImport
from agentmem.domain.errors import NotFound
from agentmem.infrastructure.bootstrap import identity_application
from agentmem.infrastructure.database import async_pool
from agentmem.infrastructure.postgres_events import PostgresTenantLog
from agentmem.infrastructure.schema import prepare_database
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.processes import database


def export_organization(settings: Settings, organization: str, out: BinaryIO) -> str | None:
    """Writes an organization's export (by name or id) to `out`; returns its name, None if there is none."""
    with database(settings) as running:
        prepare_database(running)
        assert running.database_url
        identity = identity_application(running)
        try:
            try:
                found = identity.get_organization(UUID(organization))
            except ValueError:
                found = identity.find_organization(organization)
            except NotFound:
                found = None
            if found is None:
                return None

            async def write() -> None:
                assert running.database_url
                pool = await async_pool(running.database_url, 2, "export")
                try:
                    async for line in OrganizationExport(PostgresTenantLog(pool), identity).lines(found.id):
                        out.write(line)
                finally:
                    await pool.close()

            asyncio.run(write())
            out.flush()
            return found.name
        finally:
            identity.close()


def import_organization(settings: Settings, lines: Iterable[bytes]) -> Imported:
    """Imports an export into the configured database, whole or not at all."""
    with database(settings) as running:
        prepare_database(running)
        identity = identity_application(running)
        try:
            assert identity.positions is not None
            return OrganizationImport(identity, identity.positions).run(lines)
        finally:
            identity.close()

"""The secret vault in PostgreSQL: table `organization_secrets`, one AES-256-GCM sealed value per secret.

The key is derived from the server secret for this purpose only; the tenant, name and version are bound to each
ciphertext as associated data, so a sealed value copied to another row (or tenant) does not open.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agentmem.application.secrets import SealedName
from agentmem.infrastructure.postgres_rows import prepare_table
from agentmem.infrastructure.secrets import derived_key

DDL = (
    "CREATE TABLE IF NOT EXISTS organization_secrets ("
    " tenant_id text NOT NULL, name text NOT NULL, version integer NOT NULL, sealed bytea NOT NULL,"
    " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, name))"
)
SEAL = (
    "INSERT INTO organization_secrets (tenant_id, name, version, sealed) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (tenant_id, name) DO UPDATE SET version = EXCLUDED.version, sealed = EXCLUDED.sealed,"
    " updated_at = now() WHERE organization_secrets.version < EXCLUDED.version"
)
UNSEAL = "SELECT sealed FROM organization_secrets WHERE tenant_id = %s AND name = %s AND version = %s"
FORGET = "DELETE FROM organization_secrets WHERE tenant_id = %s AND name = %s"
NAMES = "SELECT name, version, updated_at FROM organization_secrets WHERE tenant_id = %s ORDER BY name"
NONCE_BYTES = 12


def prepare_secret_vault(conn: psycopg.Connection) -> None:
    """Creates the vault's table, behind row-level security like every table with tenant rows."""
    prepare_table(conn, [DDL], "organization_secrets")


class PostgresSecretVault:
    """Seals values with a key derived from the server secret; stores them through the event store's connections."""

    def __init__(self, datastore: Any, server_secret: bytes) -> None:
        self.datastore = datastore
        self.cipher = AESGCM(derived_key(server_secret, "organization-secrets")[:32])

    @staticmethod
    def _bound(tenant_id: str, name: str, version: int) -> bytes:
        return f"{tenant_id}\0{name}\0{version}".encode()

    def seal(self, tenant_id: str, name: str, version: int, value: str) -> None:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self.cipher.encrypt(nonce, value.encode(), self._bound(tenant_id, name, version))
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(SEAL, (tenant_id, name, version, sealed))

    def unseal(self, tenant_id: str, name: str, version: int) -> str | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(UNSEAL, (tenant_id, name, version), prepare=True)
            row = cursor.fetchone()
        if row is None:
            return None
        sealed = bytes(row["sealed"])
        try:
            plain = self.cipher.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self._bound(tenant_id, name, version)
            )
        except InvalidTag:
            return None  # sealed under another server secret, or tampered with
        return plain.decode()

    def forget(self, tenant_id: str, name: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(FORGET, (tenant_id, name))

    def names(self, tenant_id: str) -> list[SealedName]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(NAMES, (tenant_id,))
            return [SealedName(row["name"], int(row["version"]), row["updated_at"]) for row in cursor.fetchall()]

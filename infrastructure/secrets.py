"""The server secret (HMAC of API keys, JWT signing): AGENTMEM_SECRET_KEY, or one generated into the data dir."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from agentmem.infrastructure.settings import Settings

log = logging.getLogger("agentmem.secrets")
SECRET_FILE = "secret-key"  # noqa: S105 - a file name


def write_private(path: Path, text: str) -> bool:
    """Creates `path` with mode 0600 holding `text`; False (and no change) if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return True


def server_secret(settings: Settings) -> bytes:
    """The configured secret, else `<data-dir>/secret-key`, created (0600) on first use."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir.resolve() / SECRET_FILE
    if write_private(path, secrets.token_urlsafe(48)):
        log.info("generated the server secret in %s (set AGENTMEM_SECRET_KEY to share one across machines)", path)
    return path.read_text().strip().encode()


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (API key hashes, JWT signatures), so no two uses share a key."""
    return hmac.new(secret, f"agentmem:{purpose}".encode(), hashlib.sha512).digest()  # 64 bytes: enough for HS512

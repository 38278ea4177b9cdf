"""First start and the command line: the default organization, the admin key file, `agentmem keys create`."""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from agentmem.application.authentication import Identity
from agentmem.cli import main
from agentmem.infrastructure.bootstrap import ADMIN_KEY_FILE, bootstrap
from agentmem.infrastructure.secrets import SECRET_FILE, server_secret
from agentmem.infrastructure.settings import Settings, SettingsError
from agentmem.runtime.container import Container


def identity_of(settings: Settings, key: str) -> Identity:
    """Who a key authenticates as, through the composition root's authenticator."""
    container = Container(settings)
    try:
        return container.auth.authenticate_key(key)
    finally:
        container.memories.close()


def test_first_start_prints_a_generated_owner_key_once_and_saves_it_0600(
    fresh_database: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = replace(fresh_database(bootstrapped=False, data_dir=tmp_path), bootstrap_api_key=None)
    key = bootstrap(settings)
    assert key is not None and key.startswith("am_") and key in capsys.readouterr().err
    path = tmp_path / ADMIN_KEY_FILE
    assert path.read_text().strip() == key and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert bootstrap(settings) is None and path.read_text().strip() == key  # the second start creates nothing
    found = identity_of(settings, key)
    assert found.organization.name == "default" and found.user is not None and found.user.superadmin
    assert found.user.role == "owner" and found.user.email == settings.bootstrap_email


def test_a_configured_bootstrap_key_is_used_and_no_file_is_written(
    fresh_database: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = fresh_database(bootstrapped=False, data_dir=tmp_path, bootstrap_api_key="b" * 40)
    assert bootstrap(settings) == "b" * 40
    assert not (tmp_path / ADMIN_KEY_FILE).exists()


def test_the_secret_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = server_secret(settings)
    assert server_secret(settings) == first and len(first) >= 32
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert server_secret(Settings(data_dir=tmp_path, secret_key="x" * 40)) == b"x" * 40


def test_a_short_bootstrap_key_or_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="AGENTMEM_BOOTSTRAP_API_KEY"):
        Settings.from_env({"AGENTMEM_BOOTSTRAP_API_KEY": "too-short"})
    with pytest.raises(SettingsError, match="AGENTMEM_SECRET_KEY"):
        Settings.from_env({"AGENTMEM_SECRET_KEY": "too-short"})
    with pytest.raises(SettingsError, match="AGENTMEM_JWT_ALGORITHM"):
        Settings.from_env({"AGENTMEM_JWT_ALGORITHM": "none"})
    parsed = Settings.from_env({"AGENTMEM_BOOTSTRAP_API_KEY": "k" * 32, "AGENTMEM_TOKEN_TTL": "3600"})
    assert parsed.bootstrap_api_key == "k" * 32 and parsed.token_ttl == 3600


def test_keys_create_prints_a_working_key(
    fresh_database: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh_database()
    assert settings.database_url and settings.secret_key
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AGENTMEM_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("AGENTMEM_DATA_DIR", str(settings.data_dir))
    assert main(["keys", "create", "--org", "default", "--role", "viewer", "--name", "ops"]) == 0
    key = capsys.readouterr().out.strip()
    found = identity_of(settings, key)
    assert found.key is not None and found.key.role == "viewer" and found.organization.name == "default"
    assert main(["keys", "create", "--org", "no-such-org", "--role", "viewer"]) == 1

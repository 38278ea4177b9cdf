"""Settings for entrypoints: the one settings module is infrastructure's; entrypoints read it through here."""

from agentmem.infrastructure.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]

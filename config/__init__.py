"""Settings from the environment, validated once, and logging set-up."""

from config.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError"]

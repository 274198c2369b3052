"""Settings of the outbox notifier: ``[notifiers.outbox]`` in ``config/hub.toml``."""

from __future__ import annotations

from pydantic import Field

from hub.plugin import PluginSettings


class OutboxNotifierSettings(PluginSettings):
    shop_name: str | None = Field(default=None, min_length=1)
    """Signs every message, under "Thank you for shopping with us."; unset: no signature."""
    busy_timeout_ms: int = Field(default=5000, ge=0)
    """How long a writer waits for another one before giving up (retryable)."""

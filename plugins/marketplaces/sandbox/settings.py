"""Settings of the sandbox marketplace: ``[marketplaces.sandbox]`` in ``config/hub.toml``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from hub.plugin import PluginSettings

# Only for a hub on one machine: set HUB_MARKETPLACES__SANDBOX__WEBHOOK_SECRET anywhere shared.
DEV_WEBHOOK_SECRET = "sandbox-marketplace-dev-secret"  # noqa: S105 (a published dev default)


class SandboxMarketplaceSettings(PluginSettings):
    webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    """Key of the HMAC-SHA256 signature (header ``x-sandbox-hmac-sha256``) on webhooks."""
    catalog_file: Path | None = None
    """Products the shop sells (``[[products]]`` with sku, name, price); relative to the config
    file's directory, default ``catalog.toml`` there."""
    invalid_address_rate: float = Field(default=0.08, ge=0.0, le=1.0)
    """Share of orders with an undeliverable address (bad postal code or missing street)."""
    unknown_sku_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    """Share of orders with a line whose SKU is not in the catalogue (``DISCONTINUED-<n>``)."""
    unpaid_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of orders placed with ``financial_status`` "pending"."""
    webhook_loss_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of new orders whose webhook is never sent, as real channels lose some: only the
    hub's poller finds them (chosen by hashing the order id, so reruns lose the same ones)."""
    seed: int | None = None
    """Seed of the order generator: the same seed places the same orders (ids aside)."""
    account: str = Field(default="default", min_length=1)
    """The shop this plugin stands for; events and fetches carry it."""

"""Sandbox marketplace: a simulated sales channel with realistic (and some deliberately broken)
orders, signed webhooks, polling and shipment push-back, for a hub on one machine."""

from plugins.marketplaces.sandbox.plugin import SandboxMarketplace
from plugins.marketplaces.sandbox.settings import SandboxMarketplaceSettings

__all__ = ["SandboxMarketplace", "SandboxMarketplaceSettings"]

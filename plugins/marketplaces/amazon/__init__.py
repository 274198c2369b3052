"""Amazon Selling Partner API marketplace: Orders v2026-01-01 polling, v0 shipment
confirmation, ORDER_CHANGE notification parsing."""

from plugins.marketplaces.amazon.plugin import AmazonMarketplace
from plugins.marketplaces.amazon.settings import AmazonSettings

__all__ = ["AmazonMarketplace", "AmazonSettings"]

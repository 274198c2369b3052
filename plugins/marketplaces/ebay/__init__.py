"""eBay channel over the Sell Fulfillment API v1: polling by ``lastmodifieddate`` (the truth;
eBay has no signed order webhooks for sellers), cancellations read through getOrder, and one
shipping fulfillment per package with its tracking number."""

from plugins.marketplaces.ebay.plugin import EbayMarketplace
from plugins.marketplaces.ebay.settings import EbaySettings

__all__ = ["EbayMarketplace", "EbaySettings"]

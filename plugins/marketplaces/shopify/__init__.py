"""Shopify channel over the Admin GraphQL API: signed order webhooks, cursor-paged polling by
``updated_at``, and fulfilments with tracking per fulfilment order location."""

from plugins.marketplaces.shopify.plugin import ShopifyMarketplace
from plugins.marketplaces.shopify.settings import ShopifySettings

__all__ = ["ShopifyMarketplace", "ShopifySettings"]

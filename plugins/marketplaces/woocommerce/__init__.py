"""WooCommerce channel over the REST API v3: signed order webhooks, keyset polling by
``date_modified_gmt``, and tracking numbers back through the Shipment Tracking extension."""

from plugins.marketplaces.woocommerce.plugin import WooCommerceMarketplace
from plugins.marketplaces.woocommerce.settings import WooCommerceSettings

__all__ = ["WooCommerceMarketplace", "WooCommerceSettings"]

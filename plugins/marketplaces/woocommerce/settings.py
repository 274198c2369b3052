"""Settings of the WooCommerce channel (section ``[marketplaces.woocommerce]`` of hub.toml).

Authentication follows the WooCommerce REST API docs, "Authentication" (woocommerce.github.io/
woocommerce-rest-api-docs, wp-api-v3): a consumer key and secret generated under WooCommerce >
Settings > Advanced > REST API, sent as HTTP Basic auth, which WooCommerce accepts over HTTPS only
(over plain HTTP it demands OAuth 1.0a signatures). ``webhook_secret`` is the secret typed into
each webhook (WooCommerce > Settings > Advanced > Webhooks); it signs X-WC-Webhook-Signature.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from hub.plugin import PluginSettings

SERVICE_LEVELS = frozenset({"standard", "express", "economy"})


class StatusMeaning(StrEnum):
    """What an order status means for the hub."""

    UNPAID = "unpaid"
    """Placed, payment not (yet) taken: the workflow holds it for payment."""
    PAID = "paid"
    PRESALE = "presale"
    """A pre-order (Pre-Orders extension): shipped once released."""
    CANCELLED = "cancelled"
    IGNORED = "ignored"
    """Nothing for the hub to do (already fulfilled, unfinished checkout)."""


DEFAULT_STATUSES: dict[str, StatusMeaning] = {
    # Core statuses (wc_get_order_statuses(); docs "Order properties": status).
    "pending": StatusMeaning.UNPAID,
    "on-hold": StatusMeaning.UNPAID,  # awaiting payment (bank transfer, cheque) or a check
    "processing": StatusMeaning.PAID,
    "completed": StatusMeaning.IGNORED,  # fulfilled already: by the hub, or by hand
    "cancelled": StatusMeaning.CANCELLED,
    "refunded": StatusMeaning.CANCELLED,
    "failed": StatusMeaning.CANCELLED,  # the customer may pay again: map to "unpaid" to wait
    "trash": StatusMeaning.CANCELLED,
    "checkout-draft": StatusMeaning.IGNORED,  # block checkout not finished
    # Pre-Orders extension (woocommerce.com/document/pre-orders): status "pre-ordered".
    "pre-ordered": StatusMeaning.PRESALE,
}


class WooCommerceSettings(PluginSettings):
    store_url: str
    """The shop's address, e.g. ``https://shop.example.com``; the REST API lives under
    ``/wp-json/`` there (pretty permalinks on)."""
    consumer_key: SecretStr
    """REST API consumer key (``ck_...``) with read/write access."""
    consumer_secret: SecretStr
    """REST API consumer secret (``cs_...``)."""
    webhook_secret: SecretStr
    """The secret of the shop's order webhooks: verifies X-WC-Webhook-Signature."""
    account: str | None = None
    """The hub's name for this shop (``Order.account``); default: the store's host name."""
    page_size: int = Field(default=100, ge=1, le=100)
    """Orders per page at most; the REST API caps ``per_page`` at 100."""
    requests_per_second: float = Field(default=5.0, gt=0)
    """WooCommerce itself sets no REST limit; hosts and firewalls do. Pace calls under theirs."""
    burst: float = Field(default=10.0, ge=1)
    statuses: dict[str, StatusMeaning] = Field(default_factory=dict)
    """Status slug -> meaning, over the built-in table: custom statuses added by plugins, or a
    different reading of a core one (e.g. ``failed = "unpaid"``)."""
    service_levels: dict[str, str] = Field(default_factory=dict)
    """Shipping method id or title (case-insensitive) -> ``standard|express|economy``."""
    pickup_methods: tuple[str, ...] = ("local_pickup", "pickup_location")
    """Shipping method ids meaning the customer collects: nothing to ship."""
    gift_flag_meta_keys: tuple[str, ...] = ("is_gift", "_is_gift", "gift")
    """Order meta keys whose true value marks a gift (core WooCommerce has no gift flag)."""
    gift_message_meta_keys: tuple[str, ...] = ("gift_message", "_gift_message")
    minimal_packaging_meta_keys: tuple[str, ...] = ("minimal_packaging", "_minimal_packaging")
    presale_meta_keys: tuple[str, ...] = ("_wc_pre_orders_is_pre_order",)
    """Order meta the Pre-Orders extension sets on pre-orders."""
    backorder_meta_keys: tuple[str, ...] = ("Backordered",)
    """Line meta WooCommerce adds when a line was ordered on backorder (its label is
    translated: add the shop's language's word)."""
    ship_by_meta_key: str | None = None
    """Order meta holding a ship-by date (ISO 8601, ``YYYY-MM-DD`` or a Unix timestamp)."""
    deliver_by_meta_key: str | None = None
    """Order meta holding a delivery date, e.g. from a delivery-date plugin."""
    tracking_providers: dict[str, str] = Field(default_factory=dict)
    """Hub carrier -> Shipment Tracking provider name, when the names differ. Otherwise the
    store's provider list is searched, and failing that the carrier is sent as a custom one."""

    @field_validator("store_url")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "must be the shop's https:// address: WooCommerce takes Basic auth over HTTPS only"
            )
        if parts.query or parts.fragment:
            raise ValueError("must be a plain address without query or fragment")
        return value

    @field_validator("consumer_key", "consumer_secret", "webhook_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(v for v in value.values() if v not in SERVICE_LEVELS)
        if bad:
            raise ValueError(f"levels must be standard, express or economy, not {bad}")
        return {k.strip().lower(): v for k, v in value.items()}

    @field_validator("statuses")
    @classmethod
    def _slugs(cls, value: dict[str, StatusMeaning]) -> dict[str, StatusMeaning]:
        # The REST API shows statuses without the "wc-" prefix they are stored with.
        return {k.strip().lower().removeprefix("wc-"): v for k, v in value.items()}

    @property
    def account_name(self) -> str:
        return self.account or (urlsplit(self.store_url).hostname or self.store_url)

    @property
    def store_host(self) -> str:
        return (urlsplit(self.store_url).hostname or "").lower()

    def status_meaning(self, status: str) -> StatusMeaning | None:
        slug = status.strip().lower().removeprefix("wc-")
        return self.statuses.get(slug) or DEFAULT_STATUSES.get(slug)

"""Settings of the Shopify channel: ``[marketplaces.shopify]`` in ``config/hub.toml``.

Two ways to authenticate the Admin API, as Shopify offers them
(shopify.dev/docs/apps/build/authentication-authorization):

- ``access_token``: an Admin API access token (``shpat_...``) of a custom app; it does not expire,
  so a 401 means it was revoked.
- ``client_id`` + ``client_secret``: the client credentials grant of a Dev Dashboard app owned by
  the merchant's organisation; tokens last 24 hours and are fetched and refreshed here.

``client_secret`` is always needed: it signs the webhooks (X-Shopify-Hmac-Sha256).
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator, model_validator

from hub.plugin import PluginSettings

DEFAULT_API_VERSION = "2025-10"
"""A stable Admin API version (shopify.dev/docs/api/usage/versioning); each is supported a year."""

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9\-]*(\.[a-z0-9\-]+)+$")
_API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class ShopifySettings(PluginSettings):
    shop_domain: str
    """The shop's permanent domain, e.g. ``example.myshopify.com``."""
    access_token: SecretStr | None = None
    """Admin API access token of a custom app. Leave empty to use the client credentials grant."""
    client_id: str | None = None
    """The app's client id (API key), for the client credentials grant."""
    client_secret: SecretStr
    """The app's client secret: verifies webhook HMACs, and obtains tokens with ``client_id``."""
    api_version: str = DEFAULT_API_VERSION
    base_url: str | None = None
    """Default ``https://<shop_domain>``; set only to go through a proxy."""
    location_id: str | None = None
    """Fulfil only fulfilment orders assigned to this Shopify location (numeric id or GID)."""
    account: str | None = None
    """The hub's name for this shop (``Order.account``); default: ``shop_domain``."""
    orders_page_size: int = Field(default=10, ge=1, le=10)
    """Orders per GraphQL page. Each order asks for 25 line items, about 85 cost points, and a
    single query may cost at most 1,000 points: 10 is the ceiling."""
    service_levels: dict[str, str] = Field(default_factory=dict)
    """Shipping line title or code (case-insensitive) -> ``standard|express|economy``; consulted
    before the keyword rules."""
    gift_tags: tuple[str, ...] = ("gift",)
    """Order tags (case-insensitive) that mark an order as a gift."""
    gift_message_attributes: tuple[str, ...] = ("gift_message", "gift message", "gift note")
    """Cart attributes (``note_attributes`` / ``customAttributes``) holding a gift message."""
    tracking_companies: dict[str, str] = Field(default_factory=dict)
    """Hub carrier name -> Shopify tracking company, added to the built-in table."""
    take_test_orders: bool = False
    """Fulfil orders Shopify marks ``test`` (a test payment gateway, a development store).
    Off by default: nothing was paid for them, and they are recorded as ignored instead."""

    @field_validator("shop_domain")
    @classmethod
    def _bare_domain(cls, value: str) -> str:
        value = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        if not _SHOP_DOMAIN.match(value):
            raise ValueError("must be the shop's domain, e.g. example.myshopify.com")
        return value

    @field_validator("api_version")
    @classmethod
    def _known_version_shape(cls, value: str) -> str:
        if not _API_VERSION.match(value):
            raise ValueError("must be a quarterly version such as 2025-10, or 'unstable'")
        return value

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(v for v in value.values() if v not in {"standard", "express", "economy"})
        if bad:
            raise ValueError(f"levels must be standard, express or economy, not {bad}")
        return {k.strip().lower(): v for k, v in value.items()}

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> ShopifySettings:
        if self.access_token is None and not self.client_id:
            raise ValueError("set access_token, or client_id for the client credentials grant")
        return self

    @property
    def account_name(self) -> str:
        return self.account or self.shop_domain

    @property
    def api_base_url(self) -> str:
        return (self.base_url or f"https://{self.shop_domain}").rstrip("/")

    @property
    def location_number(self) -> str | None:
        """``location_id`` as the bare number, whether given as a number or a GID."""
        if not self.location_id:
            return None
        return self.location_id.rsplit("/", 1)[-1]

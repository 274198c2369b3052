"""Settings of the eBay channel: ``[marketplaces.ebay]`` in ``config/hub.toml``.

Authentication is eBay's authorization code grant, done once by the seller outside the hub; the
hub keeps the long-lived refresh token and mints short-lived User access tokens from it
(developer.ebay.com/api-docs/static/oauth-refresh-token-request.html). Secrets belong in the
environment, e.g. ``HUB_MARKETPLACES__EBAY__REFRESH_TOKEN`` and
``HUB_MARKETPLACES__EBAY__CLIENT_SECRET``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from hub.plugin import PluginSettings

PRODUCTION_URL = "https://api.ebay.com"
SANDBOX_URL = "https://api.sandbox.ebay.com"
FULFILLMENT_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
"""The one scope the adapter needs (read orders, create shipping fulfillments); eBay spells
scopes the same way in the sandbox."""
_LEVELS = frozenset({"standard", "express", "economy"})


class EbaySettings(PluginSettings):
    client_id: str = Field(min_length=1)
    """The application's App ID (OAuth client id)."""
    client_secret: SecretStr
    """The application's Cert ID (OAuth client secret)."""
    refresh_token: SecretStr
    """The seller's refresh token from the authorization code grant (valid about 18 months)."""
    api_base_url: str = PRODUCTION_URL
    """``https://api.ebay.com``, or ``https://api.sandbox.ebay.com`` for the sandbox."""
    oauth_endpoint: str | None = None
    """Token endpoint; default ``{api_base_url}/identity/v1/oauth2/token`` (both environments)."""
    scopes: tuple[str, ...] = Field(default=(FULFILLMENT_SCOPE,), min_length=1)
    """Scopes asked for on refresh: the same as, or a subset of, those the seller consented to."""
    account: str = Field(default="default", min_length=1)
    """The hub's name for this seller account (``Order.account``)."""
    service_levels: dict[str, str] = Field(default_factory=dict)
    """eBay ``shippingServiceCode`` (case-insensitive) -> ``standard|express|economy``; consulted
    before the keyword rules."""
    carrier_codes: dict[str, str] = Field(default_factory=dict)
    """Hub carrier name -> eBay ``shippingCarrierCode``, added to the built-in table."""

    @field_validator("api_base_url", "oauth_endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @field_validator("client_secret", "refresh_token")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(v for v in value.values() if v not in _LEVELS)
        if bad:
            raise ValueError(f"levels must be standard, express or economy, not {bad}")
        return {k.strip().lower(): v for k, v in value.items()}

    @property
    def token_url(self) -> str:
        return self.oauth_endpoint or f"{self.api_base_url}/identity/v1/oauth2/token"

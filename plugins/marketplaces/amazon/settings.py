"""Settings of the Amazon SP-API adapter: ``[marketplaces.amazon]`` in ``config/hub.toml``.

Secrets come from the environment, never from the file, e.g.
``HUB_MARKETPLACES__AMAZON__REFRESH_TOKEN`` and ``HUB_MARKETPLACES__AMAZON__LWA_CLIENT_SECRET``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from hub.plugin import PluginSettings

# Hub carrier plugin name -> Amazon `carrierCode`. Only carriers whose code is spelt the same in
# the ordersV0 confirmShipment sandbox example or the CarrierCode announcement are listed; any
# other carrier is sent as "Other" with `carrierName` (the documented fallback).
DEFAULT_CARRIER_CODES: dict[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dpd": "DPD",
    "gls": "GLS",
}


class AmazonSettings(PluginSettings):
    endpoint: str = "https://sellingpartnerapi-eu.amazon.com"
    """SP-API regional endpoint (sellingpartnerapi-na/-eu/-fe.amazon.com); the static sandbox
    is the same host with a ``sandbox.`` prefix."""
    marketplace_ids: tuple[str, ...] = Field(min_length=1, max_length=50)
    """Marketplaces to read orders from, e.g. ["A1PA6795UKMFR9"] (Amazon.de)."""
    refresh_token: SecretStr
    """The selling partner's Login with Amazon refresh token (``Atzr|...``)."""
    lwa_client_id: str = Field(min_length=1)
    lwa_client_secret: SecretStr
    lwa_auth_url: str = "https://api.amazon.com/auth/o2/token"
    """Login with Amazon token endpoint (the refresh-token exchange)."""
    account: str = Field(default="default", min_length=1)
    """The hub's name for this selling account; orders carry it and rate limits are kept per it."""
    carrier_codes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CARRIER_CODES))
    """Hub carrier name -> Amazon carrierCode; unlisted carriers go as "Other" + carrierName."""

    @field_validator("endpoint", "lwa_auth_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value.rstrip("/")

    @field_validator("refresh_token", "lwa_client_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

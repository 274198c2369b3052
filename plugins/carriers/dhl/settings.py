"""Settings of the DHL Parcel DE adapter: ``[carriers.dhl]`` in ``config/hub.toml``.

Credentials: the app's API key and secret from developer.dhl.com (the app must have the
"Parcel DE Shipping" and "Shipment Tracking - Unified" APIs) and the business customer portal
(GKP) user. The billing number of a product is ``ekp`` + the product's procedure + the
participation. Defaults point at DHL's sandbox; production is
``https://api-eu.dhl.com/parcel/de/shipping/v2`` with the token at
``https://api-eu.dhl.com/parcel/de/account/auth/ropc/v1/token``. The tracking API has no test
environment for customers (DHL developer support, "Is there a DHL Shipment Tracking - Unified
API Testing Environment?"), so its default is production. Pushed tracking (``push_*``) needs the
app to have "Shipment Tracking - Unified - Push" too.

Parcel DE has no rating endpoint: prices come from ``prices``, the account's own price list.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.domain.address import CountryCode
from hub.domain.money import CurrencyCode
from hub.domain.shipment import LabelFormat
from hub.plugin import HttpsUrl, PluginSettings
from plugins.carriers.dhl.products import ProductCode

SANDBOX_URL = "https://api-sandbox.dhl.com/parcel/de/shipping/v2"
SANDBOX_AUTH_URL = "https://api-sandbox.dhl.com/parcel/de/account/auth/ropc/v1/token"
TRACKING_API_URL = "https://api-eu.dhl.com/track/shipments"
PUSH_API_URL = "https://api-eu.dhl.com/tracking/push/v1"

PrintFormat = Literal[
    "A4",
    "910-300-600",
    "910-300-610",
    "910-300-700",
    "910-300-700-oz",
    "910-300-710",
    "910-300-300",
    "910-300-300-oz",
    "910-300-400",
    "910-300-410",
    "100x70mm",
]
"""Query parameter ``printFormat`` of ``POST /orders`` (OpenAPI 2.1.13)."""

_PARTICIPATION = r"^[0-9A-Za-z]{2}$"
_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$"
"""An HTTP field name (RFC 9110 5.1: a ``token``)."""


class PriceRule(BaseModel):
    """One line of the price list: a product up to a weight, optionally for some countries.

    For a parcel, the matching rule with the smallest ``max_weight_grams`` applies (first in
    the list on a tie), so a list reads like DHL's weight bands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: ProductCode
    max_weight_grams: int = Field(gt=0, le=31500)
    """31.5 kg is the API's limit (``Weight.value`` maximum 31500 g)."""
    price: Decimal = Field(gt=0)
    destinations: tuple[CountryCode, ...] = ()
    """ISO alpha-2 countries this line prices; empty: every destination of the product."""
    transit_days: int | None = Field(default=None, ge=0, le=60)
    """Days to delivery after the ship date, Sundays excluded, for the quote's estimate;
    unset: no estimate (DHL publishes none through the API)."""


class DhlSettings(PluginSettings):
    auth: Literal["oauth", "basic"] = "oauth"
    """``oauth``: bearer token from the Authentication API (password grant); ``basic``: the
    ``dhl-api-key`` header plus HTTP Basic with the GKP user. The Shipping spec accepts both."""
    api_key: SecretStr
    """The app's API key (OAuth ``client_id``; ``dhl-api-key`` header)."""
    api_secret: SecretStr | None = None
    """The app's API secret (OAuth ``client_secret``); needed for ``auth = "oauth"``."""
    username: str = Field(min_length=1)
    """GKP (business customer portal) user."""
    password: SecretStr
    """GKP password."""
    base_url: str = SANDBOX_URL
    auth_url: str = SANDBOX_AUTH_URL
    """The Authentication API's token endpoint (``auth = \"oauth\"``)."""

    ekp: str = Field(pattern=r"^[0-9]{10}$")
    """The 10-digit customer number (EKP): the first part of every billing number."""
    participation: dict[ProductCode, str] = Field(default_factory=dict)
    """Participation (Teilnahme, last two characters of the billing number) per product."""
    default_participation: str = Field(default="01", pattern=_PARTICIPATION)
    profile: str = Field(default="STANDARD_GRUPPENPROFIL", min_length=1, max_length=35)
    """GKP user group profile entitled to the billing numbers."""
    shipper_ref: str | None = Field(default=None, min_length=1, max_length=50)
    """A shipper address stored in the GKP (prints its logo); unset: the warehouse address."""

    currency: CurrencyCode = "EUR"
    prices: tuple[PriceRule, ...] = Field(min_length=1)
    """The account's price list; only products with a line here are quoted."""
    gogreen_plus: bool = True
    """Offer GoGreen Plus (``services.goGreenPlus``) as the eco option ``gogreen_plus`` where
    DHL's dry run accepts it for the account."""

    label_format: LabelFormat | None = None
    """Force one label format (PDF or ZPL) for every label; unset: what the hub asks for."""
    print_format: PrintFormat | None = None
    """Label stock; unset: the default set in the customer portal."""
    must_encode: bool = False
    """``mustEncode``: refuse German consignee addresses DHL cannot encode (else a warning)."""
    share_recipient_contact: bool = False
    """Send the recipient's e-mail and phone (abroad; DHL ignores phones within Germany).
    Only with the recipient's consent (GDPR Art. 4 No. 11, as the spec notes)."""
    eori: str | None = Field(default=None, min_length=1, max_length=35)
    """Shipper's customs reference (``customs.shipperCustomsRef``), e.g. the EORI number."""
    quote_goods_description: str = Field(default="Merchandise", min_length=1, max_length=50)
    """Quotes abroad are dry runs before any customs data exists: outside the EU the dry run
    declares one line of this description at the declared value, so DHL checks the route."""
    language: Literal["en-US", "de-DE"] = "en-US"
    """``Accept-Language`` of DHL's messages."""
    requests_per_second: float = Field(default=5.0, gt=0)
    """Client-side pace of shipping calls (DHL publishes no figure; a 429 empties the bucket)."""

    tracking_api_url: str = TRACKING_API_URL
    tracking_api_key: SecretStr | None = None
    """Key of the app subscribed to Shipment Tracking - Unified; unset: ``api_key``."""
    tracking_service: str | None = "parcel-de"
    """``service`` filter: without it DHL may answer for another service's shipment with the
    same number (DHL developer support)."""
    tracking_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    tracking_requests_per_second: float = Field(default=1.0, gt=0)
    """The starter service level allows 1 call per second and 250 per day."""
    tracking_timezone: str = "Europe/Berlin"
    """Time zone of tracking timestamps DHL sends without an offset (parcel-de does)."""
    tracking_url: str = (
        "https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html"
        "?piececode={tracking_number}"
    )
    """Where customers follow a parcel; ``{tracking_number}`` is filled in."""

    push_url: HttpsUrl | None = None
    """The hub's public ``/webhooks/carriers/dhl`` URL (https): set, every new label's shipment
    numbers are subscribed to Shipment Tracking - Unified - Push, which posts their events
    there (polling stays the fallback)."""
    push_token: SecretStr | None = None
    """The token DHL sends back in ``push_header`` on every push (at least 32 characters);
    needed with ``push_url``."""
    push_header: str = Field(default="DHL-Push-Token", pattern=_HEADER_NAME)
    """Name of the header carrying ``push_token`` (the subscription's ``ApiKeyAuthentication``)."""
    push_api_url: HttpsUrl = PUSH_API_URL
    """The Push API; DHL's test host is ``https://api-test.dhl.com/tracking/push/v1``."""

    @field_validator("push_token")
    @classmethod
    def _header_value(cls, value: SecretStr | None) -> SecretStr | None:
        # Sent back as a header value: visible ASCII only. The value stays out of the message.
        if value is not None and not re.fullmatch(r"[\x21-\x7e]{32,512}", value.get_secret_value()):
            raise ValueError("must be 32 to 512 visible ASCII characters (no spaces)")
        return value

    @field_validator("push_header")
    @classmethod
    def _not_recorded(cls, value: str) -> str:
        # The hub's rejects file keeps ``x-*`` headers of refused webhooks: the token must not
        # end up there.
        if value.lower().startswith("x-"):
            raise ValueError("must not start with X- (such headers are kept in the rejects file)")
        return value

    @field_validator("participation")
    @classmethod
    def _participations(cls, value: dict[str, str]) -> dict[str, str]:
        for product, code in value.items():
            if not re.fullmatch(_PARTICIPATION, code):
                raise ValueError(f"{product}: a participation is two letters or digits")
        return value

    @field_validator("tracking_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("tracking_url")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        try:
            value.format(tracking_number="0")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only contain the {tracking_number} placeholder") from None
        return value

    @field_validator("label_format")
    @classmethod
    def _printable(cls, value: LabelFormat | None) -> LabelFormat | None:
        if value is LabelFormat.PNG:
            raise ValueError("DHL Parcel DE renders PDF and ZPL2 labels only")
        return value

    @model_validator(mode="after")
    def _oauth_secret(self) -> DhlSettings:
        if self.auth == "oauth" and self.api_secret is None:
            raise ValueError('api_secret is required when auth is "oauth"')
        return self

    @model_validator(mode="after")
    def _push_token(self) -> DhlSettings:
        if self.push_url is not None and self.push_token is None:
            raise ValueError("push_token is required when push_url is set")
        return self

    def billing_number(self, product: ProductCode, procedure: str) -> str:
        return self.ekp + procedure + self.participation.get(product, self.default_participation)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tracking_timezone)

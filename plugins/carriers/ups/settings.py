"""Settings of the UPS adapter: ``[carriers.ups]`` in ``config/hub.toml``.

Credentials come from the UPS developer portal (an app with the Rating, Shipping and Tracking
products, linked to the shipper account). The default base URL is UPS's Customer Integration
Environment; production is ``https://onlinetools.ups.com``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hub.domain.address import CountryCode
from hub.domain.shipment import LabelFormat
from hub.plugin import PluginSettings

Incoterm = Literal[
    "CFR", "CIF", "CIP", "CPT", "DAF", "DAP", "DDP", "DEQ", "DES", "EXW", "FAS", "FCA", "FOB"
]
"""Shipping.yaml, InternationalForms.TermsOfShipment: the values UPS accepts."""

ExportReason = Literal["SALE", "GIFT", "SAMPLE", "RETURN", "REPAIR", "INTERCOMPANYDATA"]
"""Shipping.yaml, InternationalForms.ReasonForExport."""


class CustomsDefaults(BaseModel):
    """What goes on the commercial invoice of a cross-border shipment.

    The hub's label request carries no line items, so one declaration line covers the
    parcel's whole declared value (see the package docstring).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    contents: str = Field(min_length=1, max_length=35)
    """Description of goods, e.g. "Cotton T-shirts"."""
    hs_code: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{6,15}$")
    """Harmonized System code (UPS ``CommodityCode``: 6 to 15 alphanumerics)."""
    origin_country: CountryCode
    incoterm: Incoterm = "DAP"
    """DAP: the receiver pays duties and taxes; DDP: they are billed to the shipper account."""
    reason_for_export: ExportReason = "SALE"


class UpsSettings(PluginSettings):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    account_number: str = Field(pattern=r"^[0-9A-Za-z]{6}$")
    """The six-character UPS shipper number the labels are billed to."""
    base_url: str = "https://wwwcie.ups.com"
    rating_version: str = "v2409"
    shipping_version: str = "v2409"
    tracking_version: str = "v1"
    transaction_source: str = Field(default="fulfilment-hub", min_length=1, max_length=512)
    """Sent as ``transactionSrc`` on every call."""

    label_format: LabelFormat | None = None
    """Force one label format for every label (e.g. ZPL for thermal printers); unset: the
    format the hub asks for. The Ship API renders GIF or ZPL only: PDF and PNG are made here
    from UPS's GIF image."""
    negotiated_rates: bool = True
    """Ask for the account's negotiated rates and charge those when UPS returns them."""
    time_in_transit: bool = True
    """Rate with ``Shoptimeintransit`` so quotes carry UPS's estimated delivery."""
    carbon_neutral: Literal["off", "offer", "always"] = "offer"
    """UPS carbon neutral: ``offer`` rates every service twice and returns the carbon neutral
    variant as an eco quote (service code suffixed ``-CN``); ``always`` ships everything
    carbon neutral; ``off`` never."""
    address_validation: bool = True
    """Ship with ``RequestOption=validate`` (city/state/postal code checked by UPS)."""
    packaging_code: str = Field(default="02", pattern=r"^[0-9a-z]{2}$")
    """UPS packaging type; 02 = customer supplied package."""
    shipper_phone: str | None = Field(default=None, max_length=15)
    """Printed as the shipper's phone; UPS asks for one on international shipments."""
    customs: CustomsDefaults | None = None
    """Needed to ship across a customs border (see :class:`CustomsDefaults`)."""
    track_alert_url: str | None = None
    """The hub's public ``/webhooks/carriers/ups`` URL: set, every new label is subscribed to
    UPS Track Alert, which pushes its events there for 14 days (polling stays the fallback)."""
    track_alert_credential: SecretStr | None = None
    """The opaque string UPS sends back in the ``credential`` header of each push."""
    tracking_url: str = "https://www.ups.com/track?tracknum={tracking_number}"
    """Where customers follow a parcel; ``{tracking_number}`` is filled in."""

    @field_validator("tracking_url")
    @classmethod
    def _one_placeholder(cls, value: str) -> str:
        try:
            value.format(tracking_number="1Z")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only contain the {tracking_number} placeholder") from None
        return value

"""Settings of the PostNord adapter: ``[carriers.postnord]`` in ``config/hub.toml``.

Credentials come from developer.postnord.com (the API key, sent as the ``apikey`` query
parameter; PostNord enables each API product for a key separately) and from the PostNord
agreement (customer number and the issuing company, ``issuer_code``). The default base URL is
PostNord's test environment (``atapi2``); production is ``https://api2.postnord.com``.

PostNord publishes no rating API, so prices come from ``prices``: the agreement's price list
per service, destination zone and weight band, in ``currency``::

    [[carriers.postnord.prices]]
    service = "19"            # MyPack Collect
    zone = "SE"               # SE, DK, NO, FI, EU or WORLD
    max_weight_grams = 5000
    price = "59.00"
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.domain.money import CurrencyCode
from hub.plugin import PluginSettings
from plugins.carriers.postnord.services import FLEXCHANGE, SERVICE_NAMES, IssuerCode, Zone

SANDBOX_URL = "https://atapi2.postnord.com"
PRODUCTION_URL = "https://api2.postnord.com"


class PriceBand(BaseModel):
    """One line of the price list. For a parcel, the band of its service and zone with the
    smallest ``max_weight_grams`` that holds the parcel's billable weight applies; a service
    with no such band is not offered for that parcel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    zone: Zone
    max_weight_grams: int = Field(gt=0)
    price: Decimal = Field(gt=0, max_digits=10, decimal_places=2)

    @field_validator("service")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICE_NAMES:
            raise ValueError(f"{value!r} is not a service this adapter books ({_known()})")
        return value


def _flexchange() -> dict[str, tuple[str, ...]]:
    return {"17": (FLEXCHANGE,)}


def _known() -> str:
    return ", ".join(f"{code} {name}" for code, name in SERVICE_NAMES.items())


class PostnordSettings(PluginSettings):
    api_key: SecretStr
    """The 32-character API key from developer.postnord.com."""
    base_url: str = SANDBOX_URL

    customer_number: str = Field(pattern=r"^\d{7,10}$")
    """The consignor's PostNord customer number (SE/FI 8 or 10 digits, DK 8 or 9, NO 7)."""
    issuer_code: IssuerCode = "Z12"
    """Which PostNord company issued the customer number: Z11 DK, Z12 SE, Z13 NO, Z14 FI."""
    application_id: int | None = Field(default=None, gt=0)
    """The ID PostNord assigns to an approved integration (EDI ``application.applicationId``)."""
    application_name: str = Field(default="fulfilment-hub", min_length=1, max_length=35)

    services: tuple[str, ...] = Field(default=("17", "19", "18"), min_length=1)
    """The services quoted, as ``basicServiceCode``: 17 MyPack Home, 19 MyPack Collect,
    18 Parcel (30 MyPack Home Small is also bookable)."""
    additional_services: dict[str, tuple[str, ...]] = Field(default_factory=_flexchange)
    """Additional service codes added to every booking of a service. FlexChange (C7) is
    mandatory on MyPack Home unless the agreement uses A6 or F1 instead. MyPack Collect's
    notification (A4 e-mail, A3 SMS or A2 letter) is chosen per recipient."""

    currency: CurrencyCode = "SEK"
    prices: tuple[PriceBand, ...] = Field(min_length=1)
    volumetric_divisor_cm3_per_kg: int | None = Field(default=None, gt=0)
    """If the agreement bills volumetric weight: cm3 per billed kg (e.g. 3571 for 280 kg/m3).
    Unset: parcels are priced on their actual weight."""
    climate_compensation: bool = True
    """Offer PostNord's Climate Compensation (additional service D9) as an eco option."""

    transit_times: bool = False
    """Ask PostNord's Transit Time API for each quote's estimated delivery (the key needs the
    Transit Time product); unbookable routes are then left out of the quotes."""
    label_size: Literal["standard", "small"] = "standard"
    """Booking ``labelType``: standard 190x105 mm, small 75x105 mm where PostNord has one."""
    paper_size: Literal["A4", "A5", "A6", "LETTER", "LABEL"] = "A4"
    """Page size of PDF labels (``paperSize``)."""

    eori_number: str | None = Field(default=None, max_length=17)
    """The consignor's EORI number for customs declarations."""
    voec_number: str | None = None
    """VAT On E-Commerce number, sent on declarations to Norway."""
    ioss_number: str | None = None
    """Import One-Stop Shop number, sent on declarations into the EU."""
    hmrc_number: str | None = None
    """HMRC registration, sent on declarations to Great Britain."""
    cn22_max_value: Decimal = Field(default=Decimal(3000), ge=0)
    """Goods value (in ``currency``) up to which a CN22 is declared; above it, or in another
    currency, a CN23. The UPU limit for a CN22 is 300 SDR."""

    timezone: str = "Europe/Stockholm"
    """Time zone of PostNord's local timestamps when the country they belong to is not known."""
    requests_per_second: float = Field(default=5.0, gt=0)
    """Client-side pacing of calls; PostNord publishes no figure, and answers 429 beyond it."""
    reconcile_grace_seconds: int = Field(default=600, ge=0)
    """After a booking whose answer was lost, how long to wait for it to show in Track & Trace
    before concluding it was not made (see ``carrier_find_label``)."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @model_validator(mode="after")
    def _services_known(self) -> PostnordSettings:
        unknown = [s for s in (*self.services, *self.additional_services) if s not in SERVICE_NAMES]
        if unknown:
            raise ValueError(f"unknown service codes {unknown}; known: {_known()}")
        return self

"""The parts of USPS's JSON answers the adapter reads, as pydantic models (unknown keys ignored).

Field names are USPS's own so each model reads against its spec (developers.usps.com, specs
as vendored in karrioapi/karrio ``modules/connectors/usps/vendor``, captured 2026-06-23):
- OAuth 2.0 token answer: USPS/api-examples README, "Example OAuth Client Credentials Token";
- Payments 3.1.20 ``Parties`` (``paymentAuthorizationToken``);
- Domestic Prices 3.4.30 ``TotalRatesQueryResult`` / ``RateOption`` / ``RateDetails``;
- Labels 3.9.13 ``LabelMetadata``, ``CancelResponse`` and ``ErrorMessage``;
- Package Tracking and Notification 3.2.6 ``TrackingDetails`` / ``TrackingEvent``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

MAX_MONEY = Decimal("999999.99")
MAX_POUNDS = Decimal(10000)
"""Bounds far above anything USPS prices; they keep absurd numbers out of Decimal arithmetic."""

Price = Annotated[Decimal, Field(ge=0, le=MAX_MONEY)]
Pounds = Annotated[Decimal, Field(ge=0, le=MAX_POUNDS)]
TrackingNumber = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,40}$")]


def _none_as_empty(value: object) -> object:
    return [] if value is None else value


def _object_or_first(value: object) -> object:
    """One object where a spec example shows a one-element list (``commitment``)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# --------------------------------------------------------------------------- auth


class TokenAnswer(_Model):
    access_token: str = Field(min_length=1)
    expires_in: float | None = Field(default=None, gt=0)
    """Seconds; USPS sends it as a string, which validation turns into a number."""


class PaymentAuthorization(_Model):
    paymentAuthorizationToken: str = Field(min_length=1)


# --------------------------------------------------------------------------- prices


class Fee(_Model):
    name: str = ""
    price: Price = Decimal(0)


class RateDetails(_Model):
    SKU: str | None = None
    description: str = ""
    price: Price | None = None
    weight: Pounds | None = None
    dimWeight: Pounds | None = None
    fees: Annotated[list[Fee], BeforeValidator(_none_as_empty)] = []
    mailClass: str | None = None
    productName: str | None = None
    processingCategory: str | None = None
    rateIndicator: str | None = None
    destinationEntryFacilityType: str | None = None


class RateOption(_Model):
    totalBasePrice: Price | None = None
    """The rate plus fees and pound postage."""
    rates: Annotated[list[RateDetails], BeforeValidator(_none_as_empty)] = []


class TotalRatesResult(_Model):
    rateOptions: Annotated[list[RateOption], BeforeValidator(_none_as_empty)] = []


# --------------------------------------------------------------------------- labels


class Link(_Model):
    rel: Annotated[list[str], BeforeValidator(_none_as_empty)] = []
    href: str


class Commitment(_Model):
    name: str | None = None
    expectedDeliveryDate: str | None = None


class LabelMetadata(_Model):
    trackingNumber: TrackingNumber
    postage: Price
    """Postage only: extra services and fees are listed apart."""
    extraServices: Annotated[list[Fee], BeforeValidator(_none_as_empty)] = []
    fees: Annotated[list[Fee], BeforeValidator(_none_as_empty)] = []
    SKU: str | None = None
    zone: str | None = None
    commitment: Annotated[Commitment | None, BeforeValidator(_object_or_first)] = None
    links: Annotated[list[Link], BeforeValidator(_none_as_empty)] = []

    @property
    def total(self) -> Decimal:
        return (
            self.postage
            + sum((s.price for s in self.extraServices), Decimal(0))
            + sum((f.price for f in self.fees), Decimal(0))
        )


class CancelAnswer(_Model):
    trackingNumber: str | None = None
    status: str | None = None
    """``CANCELED``, or ``DISPUTED`` when a refund request was submitted instead."""
    disputeId: str | None = None


class ErrorItem(_Model):
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    source: dict[str, object] | None = None


class ErrorBody(_Model):
    code: str | None = None
    message: str | None = None
    errors: Annotated[list[ErrorItem], BeforeValidator(_none_as_empty)] = []


class ErrorMessage(_Model):
    apiVersion: str | None = None
    error: ErrorBody


# --------------------------------------------------------------------------- tracking


class TrackingEvent(_Model):
    eventType: str | None = None
    eventTimestamp: str | None = None
    """Local time of the scan, as USPS formats it (often without an offset)."""
    GMTTimestamp: str | None = None
    GMTOffset: str | None = None
    eventCountry: str | None = None
    eventCity: str | None = None
    eventState: str | None = None
    eventZIP: str | None = None
    eventCode: str | None = None


class TrackingDetails(_Model):
    trackingNumber: str | None = None
    status: str | None = None
    statusCategory: str | None = None
    expectedDeliveryTimeStamp: str | None = None
    expectedDeliveryDate: str | None = None
    predictedDeliveryDate: str | None = None
    trackingEvents: Annotated[list[TrackingEvent], BeforeValidator(_none_as_empty)] = []

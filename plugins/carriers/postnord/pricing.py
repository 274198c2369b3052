"""Prices from the configured price list (PostNord has no rating API), and quotes.

Each parcel is priced on its own: the band of the service and the destination's zone with the
smallest ``max_weight_grams`` that holds the parcel's billable weight (actual weight, or
volumetric weight when the agreement bills it); a shipment's price is the sum over its parcels.
A service is quoted only when every parcel has a band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hub.domain.messages import Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import Parcel
from hub.errors import PermanentError
from plugins.carriers.postnord.services import (
    CARRIER,
    ECO_CLIMATE_COMPENSATION,
    LABEL_FORMATS,
    SERVICE_NAMES,
    zone_of,
)
from plugins.carriers.postnord.settings import PostnordSettings


@dataclass(frozen=True)
class Priced:
    price: Decimal
    billable_grams: int


def billable_grams(parcel: Parcel, settings: PostnordSettings) -> int:
    divisor = settings.volumetric_divisor_cm3_per_kg
    if divisor is None:
        return parcel.weight_grams
    return parcel.billable_weight_grams(divisor)


def band_price(service: str, zone: str, grams: int, settings: PostnordSettings) -> Decimal | None:
    fitting = [
        band
        for band in settings.prices
        if band.service == service and band.zone == zone and band.max_weight_grams >= grams
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda band: band.max_weight_grams).price


def shipment_price(
    service: str, destination: str, parcels: tuple[Parcel, ...], settings: PostnordSettings
) -> Priced | None:
    zone = zone_of(destination)
    total, weight = Decimal(0), 0
    for parcel in parcels:
        grams = billable_grams(parcel, settings)
        price = band_price(service, zone, grams, settings)
        if price is None:
            return None
        total += price
        weight += grams
    return Priced(price=total, billable_grams=weight)


def label_price(
    service: str, destination: str, parcels: tuple[Parcel, ...], settings: PostnordSettings
) -> Money:
    """The price a booking is recorded at; the same list the quote came from."""
    priced = shipment_price(service, destination, parcels, settings)
    if priced is None:
        raise PermanentError(
            f"service_code: no price band for PostNord service {service} to zone "
            f"{zone_of(destination)} for these parcels; add one to [carriers.postnord.prices]"
        )
    return Money(amount=priced.price, currency=settings.currency)


@dataclass(frozen=True)
class Transit:
    """What the Transit Time API said of a service on this route."""

    bookable: bool
    arrival: datetime | None


def quotes(
    request: RateRequest,
    settings: PostnordSettings,
    transit: dict[str, Transit] | None = None,
) -> list[Quote]:
    """One quote per configured service priced for every parcel; with transit times, a
    service PostNord cannot book on the route is left out and the others get its ETA."""
    eco = (ECO_CLIMATE_COMPENSATION,) if settings.climate_compensation else ()
    result = []
    for service in settings.services:
        verdict = (transit or {}).get(service)
        if verdict is not None and not verdict.bookable:
            continue
        priced = shipment_price(service, request.ship_to.country, request.parcels, settings)
        if priced is None:
            continue
        result.append(
            Quote(
                carrier=CARRIER,
                service_code=service,
                service_name=SERVICE_NAMES[service],
                price=Money(amount=priced.price, currency=settings.currency),
                estimated_delivery=verdict.arrival if verdict else None,
                billable_weight_grams=priced.billable_grams,
                eco_options=eco,
                label_formats=LABEL_FORMATS,
            )
        )
    return result

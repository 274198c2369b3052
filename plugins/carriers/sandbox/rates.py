"""Zones, services, the price table and parcel limits of the sandbox carrier. Pure: no I/O.

Prices are per parcel, by billable weight band and zone, like a published carrier tariff;
the billable weight is max(actual, dimensional) with a 5000 cm3/kg divisor, per parcel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from hub.domain.messages import Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat, Parcel
from plugins.carriers.sandbox.emissions import co2e_grams
from plugins.carriers.sandbox.zones import Zone, zone_of

CARRIER = "sandbox"
CURRENCY = "EUR"
DIM_DIVISOR_CM3_PER_KG = 5000
MAX_WEIGHT_GRAMS = 30_000
MAX_SIDE_MM = 1_200
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    digit: str
    """The service's digit in tracking numbers."""
    transit_days: Mapping[Zone, int]
    """Working days from label to delivery (simulated days: every one is a working day)."""
    tariff: str
    """The row of PRICE_TABLE this service is priced from."""
    surcharge_per_parcel: Decimal = Decimal("0.00")
    eco_options: tuple[str, ...] = field(default=())


SERVICES: dict[str, Service] = {
    s.code: s
    for s in (
        Service(
            "SBX_ECONOMY",
            "Sandbox Economy",
            "1",
            {Zone.DOMESTIC: 4, Zone.EU: 5, Zone.WORLD: 6},
            "economy",
        ),
        Service(
            "SBX_STANDARD",
            "Sandbox Standard",
            "2",
            {Zone.DOMESTIC: 2, Zone.EU: 3, Zone.WORLD: 3},
            "standard",
        ),
        # Same network as Standard, so the same CO2e estimate: the emissions are compensated,
        # not avoided (like EasyPost's `carbon_neutral`). The surcharge pays for that.
        Service(
            "SBX_STANDARD_GREEN",
            "Sandbox Standard Carbon Neutral",
            "4",
            {Zone.DOMESTIC: 2, Zone.EU: 3, Zone.WORLD: 3},
            "standard",
            surcharge_per_parcel=Decimal("0.25"),
            eco_options=("carbon_neutral",),
        ),
        Service(
            "SBX_EXPRESS",
            "Sandbox Express",
            "3",
            {Zone.DOMESTIC: 1, Zone.EU: 1, Zone.WORLD: 1},
            "express",
        ),
    )
}
SERVICE_BY_DIGIT = {s.digit: s for s in SERVICES.values()}

# Upper limits of the weight bands, in grams of billable weight.
WEIGHT_BANDS_GRAMS = (1_000, 2_000, 5_000, 10_000, 20_000, 30_000)

# EUR per parcel, one price per weight band. Sandbox figures, in the range of 2025 list prices
# of European parcel carriers for business senders.
PRICE_TABLE: dict[str, dict[Zone, tuple[str, ...]]] = {
    "economy": {
        Zone.DOMESTIC: ("4.49", "4.99", "5.99", "7.99", "10.99", "14.99"),
        Zone.EU: ("8.99", "10.49", "13.49", "17.99", "25.99", "33.99"),
        Zone.WORLD: ("15.99", "19.99", "29.99", "44.99", "69.99", "94.99"),
    },
    "standard": {
        Zone.DOMESTIC: ("5.49", "5.99", "7.49", "9.99", "13.99", "18.99"),
        Zone.EU: ("11.49", "13.49", "16.99", "22.99", "32.99", "42.99"),
        Zone.WORLD: ("22.99", "27.99", "39.99", "59.99", "89.99", "119.99"),
    },
    "express": {
        Zone.DOMESTIC: ("12.99", "14.49", "17.99", "23.99", "32.99", "42.99"),
        Zone.EU: ("24.99", "28.99", "36.99", "49.99", "69.99", "89.99"),
        Zone.WORLD: ("44.99", "54.99", "74.99", "109.99", "159.99", "209.99"),
    },
}
# EUR per started kilogram of billable weight above the top band: a large, light parcel can
# weigh more than 30 kg dimensionally while its actual weight is within the limit.
PER_KG_ABOVE_TOP: dict[str, dict[Zone, str]] = {
    "economy": {Zone.DOMESTIC: "0.40", Zone.EU: "0.90", Zone.WORLD: "2.50"},
    "standard": {Zone.DOMESTIC: "0.50", Zone.EU: "1.10", Zone.WORLD: "3.00"},
    "express": {Zone.DOMESTIC: "1.20", Zone.EU: "2.50", Zone.WORLD: "5.50"},
}


def billable_grams(parcel: Parcel) -> int:
    return parcel.billable_weight_grams(DIM_DIVISOR_CM3_PER_KG)


def parcel_price(service: Service, zone: Zone, parcel: Parcel) -> Decimal:
    weight = billable_grams(parcel)
    prices = PRICE_TABLE[service.tariff][zone]
    for limit, price in zip(WEIGHT_BANDS_GRAMS, prices, strict=True):
        if weight <= limit:
            return Decimal(price) + service.surcharge_per_parcel
    extra_kg = math.ceil((weight - WEIGHT_BANDS_GRAMS[-1]) / 1000)
    per_kg = Decimal(PER_KG_ABOVE_TOP[service.tariff][zone])
    return Decimal(prices[-1]) + extra_kg * per_kg + service.surcharge_per_parcel


def price(service: Service, zone: Zone, parcels: Sequence[Parcel]) -> Money:
    total = sum((parcel_price(service, zone, p) for p in parcels), Decimal("0.00"))
    return Money(amount=total, currency=CURRENCY)


def transit(service: Service, zone: Zone, clock_speed: float) -> timedelta:
    """Real time from label to the promised delivery, on the compressed clock."""
    return timedelta(seconds=service.transit_days[zone] * SECONDS_PER_DAY / clock_speed)


def parcel_problems(parcels: Sequence[Parcel]) -> list[str]:
    """Why the carrier would refuse these parcels, in its own words (empty: accepted)."""
    problems: list[str] = []
    if not parcels:
        problems.append("SBX-4000: a shipment needs at least one parcel")
    for number, parcel in enumerate(parcels, start=1):
        if parcel.weight_grams > MAX_WEIGHT_GRAMS:
            problems.append(
                f"SBX-4001: parcel {number} weighs {parcel.weight_grams / 1000:g} kg; "
                f"the maximum is {MAX_WEIGHT_GRAMS // 1000} kg per parcel"
            )
        dims = parcel.dimensions
        longest = max(dims.length_mm, dims.width_mm, dims.height_mm)
        if longest > MAX_SIDE_MM:
            problems.append(
                f"SBX-4002: parcel {number} has a side of {longest / 10:g} cm; "
                f"the maximum is {MAX_SIDE_MM / 10:g} cm"
            )
    return problems


def quotes(
    request: RateRequest, clock_speed: float, label_formats: tuple[LabelFormat, ...]
) -> list[Quote]:
    """One quote per service, cheapest first, each labelled in `label_formats`. Call
    `parcel_problems` first."""
    zone = zone_of(request.ship_from.country, request.ship_to.country)
    billable = sum(billable_grams(p) for p in request.parcels)
    answer = [
        Quote(
            carrier=CARRIER,
            service_code=service.code,
            service_name=service.name,
            price=price(service, zone, request.parcels),
            estimated_delivery=estimated_delivery(request.ship_date, service, zone, clock_speed),
            billable_weight_grams=billable,
            eco_options=service.eco_options,
            co2e_grams=co2e_grams(zone, request.parcels),
            label_formats=label_formats,
        )
        for service in SERVICES.values()
    ]
    return sorted(answer, key=lambda q: (q.price.amount, q.service_code))


def estimated_delivery(
    ship_date: datetime, service: Service, zone: Zone, clock_speed: float
) -> datetime:
    return ship_date + transit(service, zone, clock_speed)

"""Transport CO2e by the ISO 14083 / GLEC method."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub.activities.orders import with_co2e_estimate
from hub.domain.address import Address
from hub.domain.emissions import (
    G_CO2E_PER_TKM,
    Leg,
    Mode,
    Route,
    co2e_grams,
    estimate_co2e_grams,
    route_between,
)
from hub.domain.messages import Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, Parcel


def test_tonne_km_times_intensity_per_leg() -> None:
    # 2 kg over 40 km by van and 400 km by truck: 0.002 t x (40 x 412 + 400 x 95) g/tkm
    assert co2e_grams(2000, [Leg(Mode.VAN, 40), Leg(Mode.TRUCK, 400)]) == round(
        0.002 * (40 * 412 + 400 * 95)
    )


def test_factors_are_the_sourced_glec_figures() -> None:
    assert G_CO2E_PER_TKM == {Mode.VAN: 412, Mode.TRUCK: 95, Mode.AIR: 498}


@pytest.mark.parametrize(
    ("origin", "destination", "route"),
    [
        ("SE", "SE", Route.DOMESTIC),
        ("SE", "DE", Route.EUROPE),
        ("DE", "NO", Route.EUROPE),
        ("DE", "US", Route.INTERCONTINENTAL),
    ],
)
def test_routes(origin: str, destination: str, route: Route) -> None:
    assert route_between(origin, destination) is route


def test_heavier_and_farther_emit_more() -> None:
    assert estimate_co2e_grams("DE", "DE", 1000) < estimate_co2e_grams("DE", "FR", 1000)
    assert estimate_co2e_grams("DE", "FR", 1000) < estimate_co2e_grams("DE", "US", 1000)
    assert estimate_co2e_grams("DE", "FR", 1000) < estimate_co2e_grams("DE", "FR", 5000)


def _quote(co2e: int | None) -> Quote:
    return Quote(
        carrier="ups",
        service_code="11",
        service_name="UPS Standard",
        price=Money(amount=Decimal("9.90"), currency="EUR"),
        estimated_delivery=None,
        billable_weight_grams=3000,
        co2e_grams=co2e,
    )


def test_quotes_without_a_carrier_figure_get_the_estimate_on_actual_weight() -> None:
    berlin = Address(
        name="A", line1="Lagerstrasse 5", city="Berlin", postal_code="10115", country="DE"
    )
    paris = Address(
        name="B", line1="Rue de Rivoli 1", city="Paris", postal_code="75001", country="FR"
    )
    request = RateRequest(
        shipment_id="S-1",
        ship_from=berlin,
        ship_to=paris,
        parcels=(
            Parcel(
                weight_grams=1200, dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=100)
            ),
        ),
        service_level="standard",
        ship_date=datetime(2026, 11, 20, tzinfo=UTC),
        declared_value=Money(amount=Decimal("49.90"), currency="EUR"),
    )
    assert with_co2e_estimate(_quote(None), request).co2e_grams == estimate_co2e_grams(
        "DE", "FR", 1200
    )
    assert with_co2e_estimate(_quote(77), request).co2e_grams == 77

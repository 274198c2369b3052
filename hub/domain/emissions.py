"""Transport CO2e of a shipment, ISO 14083:2023 / GLEC Framework method: for each leg,
emissions = tonnes carried x km x the mode's emission intensity. The one place in the code
where transport emission factors and their sources are kept. Pure.

The actual (not billable) weight is used: a vehicle moves mass, not volume.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hub.domain.customs import EU_CUSTOMS_UNION


class Mode(StrEnum):
    VAN = "van"
    TRUCK = "truck"
    AIR = "air"


# Intensities in g CO2e per tonne-km, from the GLEC tables as mirrored by Climatiq
# (shared/DOMAIN.md section 5). The truck and air figures are published tank-to-wheel, the van
# figure well-to-wheel: until well-to-wheel line-haul figures are sourced, estimates understate
# line-haul emissions somewhat. The often-quoted "truck 62 / air 602" are NOT GLEC: not used.
G_CO2E_PER_TKM: dict[Mode, int] = {
    Mode.VAN: 412,  # van < 3.5 t, petrol, well-to-wheel (GLEC, India table)
    Mode.TRUCK: 95,  # rigid truck 26-32 t, tank-to-wheel (GLEC v2)
    Mode.AIR: 498,  # air freighter > 1,500 km, tank-to-wheel (GLEC)
}


@dataclass(frozen=True)
class Leg:
    mode: Mode
    km: float


class Route(StrEnum):
    DOMESTIC = "domestic"
    EUROPE = "europe"
    INTERCONTINENTAL = "intercontinental"


# Typical distances (assumptions, not measurements): collection and delivery rounds by van
# (20 km each), then line-haul: a domestic trunk route, an intra-European one (Berlin-Paris is
# about 1,050 km by road) and, beyond Europe, a road feeder to an airport and a long-haul
# flight (Frankfurt-New York is about 6,200 km great-circle). No sea or rail figure is
# sourced yet, so intercontinental parcels are assumed to fly.
_VAN_ROUNDS = Leg(Mode.VAN, 40)
TYPICAL_LEGS: dict[Route, tuple[Leg, ...]] = {
    Route.DOMESTIC: (_VAN_ROUNDS, Leg(Mode.TRUCK, 400)),
    Route.EUROPE: (_VAN_ROUNDS, Leg(Mode.TRUCK, 1_200)),
    Route.INTERCONTINENTAL: (_VAN_ROUNDS, Leg(Mode.TRUCK, 300), Leg(Mode.AIR, 6_500)),
}

# Countries reached by road from the EU without a flight (EEA, Switzerland, UK, Balkans).
_EUROPE_BY_ROAD = EU_CUSTOMS_UNION | {"NO", "IS", "LI", "CH", "GB", "RS", "BA", "ME", "MK", "AL"}


def route_between(origin: str, destination: str) -> Route:
    if origin == destination:
        return Route.DOMESTIC
    if origin in _EUROPE_BY_ROAD and destination in _EUROPE_BY_ROAD:
        return Route.EUROPE
    return Route.INTERCONTINENTAL


def co2e_grams(weight_grams: int, legs: Sequence[Leg]) -> int:
    tonnes = weight_grams / 1_000_000
    return round(sum(tonnes * leg.km * G_CO2E_PER_TKM[leg.mode] for leg in legs))


def estimate_co2e_grams(origin: str, destination: str, weight_grams: int) -> int:
    """A shipment's transport CO2e on the typical legs of its route."""
    return co2e_grams(weight_grams, TYPICAL_LEGS[route_between(origin, destination)])

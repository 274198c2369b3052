"""CO2e estimate of a shipment: tonne-km x emission intensity per leg (ISO 14083 / GLEC).

Pure. The actual weight is what a vehicle moves, so emissions use it, not the billable weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.domain.shipment import Parcel
from plugins.carriers.sandbox.zones import Zone

# Intensities in g CO2e per tonne-km, from the GLEC tables as mirrored by Climatiq
# (shared/DOMAIN.md section 5). The truck and air figures are tank-to-wheel, the van figure
# well-to-wheel, as published: the estimate understates well-to-wheel line-haul emissions.
VAN_G_PER_TKM = 412  # van < 3.5 t, petrol, well-to-wheel (GLEC, India table)
TRUCK_G_PER_TKM = 95  # rigid truck 26-32 t, tank-to-wheel (GLEC v2)
AIR_G_PER_TKM = 498  # air freighter > 1,500 km, tank-to-wheel (GLEC)


@dataclass(frozen=True)
class Leg:
    mode: str
    km: float
    g_per_tkm: int


# Distances are sandbox assumptions, not measurements: collection plus delivery rounds by van
# (20 km each), then line-haul: a domestic trunk route, an intra-EU one (Berlin-Paris is about
# 1,050 km by road) and, beyond Europe, a road feeder to an airport and a long-haul flight
# (Frankfurt-New York is about 6,200 km great-circle). No sea or rail figure is sourced yet,
# so intercontinental parcels fly whatever the service.
_VAN = Leg("van", 40, VAN_G_PER_TKM)
LEGS: dict[Zone, tuple[Leg, ...]] = {
    Zone.DOMESTIC: (_VAN, Leg("truck", 400, TRUCK_G_PER_TKM)),
    Zone.EU: (_VAN, Leg("truck", 1_200, TRUCK_G_PER_TKM)),
    Zone.WORLD: (_VAN, Leg("truck", 300, TRUCK_G_PER_TKM), Leg("air", 6_500, AIR_G_PER_TKM)),
}


def co2e_grams(zone: Zone, parcels: Sequence[Parcel]) -> int:
    tonnes = sum(p.weight_grams for p in parcels) / 1_000_000
    return round(sum(tonnes * leg.km * leg.g_per_tkm for leg in LEGS[zone]))

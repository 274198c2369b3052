"""CO2e estimate of a sandbox shipment: the hub's ISO 14083 / GLEC method on the typical legs
of the sandbox's rating zone (the factors and their sources are in hub.domain.emissions)."""

from __future__ import annotations

from collections.abc import Sequence

from hub.domain.emissions import TYPICAL_LEGS, Route
from hub.domain.emissions import co2e_grams as glec_co2e_grams
from hub.domain.shipment import Parcel
from plugins.carriers.sandbox.zones import Zone

ROUTE_OF_ZONE = {
    Zone.DOMESTIC: Route.DOMESTIC,
    Zone.EU: Route.EUROPE,
    Zone.WORLD: Route.INTERCONTINENTAL,
}


def co2e_grams(zone: Zone, parcels: Sequence[Parcel]) -> int:
    weight = sum(p.weight_grams for p in parcels)
    return glec_co2e_grams(weight, TYPICAL_LEGS[ROUTE_OF_ZONE[zone]])

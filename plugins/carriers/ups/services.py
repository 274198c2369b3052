"""Reference tables as data: UPS services, unit systems by origin, the EU customs union."""

from __future__ import annotations

from typing import NamedTuple


class Service(NamedTuple):
    name: str
    express: bool
    """Time-definite air service: what an ``express`` order may use."""


# Service codes and names: Shipping.yaml ShipmentRequest.Shipment.Service.Code and Rating.yaml
# RateRequest.Shipment.Service.Code (UPS-API/api-documentation, v2409).
SERVICES: dict[str, Service] = {
    "01": Service("UPS Next Day Air", express=True),
    "02": Service("UPS 2nd Day Air", express=True),
    "03": Service("UPS Ground", express=False),
    "07": Service("UPS Worldwide Express", express=True),
    "08": Service("UPS Worldwide Expedited", express=False),
    "11": Service("UPS Standard", express=False),
    "12": Service("UPS 3 Day Select", express=False),
    "13": Service("UPS Next Day Air Saver", express=True),
    "14": Service("UPS Next Day Air Early", express=True),
    "17": Service("UPS Worldwide Economy DDU", express=False),
    "54": Service("UPS Worldwide Express Plus", express=True),
    "59": Service("UPS 2nd Day Air A.M.", express=True),
    "65": Service("UPS Saver", express=True),
    "70": Service("UPS Access Point Economy", express=False),
    "71": Service("UPS Worldwide Express Freight Midday", express=True),
    "72": Service("UPS Worldwide Economy DDP", express=False),
    "74": Service("UPS Express 12:00", express=True),
    "75": Service("UPS Heavy Goods", express=False),
    "82": Service("UPS Today Standard", express=False),
    "83": Service("UPS Today Dedicated Courier", express=True),
    "84": Service("UPS Today Intercity", express=True),
    "85": Service("UPS Today Express", express=True),
    "86": Service("UPS Today Express Saver", express=True),
    "96": Service("UPS Worldwide Express Freight", express=True),
}

CARBON_NEUTRAL_SUFFIX = "-CN"
"""Quote service codes ending in this ship with ``UPScarbonneutralIndicator``."""
ECO_OPTION = "carbon_neutral"


def service_name(code: str) -> str:
    known = SERVICES.get(code)
    return known.name if known else f"UPS service {code}"


def allowed_for_level(code: str, service_level: str) -> bool:
    """``express`` orders get time-definite services, ``economy`` orders the others; any other
    level (``standard``) gets every service and leaves the choice to the hub's rules."""
    known = SERVICES.get(code)
    if known is None or service_level not in {"express", "economy"}:
        return True
    return known.express is (service_level == "express")


# Shipping.yaml: "The unit of measurement must be valid for the Shipper country"; UPS US and
# Puerto Rico accounts rate and ship in pounds and inches, everyone else in kg and cm.
IMPERIAL_ORIGINS = frozenset({"US", "PR"})

# Reference numbers: Shipping.yaml says shipment-level ones are valid when origin/destination is
# *not* US/US or PR/PR, package-level ones when it is.
DOMESTIC_US_PR = frozenset({("US", "US"), ("PR", "PR")})

# The EU customs union (27 member states plus Monaco, inside it through France): parcels moving
# inside it need no commercial invoice. Special territories (Canaries, Channel Islands...) are
# not modelled: the address model has no notion of them.
EU_CUSTOMS_UNION = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

# Longest side: Shipping.yaml Package.Dimensions.Length, "0 to 108 IN and 0 to 270 CM".
MAX_LENGTH_MM = 2_700


def needs_customs(origin: str, destination: str) -> bool:
    if origin == destination:
        return False
    return not (origin in EU_CUSTOMS_UNION and destination in EU_CUSTOMS_UNION)

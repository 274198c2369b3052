"""Unit conversions for USPS, exact: the hub measures in grams and millimetres, USPS in
pounds and inches.

- Weight: USPS prices any fraction of an ounce as a whole ounce (and above a pound any
  fraction of a pound as a whole pound, which its price tables apply themselves). Grams become
  whole ounces rounded up, sent as pounds (``ounces / 16`` is exact), so the weight USPS
  prices is never below the real one.
- Dimensions: millimetres become inches rounded up to the hundredth, so a parcel is never
  declared smaller than it is (USPS adjusts postage for understated parcels); USPS applies
  its own rounding (e.g. to the nearest inch for dimensional weight) to what it receives.
- Processing category: DMM 201.7.5 / Quick Service Guide 201f (pe.usps.com, 2025): a parcel
  is machinable up to 22 x 18 x 15 inches and 25 pounds; larger or heavier is nonstandard.
  Since November 2024 there is no minimum size or weight for machinable parcels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from hub.domain.shipment import Parcel

GRAMS_PER_POUND = Decimal("453.59237")
"""The international avoirdupois pound, exactly."""
OUNCES_PER_POUND = 16
GRAMS_PER_OUNCE = GRAMS_PER_POUND / OUNCES_PER_POUND
MM_PER_INCH = Decimal("25.4")
HUNDREDTH = Decimal("0.01")

MAX_OUNCES = 70 * OUNCES_PER_POUND
"""Labels 3.0 ``PackageDescription.weight``: items must weigh 70 pounds or less."""
MACHINABLE_MAX_INCHES = (Decimal(22), Decimal(18), Decimal(15))
MACHINABLE_MAX_OUNCES = 25 * OUNCES_PER_POUND

ProcessingCategory = Literal["MACHINABLE", "NONSTANDARD"]


def ounces(grams: int) -> int:
    """Whole ounces, any fraction rounded up."""
    return math.ceil(Decimal(grams) / GRAMS_PER_OUNCE)


def pounds(grams: int) -> Decimal:
    """The weight USPS is sent: whole ounces rounded up, in pounds (exact in binary too)."""
    return Decimal(ounces(grams)) / OUNCES_PER_POUND


def inches(mm: int) -> Decimal:
    return (Decimal(mm) / MM_PER_INCH).quantize(HUNDREDTH, rounding=ROUND_CEILING)


def grams(pounds_value: Decimal) -> int:
    """Pounds back to grams, rounded up."""
    return math.ceil(pounds_value * GRAMS_PER_POUND)


@dataclass(frozen=True)
class PackageSize:
    """A parcel as USPS measures it: length is the longest side, width the second longest."""

    length: Decimal
    width: Decimal
    height: Decimal
    ounces: int

    @property
    def pounds(self) -> Decimal:
        return Decimal(self.ounces) / OUNCES_PER_POUND

    @property
    def processing_category(self) -> ProcessingCategory:
        sides = (self.length, self.width, self.height)
        fits = all(side <= limit for side, limit in zip(sides, MACHINABLE_MAX_INCHES, strict=True))
        return "MACHINABLE" if fits and self.ounces <= MACHINABLE_MAX_OUNCES else "NONSTANDARD"


def package_size(parcel: Parcel) -> PackageSize:
    dims = parcel.dimensions
    length, width, height = sorted(
        (inches(dims.length_mm), inches(dims.width_mm), inches(dims.height_mm)), reverse=True
    )
    return PackageSize(length, width, height, ounces(parcel.weight_grams))

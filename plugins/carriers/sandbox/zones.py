"""Rating zones: domestic, EU (one customs union), rest of the world. Pure."""

from __future__ import annotations

from enum import StrEnum

from hub.domain.customs import EU_CUSTOMS_UNION

# Inside one customs union a parcel needs no declaration: that makes the EU a zone of its own.
EU_MEMBERS = EU_CUSTOMS_UNION


class Zone(StrEnum):
    DOMESTIC = "domestic"
    EU = "eu"
    WORLD = "world"

    @property
    def digit(self) -> str:
        """The zone's digit in tracking numbers."""
        return _DIGITS[self]

    @classmethod
    def from_digit(cls, digit: str) -> Zone:
        for zone, known in _DIGITS.items():
            if known == digit:
                return zone
        raise ValueError(f"no zone has digit {digit!r}")


_DIGITS = {Zone.DOMESTIC: "1", Zone.EU: "2", Zone.WORLD: "3"}


def zone_of(origin: str, destination: str) -> Zone:
    if origin == destination:
        return Zone.DOMESTIC
    if origin in EU_MEMBERS and destination in EU_MEMBERS:
        return Zone.EU
    return Zone.WORLD

"""Rating zones: domestic, EU (one customs union), rest of the world. Pure."""

from __future__ import annotations

from enum import StrEnum

# EU member states since 2020-02-01 (european-union.europa.eu, "EU countries"). Inside the
# customs union a parcel needs no declaration, which is what makes the EU a zone of its own.
EU_MEMBERS = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


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

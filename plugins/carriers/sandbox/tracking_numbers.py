"""Sandbox tracking numbers: ``SB`` + service digit + zone digit + 12-digit serial + a Luhn
(mod 10) check digit, e.g. ``SB21004738192057364``.

Like real carriers' numbers (UPS encodes the service in its 1Z numbers), the number says how
the parcel travels, and the check digit catches a mistyped number before any lookup. Serials
are random rather than sequential: test runs share one Temporal server while each starts with
an empty carrier database, and tracking workflow ids are built from tracking numbers.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from plugins.carriers.sandbox.rates import SERVICE_BY_DIGIT, Service
from plugins.carriers.sandbox.zones import Zone

PREFIX = "SB"
SERIAL_DIGITS = 12
_PATTERN = re.compile(rf"{PREFIX}(\d)(\d)(\d{{{SERIAL_DIGITS}}})(\d)")


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits + check`` pass the Luhn test (ISO/IEC 7812-1)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these sit in odd positions once the check is appended
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def new_tracking_number(service: Service, zone: Zone) -> str:
    body = f"{service.digit}{zone.digit}{secrets.randbelow(10**SERIAL_DIGITS):0{SERIAL_DIGITS}d}"
    return f"{PREFIX}{body}{luhn_check_digit(body)}"


@dataclass(frozen=True)
class TrackingNumber:
    value: str
    service: Service
    zone: Zone


def parse_tracking_number(value: str) -> TrackingNumber:
    """Decode a tracking number; ValueError says why it is not a sandbox one."""
    match = _PATTERN.fullmatch(value.strip().upper())
    if match is None:
        raise ValueError(f"{value!r} is not a sandbox tracking number (SB + 15 digits)")
    service_digit, zone_digit, serial, check = match.groups()
    if luhn_check_digit(service_digit + zone_digit + serial) != check:
        raise ValueError(f"{value!r} has a wrong check digit")
    service = SERVICE_BY_DIGIT.get(service_digit)
    if service is None:
        raise ValueError(f"{value!r} names no sandbox service")
    try:
        zone = Zone.from_digit(zone_digit)
    except ValueError:
        raise ValueError(f"{value!r} names no sandbox zone") from None
    return TrackingNumber(match.group(0), service, zone)

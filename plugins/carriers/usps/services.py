"""USPS services as data: the mail classes the adapter quotes and labels, and which priced
options fit a parcel in the shipper's own box.

Sources: Domestic Prices 3.0 (``MailClassOutboundOnly``, ``RateDetails.rateIndicator``) and
Labels 3.0 (``BaseDomesticPackageDescription.mailClass``, ``DomesticPackageDescriptionWithout
RateIndicator``), USPS OpenAPI specs 3.4.30 and 3.9.13 (developers.usps.com).
"""

from __future__ import annotations

from typing import Literal, get_args

MailClass = Literal[
    "USPS_GROUND_ADVANTAGE",
    "PRIORITY_MAIL",
    "PRIORITY_MAIL_EXPRESS",
    "MEDIA_MAIL",
    "LIBRARY_MAIL",
    "BOUND_PRINTED_MATTER",
]
"""Mail classes both APIs take for a parcel entered at the origin (no destination entry).
Parcel Select is left out: without destination entry USPS turns it into Ground Advantage; the
USPS Connect classes need destination entry or local pickup. Media Mail, Library Mail and Bound
Printed Matter have content rules: enable them only for goods that qualify."""

MAIL_CLASSES: frozenset[str] = frozenset(get_args(MailClass))

SERVICE_NAMES: dict[str, str] = {
    "USPS_GROUND_ADVANTAGE": "USPS Ground Advantage",
    "PRIORITY_MAIL": "Priority Mail",
    "PRIORITY_MAIL_EXPRESS": "Priority Mail Express",
    "MEDIA_MAIL": "Media Mail",
    "LIBRARY_MAIL": "Library Mail",
    "BOUND_PRINTED_MATTER": "Bound Printed Matter",
}

OWN_PACKAGING_RATE_INDICATORS: frozenset[str] = frozenset({"SP", "DR", "OS", "PA", "NP"})
"""Rate indicators that price a rectangular box of the shipper's own: single piece (SP),
dimensional rectangular (DR), oversized (OS), Priority Mail Express single piece (PA) and
non-presorted (NP). Everything else needs USPS packaging (flat rate, cubic), presorting or
destination entry, none of which a label with ``packagingType: VARIABLE`` claims."""

OWN_PACKAGING_CATEGORIES: frozenset[str] = frozenset(
    {"MACHINABLE", "NONSTANDARD", "IRREGULAR", "NON_MACHINABLE"}
)
"""Processing categories of a parcel (letters, flats and cards are other products)."""

DOMESTIC_TERRITORIES: dict[str, str] = {
    "PR": "PR",
    "VI": "VI",
    "GU": "GU",
    "AS": "AS",
    "MP": "MP",
    "FM": "FM",
    "MH": "MH",
    "PW": "PW",
}
"""ISO 3166 codes USPS serves as domestic mail, with the USPS state code it uses for them
(Labels 3.0 ``State``). The United States themselves are ``US``."""

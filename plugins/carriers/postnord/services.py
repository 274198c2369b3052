"""PostNord services, zones and local conventions, as data.

Sources:
- Service and additional-service codes and their dependent information: PostNord "General
  Descriptions" (the shipping-instruction rules that go with the Booking API; PDF as vendored in
  Joaqim/karrio ``modules/connectors/postnord/vendor/docs/general-descriptions.pdf``), sections
  "Services" and "Additional Services".
- Issuer codes: Booking APIs 3.5.29.1 definition ``issuerCode`` and General Descriptions
  "Issuer Codes". ``updateIndicator`` cancellation: General Descriptions "Update Indicator"
  ("1 Cancellation - Supported in Sweden") and the spec's ``updateIndicator`` ("Update and
  Deletion are not supported for Z11, Z13, Z14").
- Customs categories: Booking APIs ``categoryType``; Incoterms: ``todConditionCode``.
"""

from __future__ import annotations

from typing import Literal

from hub.domain.customs import EU_CUSTOMS_UNION, ContentsType, Incoterm
from hub.domain.shipment import LabelFormat

CARRIER = "postnord"

SERVICE_NAMES: dict[str, str] = {
    "17": "PostNord MyPack Home",
    "18": "PostNord Parcel",
    "19": "PostNord MyPack Collect",
    "30": "PostNord MyPack Home Small",
}
"""``basicServiceCode`` -> name. 30 is domestic Sweden only (General Descriptions)."""

IssuerCode = Literal["Z11", "Z12", "Z13", "Z14"]
"""Which PostNord company issued the customer number: DK, SE, NO, FI."""

DELETION_ISSUERS: frozenset[str] = frozenset({"Z12"})
"""Agreements whose EDI bookings can be cancelled with ``updateIndicator: "Deletion"``."""

NORDIC = frozenset({"SE", "DK", "NO", "FI"})

Zone = Literal["SE", "DK", "NO", "FI", "EU", "WORLD"]
"""Price zones: each Nordic country is its own zone (PostNord price lists are per destination
country there); the rest of the EU customs union is "EU"; anything else "WORLD"."""

ZONES: tuple[str, ...] = ("SE", "DK", "NO", "FI", "EU", "WORLD")


def zone_of(destination: str) -> str:
    if destination in NORDIC:
        return destination
    if destination in EU_CUSTOMS_UNION:
        return "EU"
    return "WORLD"


# Additional services (General Descriptions, "Additional Services").
NOTIFY_BY_LETTER = "A2"
NOTIFY_BY_SMS = "A3"
NOTIFY_BY_EMAIL = "A4"
FLEXCHANGE = "C7"
"""Mandatory on MyPack Home unless A6/F1 is used; needs the consignee's SMS number."""
CLIMATE_COMPENSATION = "D9"

LABEL_FORMATS = (LabelFormat.PDF, LabelFormat.ZPL)
"""For any number of parcels: ``multiPDF``/``multiZPL`` put them in one document."""

ECO_CLIMATE_COMPENSATION = "climate_compensation"
"""The hub's name for PostNord's Climate Compensation (D9), offered as a quote eco option."""

SMS_CODES: frozenset[str] = frozenset({NOTIFY_BY_SMS, FLEXCHANGE, "C5", "D5", "F1", "57"})
"""Additional services that need an SMS number on the consignee."""

PHONE_REQUIRED: frozenset[str] = frozenset({"18"})
"""Parcel (18): "Contact name and telephone number are mandatory"."""

COLLECT = "19"
COLLECT_WITHOUT_SERVICE_POINT: frozenset[str] = frozenset({"SE", "DK"})
"""MyPack Collect needs a chosen service point (A7) except in and to Sweden and Denmark."""

LOCALES: dict[str, str] = {"SE": "sv", "DK": "da", "NO": "no", "FI": "fi"}
"""Booking ``locale`` query parameter (language of PostNord's SMS and e-mails)."""

TIMEZONES: dict[str, str] = {
    "SE": "Europe/Stockholm",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "FI": "Europe/Helsinki",
}
"""Local time of the Nordic countries: Track & Trace and Transit Time give local times."""

CATEGORIES: dict[ContentsType, str] = {
    ContentsType.MERCHANDISE: "SALE OF GOODS",
    ContentsType.GIFT: "GIFT",
    ContentsType.DOCUMENTS: "DOCUMENT",
    ContentsType.SAMPLE: "COMMERCIAL SAMPLE",
    ContentsType.RETURNED_GOODS: "RETURNED GOODS",
}
"""Customs ``categoryOfItem.categoryType``."""

TERMS_OF_DELIVERY: dict[Incoterm, str] = {
    Incoterm.DAP: "DAP",
    Incoterm.DDP: "DDP",
    Incoterm.EXW: "EXW",
    Incoterm.FCA: "FCA",
    Incoterm.CPT: "CPT",
    Incoterm.CIP: "CIP",
    Incoterm.DPU: "DAT",  # Incoterms 2020 renamed DAT to DPU; PostNord's list still says DAT
}
INCOTERMS_CODE_LIST = "1990"
"""``todConditionCodeList``: "2000=COMBITERMS, 1990=INCOTERMS"."""

MAX_CUSTOMS_LINES = 13
"""Lines per customs declaration (PostNord "Booking Customs Information", as recorded by the
Joaqim/karrio connector; the swagger itself sets no maxItems)."""

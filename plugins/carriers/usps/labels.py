"""Pure mapping for label purchase: the hub's LabelRequest -> Labels API body, and the
multipart answer -> PurchasedLabel (no I/O here).

Request: Labels 3.9.13 ``POST /labels/v3/label``, body ``LabelRequest``: ``imageInfo``
(``ImageInfo``), ``toAddress`` (``DomesticLabelToAddress``), ``fromAddress``
(``DomesticLabelAddress``) and a ``packageDescription`` without rate indicator
(``DomesticPackageDescriptionWithoutRateIndicator``: ``packagingType: VARIABLE``, ``shape:
RECTANGULAR``), so USPS derives the rate indicator from the dimensions, as it did for the
own-packaging prices the quote kept. Header ``X-Idempotency-Key``: "a unique UUID ... when the same
idempotency key is resubmitted with an identical request payload, the API will return the
existing label without creating a duplicate or charging additional postage".
Answer: ``multipart/form-data`` with ``labelMetadata`` (``LabelMetadata``) and ``labelImage``
(Base64). Spec: developers.usps.com/domesticlabelsv3 (as vendored in karrioapi/karrio).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hub.domain.address import Address, Contact
from hub.domain.messages import LabelDocument, LabelRequest, PurchasedLabel
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat
from hub.errors import PermanentError
from plugins.carriers.usps.mapping import (
    CURRENCY,
    check_domestic,
    json_number,
    package_size,
    zip_code,
)
from plugins.carriers.usps.multipart import MultipartError, decode_base64, parse_form_data
from plugins.carriers.usps.schemas import LabelMetadata
from plugins.carriers.usps.services import MAIL_CLASSES
from plugins.carriers.usps.settings import UspsSettings

TRACKING_URL = "https://tools.usps.com/go/TrackConfirmAction?tLabels={}"
IDEMPOTENCY_NAMESPACE = uuid.UUID("5f0c8a52-7a55-4c36-9b0e-2f1d6a3c9e41")
"""Namespace of the UUIDs sent as ``X-Idempotency-Key``."""

_PHONE = re.compile(r"^\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$")
"""Labels 3.0 ``Phone``: digits only, optionally with a leading +."""
_EMAIL = re.compile(r"^[a-zA-Z0-9_+&*-]+(?:\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$")
"""Labels 3.0 ``Email`` (at most 50 characters)."""


def effective_format(request: LabelRequest, settings: UspsSettings) -> LabelFormat:
    return settings.label_format or request.label_format


def image_type(label_format: LabelFormat, settings: UspsSettings) -> str:
    if label_format is LabelFormat.ZPL:
        return settings.zpl_resolution
    return label_format.value  # PDF and PNG are USPS imageType values as they are


def idempotency_uuid(key: str, crid: str, parcel_index: int) -> str:
    """The hub's key as the UUID USPS asks for: stable across retries and crashes, unique per
    CRID (as USPS requires) and per parcel (each parcel is its own USPS label)."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{crid}|{key}|{parcel_index}"))


SINGLE_FORMATS = (LabelFormat.PDF, LabelFormat.ZPL)
"""The formats a one-parcel label is bought in unless ``label_format`` forces one. PNG is not
offered: karrio's reading of the Labels spec's ``imageType`` has JPG and TIFF, not PNG."""


def label_formats(parcel_count: int, settings: UspsSettings) -> tuple[LabelFormat, ...]:
    """What a label for `parcel_count` parcels can be bought in, quoted so the hub never asks
    for one that fails: USPS makes one label per parcel, the hub keeps one document per
    shipment, and only ZPL labels concatenate (PDF and PNG would need a renderer)."""
    formats: tuple[LabelFormat, ...] = (
        (settings.label_format,) if settings.label_format else SINGLE_FORMATS
    )
    if parcel_count > 1:
        formats = tuple(f for f in formats if f is LabelFormat.ZPL)
    return formats


def check_printable(parcel_count: int, label_format: LabelFormat, settings: UspsSettings) -> None:
    """Refuse, before anything is bought, a label in a format `label_formats` does not offer."""
    offered = label_formats(parcel_count, settings)
    if label_format in offered:
        return
    if parcel_count > 1 and label_format is not LabelFormat.ZPL:
        raise PermanentError(
            f"parcels: USPS makes one label per parcel and {label_format.value} labels cannot be "
            f"joined into one document; ask for ZPL or ship the {parcel_count} parcels "
            "as separate shipments"
        )
    listed = ", ".join(f.value for f in offered) or "no format"
    raise PermanentError(f"label_format: USPS labels are {listed} here, not {label_format.value}")


def check_eco_option(request: LabelRequest) -> None:
    if request.eco_option is not None:
        raise PermanentError(f"eco_option: USPS offers no eco option ({request.eco_option!r})")


def _name_fields(name: str, company: str | None, field: str) -> dict[str, str]:
    """Labels 3.0 ``Addressee``: a first and last name, or a firm, is required."""
    fields: dict[str, str] = {}
    if company:
        fields["firm"] = company[:50]
    words = name.split()
    if len(words) >= 2:
        fields["firstName"] = " ".join(words[:-1])[:50]
        fields["lastName"] = words[-1][:50]
    elif words and company:
        fields["lastName"] = words[0][:50]
    elif words:
        fields["firm"] = words[0][:50]  # a one-word name: the firm line is the only fit
    if not fields:
        raise PermanentError(f"{field}.name: a name or a company is required on a USPS label")
    return fields


def label_address(address: Address, field: str) -> dict[str, Any]:
    state = check_domestic(address, field)
    zip5, plus4 = zip_code(address, field)
    body: dict[str, Any] = {
        **_name_fields(address.name, address.company, field),
        "streetAddress": address.line1[:50],
        "city": address.city[:28],
        "state": state,
        "ZIPCode": zip5,
    }
    if address.line2:
        body["secondaryAddress"] = address.line2[:50]
    if plus4:
        body["ZIPPlus4"] = plus4
    return body


def contact_fields(contact: Contact) -> dict[str, str]:
    """Phone and email when they fit USPS's patterns (both are optional on the label)."""
    fields: dict[str, str] = {}
    if contact.phone:
        plus = "+" if contact.phone.strip().startswith("+") else ""
        digits = plus + re.sub(r"\D", "", contact.phone)
        if _PHONE.fullmatch(digits):
            fields["phone"] = digits
    if contact.email and len(contact.email) <= 50 and _EMAIL.fullmatch(contact.email):
        fields["email"] = contact.email
    return fields


def label_body(request: LabelRequest, parcel_index: int, settings: UspsSettings) -> dict[str, Any]:
    if request.service_code not in MAIL_CLASSES:
        known = ", ".join(sorted(MAIL_CLASSES))
        raise PermanentError(
            f"service_code: {request.service_code!r} is not a USPS mail class this adapter "
            f"labels ({known})"
        )
    size = package_size(request.parcels[parcel_index], f"parcels.{parcel_index}")
    image_info: dict[str, Any] = {
        "imageType": image_type(effective_format(request, settings), settings),
        "labelType": settings.label_size,
        "receiptOption": "NONE",
    }
    if len(request.parcels) > 1:
        image_info |= {"packageNumber": parcel_index + 1, "totalPackages": len(request.parcels)}
    return {
        "imageInfo": image_info,
        "toAddress": label_address(request.ship_to, "ship_to") | contact_fields(request.recipient),
        "fromAddress": label_address(request.ship_from, "ship_from"),
        "packageDescription": {
            "mailClass": request.service_code,
            "processingCategory": size.processing_category,
            "destinationEntryFacilityType": "NONE",
            "packagingType": "VARIABLE",
            "shape": "RECTANGULAR",
            "weightUOM": "lb",
            "weight": json_number(size.pounds),
            "dimensionsUOM": "in",
            "length": json_number(size.length),
            "width": json_number(size.width),
            "height": json_number(size.height),
            "mailingDate": request.ship_date.date().isoformat(),
            "customerReference": [
                {"referenceNumber": request.order_reference[:30], "printReferenceNumber": True}
            ],
        },
    }


@dataclass(frozen=True)
class BoughtLabel:
    """One USPS label, as its multipart answer describes it."""

    metadata: LabelMetadata
    image: bytes


class UnreadableLabel(ValueError):
    """A 2xx answer to a label purchase that cannot be read: USPS did make the label."""


def parse_label(content_type: str, body: bytes) -> BoughtLabel:
    """The ``labelMetadata`` and ``labelImage`` parts of a label answer."""
    try:
        parts = parse_form_data(content_type, body)
        for name in ("labelMetadata", "labelImage"):
            if name not in parts:
                raise MultipartError(f"the answer has no {name} part")
        image = decode_base64("labelImage", parts["labelImage"])
        payload = json.loads(parts["labelMetadata"])
    except (MultipartError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise UnreadableLabel(str(exc)) from None
    try:
        metadata = LabelMetadata.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        raise UnreadableLabel(f"labelMetadata.{where}: {error['msg']}") from None
    return BoughtLabel(metadata=metadata, image=image)


def _tracking_url(metadata: LabelMetadata) -> str:
    for link in metadata.links:
        if any("tracking" in rel.lower() for rel in link.rel) and link.href.startswith("https://"):
            return link.href
    return TRACKING_URL.format(metadata.trackingNumber)


def join_documents(label_format: LabelFormat, images: list[bytes]) -> bytes:
    """One document for the shipment: ZPL is a stream of ``^XA ... ^XZ`` formats, so the
    labels of several parcels print in sequence when concatenated."""
    if len(images) == 1:
        return images[0]
    if label_format is not LabelFormat.ZPL:
        raise PermanentError(f"cannot join {len(images)} {label_format.value} labels")
    return b"\n".join(image.rstrip(b"\r\n") for image in images) + b"\n"


def purchased_label(
    request: LabelRequest, labels: list[BoughtLabel], label_format: LabelFormat, now: datetime
) -> PurchasedLabel:
    """The shipment's label: the first parcel's tracking number identifies it (USPS labels
    are cancelled by tracking number); the price is postage, extra services and fees."""
    first = labels[0].metadata
    total = sum((label.metadata.total for label in labels), Decimal(0))
    return PurchasedLabel(
        label_id=first.trackingNumber,
        service_code=request.service_code,
        tracking_numbers=tuple(label.metadata.trackingNumber for label in labels),
        price=Money(amount=total, currency=CURRENCY),
        document=LabelDocument(
            label_format=label_format,
            content=join_documents(label_format, [label.image for label in labels]),
        ),
        tracking_url=_tracking_url(first),
        created_at=now,
    )

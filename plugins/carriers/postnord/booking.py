"""Pure mapping of a LabelRequest to PostNord's EDI instruction (no I/O here).

Request: Booking APIs 3.5.29.1 ``POST /rest/shipment/v3/edi/labels/pdf`` (``createEDILabelPDF``)
and ``/zpl`` (``createEDILabelZPL``), body ``ediInstruction``: ``messageDate``,
``messageFunction`` "Instruction", ``messageId``, ``application``, ``updateIndicator``
"Original", ``shipment[]`` with ``dateAndTimes.loadingDate``, ``service{basicServiceCode,
additionalServiceCode[]}``, ``numberOfPackages``, ``totalGrossWeight``, ``references[]``,
``parties{consignor{issuerCode, partyIdentification{partyId, partyIdType "160"}, party},
consignee{party}}``, ``goodsItem[]{packageTypeCode, items[]{itemIdentification{itemId},
grossWeight, dimensions}}`` and, across a customs border, ``customsDeclarationCN22`` or
``customsDeclarationCN23`` plus ``termsOfDelivery``. Query parameters ``labelType``,
``paperSize``, ``multiPDF``/``multiZPL`` and ``locale``.
Spec: developer.postnord.com Booking APIs, swagger as vendored in Joaqim/karrio
``modules/connectors/postnord/vendor/booking.swagger.json``; service rules from PostNord's
General Descriptions (see :mod:`.services`).

Where the spec is thin this follows the Joaqim/karrio connector's live-verified choices:
``itemId`` "0" makes PostNord allocate the parcel ids (an arbitrary value fails with "unable to
determine id type"), and ``applicationId`` goes as an integer.

The hub's idempotency key travels as the consignor reference (CU), which Track & Trace can
search with the customer number, and as the seed of ``messageId``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers

from hub.domain.address import Address, Contact
from hub.domain.messages import LabelRequest
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat, Parcel
from hub.errors import PermanentError
from plugins.carriers.postnord.customs import customs_fields
from plugins.carriers.postnord.mapping import (
    centimetres,
    iso_utc,
    kilograms,
    message_id,
)
from plugins.carriers.postnord.services import (
    CLIMATE_COMPENSATION,
    COLLECT,
    COLLECT_WITHOUT_SERVICE_POINT,
    ECO_CLIMATE_COMPENSATION,
    LABEL_FORMATS,
    LOCALES,
    NORDIC,
    NOTIFY_BY_EMAIL,
    NOTIFY_BY_LETTER,
    NOTIFY_BY_SMS,
    PHONE_REQUIRED,
    SERVICE_NAMES,
    SMS_CODES,
)
from plugins.carriers.postnord.settings import PostnordSettings

LABEL_PATHS = {fmt: f"/rest/shipment/v3/edi/labels/{fmt.value.lower()}" for fmt in LABEL_FORMATS}
"""``/edi/labels/pdf`` and ``/edi/labels/zpl``: the formats the quotes promise."""
EDI_PATH = "/rest/shipment/v3/edi"
APPLICATION_VERSION = "1.0"
PARCEL = "PC"
"""``packageTypeCode`` PC = Parcel."""

_NAME_MAX = 60
_STREET_MAX = 50
_CITY_MAX = 35
_EMAIL_MAX = 70


def checked_format(label_format: LabelFormat) -> LabelFormat:
    if label_format not in LABEL_PATHS:
        raise PermanentError(
            f"label_format: PostNord makes PDF and ZPL labels, not {label_format.value}"
        )
    return label_format


def label_params(
    label_format: LabelFormat, destination: str, settings: PostnordSettings
) -> dict[str, str]:
    """Query of the booking call: one document for all parcels (``multiPDF``/``multiZPL``),
    and PostNord's SMS/e-mail to the recipient in the recipient's language."""
    params = {"labelType": settings.label_size, "locale": LOCALES.get(destination, "en")}
    if label_format is LabelFormat.PDF:
        params |= {"paperSize": settings.paper_size, "multiPDF": "true"}
    else:
        params |= {"multiZPL": "true"}
    return params


def reprint_request(
    ids: tuple[str, ...], label_format: LabelFormat, settings: PostnordSettings
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Body (``ids_label``: ``[{id, labelType}]``) and query of ``/v3/labels/ids/{pdf|zpl}``,
    which prints the labels of parcels already booked. The spec's example ids are parcel ids,
    its ``printId`` "is used to print the label" there, and the Joaqim/karrio connector found
    live that only print ids resolve: print ids are sent when known, else parcel ids."""
    body = [{"id": item, "labelType": settings.label_size} for item in ids]
    if label_format is LabelFormat.PDF:
        return body, {"paperSize": settings.paper_size, "multiPDF": "true"}
    return body, {"multiZPL": "true"}


# --------------------------------------------------------------------------- parties


def _street_lines(address: Address, field: str) -> list[str]:
    lines = [line for line in (address.line1, address.line2) if line]
    for index, line in enumerate(lines):
        if len(line) > _STREET_MAX:
            name = "line1" if index == 0 else "line2"
            raise PermanentError(
                f"{field}.{name}: longer than PostNord's {_STREET_MAX} characters per line"
            )
    return lines


def postal_address(address: Address, field: str) -> dict[str, Any]:
    code = (address.postal_code or "").strip()
    if address.country in NORDIC:
        code = code.replace(" ", "")  # "114 55" is written 11455 in PostNord's EDI
    if not code:
        raise PermanentError(f"{field}.postal_code: PostNord needs a postal code")
    body: dict[str, Any] = {
        "streets": _street_lines(address, field),
        "postalCode": code,
        "city": address.city[:_CITY_MAX],
        "countryCode": address.country,
    }
    if address.region:
        body["state"] = address.region[:_CITY_MAX]
    return body


def _names(address: Address) -> dict[str, str]:
    names = {"name": address.name[:_NAME_MAX]}
    if address.company:
        names["companyName"] = address.company[:_NAME_MAX]
    return names


def sms_number(contact: Contact, country: str) -> str | None:
    """The recipient's phone in international form, if it is a possible number."""
    if not contact.phone:
        return None
    try:
        number = phonenumbers.parse(contact.phone, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_address(contact: Contact) -> str | None:
    email = (contact.email or "").strip()
    if "@" not in email or len(email) > _EMAIL_MAX:
        return None
    return email


def consignor(address: Address, settings: PostnordSettings) -> dict[str, Any]:
    return {
        "issuerCode": settings.issuer_code,
        "partyIdentification": {"partyId": settings.customer_number, "partyIdType": "160"},
        "party": {
            "nameIdentification": _names(address),
            "address": postal_address(address, "ship_from"),
        },
    }


def consignee(request: LabelRequest) -> dict[str, Any]:
    address, contact = request.ship_to, request.recipient
    details: dict[str, str] = {"contactName": (contact.name or address.name)[:50]}
    if email := email_address(contact):
        details["emailAddress"] = email
    if phone := sms_number(contact, address.country):
        details |= {"phoneNo": phone, "smsNo": phone}
    return {
        "party": {
            "nameIdentification": _names(address),
            "address": postal_address(address, "ship_to"),
            "contact": details,
        }
    }


# --------------------------------------------------------------------------- services


def additional_services(request: LabelRequest, settings: PostnordSettings) -> list[str]:
    """The service's configured additional services, MyPack Collect's notification channel
    and the eco option, checked against the contact data PostNord requires for them."""
    service = request.service_code
    codes = list(settings.additional_services.get(service, ()))
    phone = sms_number(request.recipient, request.ship_to.country)
    email = email_address(request.recipient)
    destination = request.ship_to.country
    if service == COLLECT:
        if destination not in COLLECT_WITHOUT_SERVICE_POINT:
            raise PermanentError(
                f"ship_to.country: MyPack Collect to {destination} needs a chosen service point "
                "(additional service A7), which a label request cannot carry; use MyPack Home "
                "(17) or Parcel (18)"
            )
        if email:
            codes.append(NOTIFY_BY_EMAIL)
        elif phone:
            codes.append(NOTIFY_BY_SMS)
        elif destination in NORDIC:
            codes.append(NOTIFY_BY_LETTER)
    if any(code in SMS_CODES for code in codes) and phone is None:
        needing = ", ".join(code for code in codes if code in SMS_CODES)
        raise PermanentError(
            f"recipient.phone: PostNord service {service} with {needing} needs the recipient's "
            "mobile number for SMS"
        )
    if service in PHONE_REQUIRED and phone is None:
        raise PermanentError(
            f"recipient.phone: {SERVICE_NAMES[service]} needs the recipient's phone number"
        )
    if request.eco_option is not None:
        if request.eco_option != ECO_CLIMATE_COMPENSATION or not settings.climate_compensation:
            raise PermanentError(
                f"eco_option: {request.eco_option!r} is not offered by this PostNord account"
            )
        codes.append(CLIMATE_COMPENSATION)
    return list(dict.fromkeys(codes))


def _goods_item(parcel: Parcel) -> dict[str, Any]:
    size = parcel.dimensions
    return {
        "packageTypeCode": PARCEL,
        "numberOfPackageTypeCodeItems": {"value": 1},
        "items": [
            {
                "itemIdentification": {"itemId": "0"},  # PostNord allocates the parcel id
                "grossWeight": {"value": kilograms(parcel.weight_grams), "unit": "KGM"},
                "dimensions": {
                    "length": {"value": centimetres(size.length_mm), "unit": "CMT"},
                    "width": {"value": centimetres(size.width_mm), "unit": "CMT"},
                    "height": {"value": centimetres(size.height_mm), "unit": "CMT"},
                },
            }
        ],
    }


# --------------------------------------------------------------------------- instruction


def checked_service(request: LabelRequest, settings: PostnordSettings) -> dict[str, Any]:
    """The ``service`` element, once the service and its contact rules are satisfied."""
    if request.service_code not in SERVICE_NAMES:
        known = ", ".join(f"{code} ({name})" for code, name in SERVICE_NAMES.items())
        raise PermanentError(
            f"service_code: {request.service_code!r} is not a PostNord service this adapter "
            f"books ({known})"
        )
    service: dict[str, Any] = {"basicServiceCode": request.service_code}
    if codes := additional_services(request, settings):
        service["additionalServiceCode"] = codes
    return service


def edi_instruction(
    request: LabelRequest,
    settings: PostnordSettings,
    *,
    reference: str,
    price: Money,
    now: datetime,
) -> dict[str, Any]:
    service = checked_service(request, settings)
    grams = sum(parcel.weight_grams for parcel in request.parcels)
    shipment: dict[str, Any] = {
        "dateAndTimes": {"loadingDate": iso_utc(request.ship_date)},
        "service": service,
        "numberOfPackages": {"value": len(request.parcels)},
        "totalGrossWeight": {"value": kilograms(grams), "unit": "KGM"},
        "references": [{"referenceNo": reference, "referenceType": "CU"}],
        "parties": {
            "consignor": consignor(request.ship_from, settings),
            "consignee": consignee(request),
        },
        "goodsItem": [_goods_item(parcel) for parcel in request.parcels],
    }
    shipment |= customs_fields(request, price, settings)
    return _envelope(settings, reference, "Original", shipment, now)


def deletion_instruction(
    *,
    settings: PostnordSettings,
    reference: str,
    service_code: str,
    consignor_party: dict[str, Any],
    shipment_id: str | None,
    item_ids: tuple[str, ...],
    now: datetime,
) -> dict[str, Any]:
    """``updateIndicator`` "Deletion" for a booked instruction: the same consignor, service and
    reference, naming the shipment and the parcel ids PostNord allocated."""
    shipment: dict[str, Any] = {
        "service": {"basicServiceCode": service_code},
        "references": [{"referenceNo": reference, "referenceType": "CU"}],
        "parties": {"consignor": consignor_party},
        "goodsItem": [
            {"packageTypeCode": PARCEL, "items": [{"itemIdentification": {"itemId": item}}]}
            for item in item_ids
        ],
    }
    if shipment_id:
        shipment = {"shipmentIdentification": {"shipmentId": shipment_id}} | shipment
    return _envelope(settings, reference, "Deletion", shipment, now)


def _envelope(
    settings: PostnordSettings,
    reference: str,
    indicator: str,
    shipment: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    application: dict[str, Any] = {
        "name": settings.application_name,
        "version": APPLICATION_VERSION,
    }
    if settings.application_id is not None:
        application = {"applicationId": settings.application_id} | application
    return {
        "messageDate": iso_utc(now),
        "messageFunction": "Instruction",
        "messageId": message_id(reference, indicator),
        "application": application,
        "updateIndicator": indicator,
        "shipment": [shipment],
    }

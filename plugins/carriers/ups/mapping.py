"""Pure mapping between the hub's carrier messages and UPS JSON (no I/O, no clock).

Request and response shapes follow github.com/UPS-API/api-documentation (MIT), commit e6f36df4:
- Rating.yaml, ``POST /api/rating/{version}/{requestoption}`` (v2409; ``Shop`` or
  ``Shoptimeintransit``): ``RATERequestWrapper`` in, ``RATEResponseWrapper`` out;
- Shipping.yaml, ``POST /api/shipments/{version}/ship`` (v2409): ``SHIPRequestWrapper`` in,
  ``SHIPResponseWrapper`` out; ``DELETE /api/shipments/{version}/void/cancel/{id}``:
  ``VOIDSHIPMENTResponseWrapper``.
Tracking is in :mod:`plugins.carriers.ups.tracking`, customs forms in
:mod:`plugins.carriers.ups.customs`, label images in :mod:`plugins.carriers.ups.labels`.

UPS field notes the code relies on: Rating packages use ``PackagingType``, Ship packages
``Packaging``; "presence indicators" such as ``UPScarbonneutralIndicator`` are sent as ``""``;
every number is a string; ship dimensions are whole units (max 3 characters) and weights at
most 5 characters, so both are rounded up.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import ROUND_UP, Decimal
from typing import Any

import phonenumbers

from hub.domain.address import Address
from hub.domain.messages import (
    LabelRequest,
    PaperDocument,
    PurchasedLabel,
    Quote,
    RateRequest,
    VoidResult,
)
from hub.domain.money import Money
from hub.domain.shipment import DocumentKind, LabelFormat, Parcel
from hub.errors import PermanentError
from plugins.carriers.ups import labels
from plugins.carriers.ups.customs import CustomsDeclaration, international_forms
from plugins.carriers.ups.schemas import (
    FormModel,
    NegotiatedChargesModel,
    RatedShipmentModel,
    RateEnvelopeModel,
    ShipEnvelopeModel,
    VoidEnvelopeModel,
    parse,
)
from plugins.carriers.ups.services import (
    CARBON_NEUTRAL_SUFFIX,
    DOMESTIC_US_PR,
    ECO_OPTION,
    IMPERIAL_ORIGINS,
    MAX_LENGTH_MM,
    allowed_for_level,
    needs_customs,
    service_name,
)
from plugins.carriers.ups.settings import UpsSettings

log = logging.getLogger(__name__)

BILL_SHIPPER = "01"
"""PaymentInformation.ShipmentCharge.Type: 01 transportation, 02 duties and taxes."""
BILL_DUTIES = "02"
NON_DOCUMENT = "03"
"""DeliveryTimeInformation.PackageBillType 03: non-documents."""


# --------------------------------------------------------------------------- units


@dataclass(frozen=True)
class Units:
    weight_code: str
    dimension_code: str
    grams_per_unit: Decimal
    mm_per_unit: Decimal
    max_weight: Decimal
    """Per package: 70 kg or 150 lbs, UPS's published small-package limit (ups.com; the
    OpenAPI spec does not state it). Checked here so the error names the parcel."""


METRIC = Units("KGS", "CM", Decimal(1000), Decimal(10), Decimal(70))
IMPERIAL = Units("LBS", "IN", Decimal("453.59237"), Decimal("25.4"), Decimal(150))
GRAMS_PER_UNIT = {"KGS": METRIC.grams_per_unit, "LBS": IMPERIAL.grams_per_unit}


def units_for(origin_country: str) -> Units:
    return IMPERIAL if origin_country in IMPERIAL_ORIGINS else METRIC


def _weight(grams: int, units: Units) -> Decimal:
    value = (Decimal(grams) / units.grams_per_unit).quantize(Decimal("0.1"), rounding=ROUND_UP)
    return max(value, Decimal("0.1"))


def _length(mm: int, units: Units) -> int:
    return math.ceil(Decimal(mm) / units.mm_per_unit)


def _package_measures(parcel: Parcel, index: int, units: Units) -> dict[str, Any]:
    weight = _weight(parcel.weight_grams, units)
    if weight > units.max_weight:
        raise PermanentError(
            f"parcels[{index}].weight_grams: {parcel.weight_grams} g is over UPS's "
            f"{units.max_weight} {units.weight_code} per package"
        )
    dims = parcel.dimensions
    longest_first = sorted((dims.length_mm, dims.width_mm, dims.height_mm), reverse=True)
    if longest_first[0] > MAX_LENGTH_MM:
        raise PermanentError(
            f"parcels[{index}].dimensions: {longest_first[0]} mm is longer than UPS's 270 cm"
        )
    length, width, height = (_length(mm, units) for mm in longest_first)
    return {
        "Dimensions": {
            "UnitOfMeasurement": {"Code": units.dimension_code},
            "Length": str(length),
            "Width": str(width),
            "Height": str(height),
        },
        "PackageWeight": {
            "UnitOfMeasurement": {"Code": units.weight_code},
            "Weight": str(weight),
        },
    }


# --------------------------------------------------------------------------- parties


def address_block(address: Address) -> dict[str, Any]:
    lines = [line[:35] for line in (address.line1, address.line2) if line]
    block: dict[str, Any] = {
        "AddressLine": lines,
        "City": address.city[:30],
        "CountryCode": address.country,
    }
    if address.region:
        block["StateProvinceCode"] = address.region[:5]
    if address.postal_code:
        block["PostalCode"] = _postal_code(address)
    return block


def _postal_code(address: Address) -> str:
    code = address.postal_code or ""
    if address.country in {"US", "PR"}:
        return "".join(ch for ch in code if ch.isdigit())  # 5 or 9 digits, no dash
    if address.country == "CA":
        return code.replace(" ", "").upper()  # A#A#A#
    return code


def _is_residential(address: Address) -> bool:
    # The hub's address model has no residential flag: a consumer without a company is one.
    return not address.company


def _party(address: Address, *, residential: bool = False) -> dict[str, Any]:
    block = address_block(address)
    if residential and _is_residential(address):
        block["ResidentialAddressIndicator"] = "Y"  # a presence flag; "Y" as in the examples
    return {"Name": (address.company or address.name)[:35], "Address": block}


def phone_digits(raw: str | None, country: str) -> str | None:
    """UPS phone numbers are digits only, at most 15: national for NANP, else with the
    country code."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in raw if ch.isdigit())
        return digits[:15] or None
    national = phonenumbers.national_significant_number(number)
    if number.country_code == 1:
        return national[:15]
    return f"{number.country_code}{national}"[:15]


def _payment(account: str, *, duties_to_shipper: bool) -> dict[str, Any]:
    charges = [{"Type": BILL_SHIPPER, "BillShipper": {"AccountNumber": account}}]
    if duties_to_shipper:
        charges.append({"Type": BILL_DUTIES, "BillShipper": {"AccountNumber": account}})
    return {"ShipmentCharge": charges}


# --------------------------------------------------------------------------- rating


def rate_option(settings: UpsSettings) -> str:
    return "Shoptimeintransit" if settings.time_in_transit else "Shop"


def rate_request(
    request: RateRequest, settings: UpsSettings, *, carbon_neutral: bool
) -> dict[str, Any]:
    units = units_for(request.ship_from.country)
    shipper = _party(request.ship_from)
    shipper["ShipperNumber"] = settings.account_number
    shipment: dict[str, Any] = {
        "Shipper": shipper,
        "ShipTo": _party(request.ship_to, residential=True),
        "ShipFrom": _party(request.ship_from),
        "PaymentDetails": _payment(settings.account_number, duties_to_shipper=False),
        "Package": [
            {"PackagingType": {"Code": settings.packaging_code}}
            | _package_measures(parcel, index, units)
            for index, parcel in enumerate(request.parcels)
        ],
    }
    if settings.negotiated_rates:
        shipment["ShipmentRatingOptions"] = {"NegotiatedRatesIndicator": "Y"}
    if carbon_neutral:
        shipment["ShipmentServiceOptions"] = {"UPScarbonneutralIndicator": ""}
    if settings.time_in_transit:
        total_grams = sum(parcel.weight_grams for parcel in request.parcels)
        shipment["DeliveryTimeInformation"] = {
            "PackageBillType": NON_DOCUMENT,
            "Pickup": {"Date": request.ship_date.strftime("%Y%m%d")},
        }
        shipment["ShipmentTotalWeight"] = {
            "UnitOfMeasurement": {"Code": units.weight_code},
            "Weight": str(_weight(total_grams, units)),
        }
        if needs_customs(request.ship_from.country, request.ship_to.country):
            shipment["InvoiceLineTotal"] = {
                "CurrencyCode": request.declared_value.currency,
                "MonetaryValue": _money(request.declared_value.amount),
            }
    return {
        "RateRequest": {
            "Request": {"TransactionReference": {"CustomerContext": request.shipment_id}},
            "Shipment": shipment,
        }
    }


def parse_rate_response(
    payload: object,
    *,
    carrier: str,
    service_level: str,
    carbon_neutral: str | None,
    label_formats: tuple[LabelFormat, ...] = labels.NATIVE_FORMATS,
) -> list[Quote]:
    """``carbon_neutral``: None for plain rates, ``"always"`` when every label ships carbon
    neutral, ``"offer"`` when these rates are the carbon neutral variants of the services."""
    envelope = parse(RateEnvelopeModel, payload, "UPS rating")
    quotes = []
    for rated in envelope.RateResponse.RatedShipment:
        code = rated.Service.Code
        if not allowed_for_level(code, service_level):
            continue
        name = service_name(code)
        if carbon_neutral == "offer":
            code, name = code + CARBON_NEUTRAL_SUFFIX, f"{name} (carbon neutral)"
        quotes.append(
            Quote(
                carrier=carrier,
                service_code=code,
                service_name=name,
                price=_negotiated(rated.NegotiatedRateCharges) or rated.TotalCharges.money(),
                estimated_delivery=_arrival(rated),
                billable_weight_grams=_grams(rated),
                eco_options=(ECO_OPTION,) if carbon_neutral else (),
                label_formats=label_formats,
            )
        )
    return quotes


def _negotiated(charges: NegotiatedChargesModel | None) -> Money | None:
    # What the account is billed: the negotiated total when UPS returns one.
    if charges is not None and charges.TotalCharge is not None:
        return charges.TotalCharge.money()
    return None


def _grams(rated: RatedShipmentModel) -> int:
    unit = rated.BillingWeight.UnitOfMeasurement.Code.upper()
    per_unit = GRAMS_PER_UNIT.get(unit)
    if per_unit is None:
        raise PermanentError(
            f"UPS rating: RatedShipment.BillingWeight.UnitOfMeasurement.Code {unit!r} "
            "is neither KGS nor LBS"
        )
    return math.ceil(rated.BillingWeight.Weight * per_unit)


def _arrival(rated: RatedShipmentModel) -> datetime | None:
    """TimeInTransit arrival: a local date and commit time; the hub wants an aware datetime and
    the destination's zone is unknown, so it is read as UTC (end of day without a time)."""
    summary = rated.TimeInTransit.ServiceSummary if rated.TimeInTransit else None
    if summary is None or summary.EstimatedArrival is None:
        return None
    arrival = summary.EstimatedArrival.Arrival
    return ups_datetime(arrival.Date, arrival.Time, default=time(23, 59, 59))


def ups_datetime(day: str | None, clock: str | None, *, default: time) -> datetime | None:
    """``YYYYMMDD`` plus ``HHMMSS``/``HHMM`` (leading zeros sometimes dropped) as UTC."""
    if not day or len(day) != 8 or not _digits(day):
        return None
    try:
        date = datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        return None
    at = default
    if clock and _digits(clock) and len(clock) <= 6:
        digits = clock.zfill(6) if len(clock) != 4 else clock + "00"
        hour, minute, second = int(digits[:2]), int(digits[2:4]), int(digits[4:])
        if hour < 24 and minute < 60 and second < 60:
            at = time(hour, minute, second)
    return datetime.combine(date, at, tzinfo=UTC)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# --------------------------------------------------------------------------- shipping


def split_service_code(code: str) -> tuple[str, bool]:
    """Quote service code -> (UPS service code, carbon neutral?)."""
    if code.endswith(CARBON_NEUTRAL_SUFFIX):
        return code.removesuffix(CARBON_NEUTRAL_SUFFIX), True
    return code, False


def ships_carbon_neutral(request: LabelRequest, settings: UpsSettings) -> bool:
    """A ``-CN`` service, the eco option asked for, or every label by ``carbon_neutral``."""
    service_code_neutral = split_service_code(request.service_code)[1]
    if request.eco_option is not None and request.eco_option != ECO_OPTION:
        raise PermanentError(f"eco_option: UPS offers {ECO_OPTION!r}, not {request.eco_option!r}")
    return (
        service_code_neutral
        or request.eco_option == ECO_OPTION
        or settings.carbon_neutral == "always"
    )


def ship_request(
    request: LabelRequest,
    settings: UpsSettings,
    *,
    service_code: str,
    carbon_neutral: bool,
    customs: CustomsDeclaration | None,
    label_format: LabelFormat,
) -> dict[str, Any]:
    origin, destination = request.ship_from.country, request.ship_to.country
    cross_border = origin != destination
    units = units_for(origin)
    recipient_phone = phone_digits(request.recipient.phone, destination)
    if cross_border and recipient_phone is None:
        # Shipping.yaml ShipTo.Phone.Number: required when ShipTo and ShipFrom countries differ.
        raise PermanentError("recipient.phone: UPS needs the consignee's phone across borders")

    shipper = _party(request.ship_from)
    shipper["AttentionName"] = request.ship_from.name[:35]
    shipper["ShipperNumber"] = settings.account_number
    shipper_phone = phone_digits(settings.shipper_phone, origin)
    if shipper_phone:
        shipper["Phone"] = {"Number": shipper_phone}
    ship_to = _party(request.ship_to, residential=True)
    ship_to["AttentionName"] = request.recipient.name[:35]
    if recipient_phone:
        ship_to["Phone"] = {"Number": recipient_phone}

    reference = [{"Value": request.shipment_id[:35]}]
    package_level_reference = (origin, destination) in DOMESTIC_US_PR
    packages = []
    for index, parcel in enumerate(request.parcels):
        package: dict[str, Any] = {"Packaging": {"Code": settings.packaging_code}}
        package |= _package_measures(parcel, index, units)
        if package_level_reference:
            package["ReferenceNumber"] = reference
        packages.append(package)

    shipment: dict[str, Any] = {
        "Shipper": shipper,
        "ShipTo": ship_to,
        "ShipFrom": _party(request.ship_from),
        "PaymentInformation": _payment(
            settings.account_number,
            duties_to_shipper=customs is not None and customs.incoterm == "DDP",
        ),
        "Service": {"Code": service_code, "Description": service_name(service_code)[:35]},
        "ShipmentDate": request.ship_date.strftime("%Y%m%d"),
        "Package": packages,
    }
    if not package_level_reference:
        shipment["ReferenceNumber"] = reference
    if origin == "US" and destination in {"PR", "CA"}:
        # Shipping.yaml Shipment.InvoiceLineTotal: required from the US to PR and CA, whole units.
        shipment["InvoiceLineTotal"] = {
            "CurrencyCode": request.declared_value.currency,
            "MonetaryValue": str(max(1, math.ceil(request.declared_value.amount))),
        }
    if settings.negotiated_rates:
        shipment["ShipmentRatingOptions"] = {"NegotiatedRatesIndicator": "Y"}
    options: dict[str, Any] = {}
    if carbon_neutral:
        options["UPScarbonneutralIndicator"] = ""
    if customs is not None:
        shipment["Description"] = customs.contents[:50]
        options["InternationalForms"] = international_forms(
            customs,
            sold_to=request.ship_to,
            contact=request.recipient,
            phone=recipient_phone,
            address_block=address_block(request.ship_to),
            invoice_date=request.ship_date,
        )
    if options:
        shipment["ShipmentServiceOptions"] = options

    label_spec: dict[str, Any] = {
        "LabelImageFormat": {"Code": labels.ups_image_format(label_format)},
        "LabelStockSize": {"Height": "6", "Width": "4"},
    }
    if label_format is not LabelFormat.ZPL:
        label_spec["HTTPUserAgent"] = "Mozilla/4.5"  # asked for with GIF labels
    return {
        "ShipmentRequest": {
            "Request": {
                "RequestOption": "validate" if settings.address_validation else "nonvalidate",
                "TransactionReference": {"CustomerContext": request.shipment_id},
            },
            "Shipment": shipment,
            "LabelSpecification": label_spec,
        }
    }


def shipment_id_of(payload: object) -> str | None:
    """The 1Z shipment number in a ship answer, if it can be found at all (for reconciling)."""
    node: object = payload
    for key in ("ShipmentResponse", "ShipmentResults", "ShipmentIdentificationNumber"):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, str) and node else None


def parse_ship_response(
    payload: object,
    *,
    service_code: str,
    label_format: LabelFormat,
    tracking_url: str,
    now: datetime,
) -> PurchasedLabel:
    results = parse(ShipEnvelopeModel, payload, "UPS shipping").ShipmentResponse.ShipmentResults
    published = results.ShipmentCharges.TotalCharges.money() if results.ShipmentCharges else None
    price = _negotiated(results.NegotiatedRateCharges) or published
    if price is None:
        raise PermanentError("UPS shipping: ShipmentResults has no ShipmentCharges.TotalCharges")
    parts = []
    for index, package in enumerate(results.PackageResults):
        image = package.ShippingLabel
        try:
            content = base64.b64decode("".join(image.GraphicImage.split()), validate=True)
        except (binascii.Error, ValueError):
            raise PermanentError(
                f"UPS shipping: PackageResults[{index}].ShippingLabel.GraphicImage is not base64"
            ) from None
        parts.append((image.ImageFormat.Code, content))
    tracking_numbers = tuple(package.TrackingNumber for package in results.PackageResults)
    return PurchasedLabel(
        label_id=results.ShipmentIdentificationNumber,
        service_code=service_code,
        tracking_numbers=tracking_numbers,
        price=price,
        document=labels.build_document(parts, label_format),
        tracking_url=tracking_url.format(tracking_number=tracking_numbers[0]),
        created_at=now,
        papers=invoice_papers(results.Form),
    )


FORM_FORMATS = {"PDF": LabelFormat.PDF, "PNG": LabelFormat.PNG}
"""``Form.Image.ImageFormat.Code``: "PDF = pdf, PNG = png" (Shipping.yaml)."""


def invoice_papers(form: FormModel | None) -> tuple[PaperDocument, ...]:
    """The commercial invoice UPS filled in from ``InternationalForms``, to print with the
    label. The label is bought and billed whatever the form holds: an unreadable form is logged
    and left out (it can be fetched again by its ``FormGroupId`` in UPS's Paperless API)."""
    if form is None or form.Image is None:
        return ()
    image = form.Image
    label_format = FORM_FORMATS.get(image.ImageFormat.Code.strip().upper())
    try:
        content = base64.b64decode("".join(image.GraphicImage.split()), validate=True)
    except (binascii.Error, ValueError):
        content = b""
    if label_format is None or not content:
        log.warning("UPS international forms left out: unreadable %r image", image.ImageFormat.Code)
        return ()
    paper = PaperDocument(
        kind=DocumentKind.COMMERCIAL_INVOICE, label_format=label_format, content=content
    )
    return (paper,)


# --------------------------------------------------------------------------- void

VOIDED = "1"
"""VoidShipmentResponse Status.Code: "1 = Voided or Already Voided; 0 = Not Voided"."""


def void_query(label_id: str, tracking_numbers: tuple[str, ...]) -> dict[str, str]:
    """Shipping.yaml ``trackingnumber``: one number, or several as ``["1Z...","1Z..."]``."""
    packages = [number for number in tracking_numbers if number != label_id]
    if not packages:
        return {}
    if len(tracking_numbers) == 1:
        return {"trackingnumber": tracking_numbers[0]}
    return {"trackingnumber": "[" + ",".join(f'"{n}"' for n in tracking_numbers) + "]"}


def parse_void_response(payload: object) -> VoidResult:
    answer = parse(VoidEnvelopeModel, payload, "UPS void").VoidShipmentResponse
    summary = answer.SummaryResult.Status
    left = [p.TrackingNumber for p in answer.PackageLevelResults if p.Status.Code != VOIDED]
    if summary.Code == VOIDED and not left:
        return VoidResult(voided=True, message=summary.Description or "Voided")
    detail = f"; not voided: {', '.join(left)}" if left else ""
    return VoidResult(voided=False, message=f"{summary.Description or 'Not voided'}{detail}")


def _money(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")), "f")

"""Pure mapping between the hub's carrier messages and USPS's JSON (no I/O here): shared
address and parcel checks, payment authorization, rates and voids. Labels are in
:mod:`.labels`, tracking in :mod:`.tracking`.

Request shapes:
- Domestic Prices 3.4.30 ``POST /prices/v3/total-rates/search``, body ``TotalRatesQuery``
  (``RateListQuery``: ZIP Codes, weight in pounds, length/width/height in inches, the mail
  classes, ``priceType``, ``mailingDate`` and the payment account for contract rates), one
  request per parcel; no ``extraServices``, so ``totalBasePrice`` (rate, fees and pound
  postage) is the price, matching a label bought without extra services;
- Payments 3.1.20 ``POST /payments/v3/payment-authorization``, body ``Parties`` with the
  ``PAYER`` and ``LABEL_OWNER`` roles (example ``MinimumPaymentAuthorizationRequest``);
- Labels 3.9.13 ``DELETE /labels/v3/label/{trackingNumber}``: ``CancelResponse`` (``CANCELED``
  or ``DISPUTED``) and ``ErrorMessage`` examples ``ExampleCancelError_*``.
Response shapes: :mod:`plugins.carriers.usps.schemas`. Specs: developers.usps.com, as vendored
in karrioapi/karrio ``modules/connectors/usps/vendor`` (captured 2026-06-23).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hub.domain.address import Address
from hub.domain.messages import Quote, RateRequest, VoidResult
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat, Parcel
from hub.errors import PermanentError
from plugins.carriers.usps import units
from plugins.carriers.usps.schemas import (
    CancelAnswer,
    ErrorMessage,
    RateDetails,
    RateOption,
    TotalRatesResult,
)
from plugins.carriers.usps.services import (
    DOMESTIC_TERRITORIES,
    OWN_PACKAGING_CATEGORIES,
    OWN_PACKAGING_RATE_INDICATORS,
    SERVICE_NAMES,
)
from plugins.carriers.usps.settings import UspsSettings

CARRIER = "usps"
CURRENCY = "USD"

M = TypeVar("M", bound=BaseModel)

_ZIP = re.compile(r"^(\d{5})(?:[-\s]?(\d{4}))?$")
_STATE = re.compile(
    r"^(AA|AE|AL|AK|AP|AS|AZ|AR|CA|CO|CT|DE|DC|FM|FL|GA|GU|HI|ID|IL|IN|IA|KS|KY|LA|ME|MH|MD|MA"
    r"|MI|MN|MS|MO|MP|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PW|PA|PR|RI|SC|SD|TN|TX|UT|VT|VI|VA"
    r"|WA|WV|WI|WY)$"
)
"""Labels 3.0 ``State``."""


# --------------------------------------------------------------------------- common


def validated(model: type[M], payload: Any, what: str) -> M:
    """Validate a USPS answer; a shape that does not fit names the first offending field."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        raise PermanentError(f"{what}: unexpected USPS answer at {where}: {error['msg']}") from None


def error_message(payload: Any) -> str | None:
    """The USPS ``ErrorMessage`` in words: each error's detail and the parameter it names."""
    try:
        body = ErrorMessage.model_validate(payload).error
    except ValidationError:
        return None
    details = []
    for item in body.errors:
        text = item.detail or item.title or ""
        parameter = (item.source or {}).get("parameter")
        if parameter:
            text = f"{text} ({parameter})" if text else str(parameter)
        if item.code:
            text = f"{text} [code {item.code}]"
        if text:
            details.append(text)
    return "; ".join(details) or body.message or body.code


def check_domestic(address: Address, field: str) -> str:
    """The USPS state code for a domestic address; anything else is not this adapter's job."""
    if address.country in DOMESTIC_TERRITORIES:
        return DOMESTIC_TERRITORIES[address.country]
    if address.country != "US":
        raise PermanentError(
            f"{field}.country: USPS domestic services ship within the United States and its "
            f"territories only; {address.country} is international"
        )
    state = (address.region or "").strip().upper()
    if not _STATE.fullmatch(state):
        raise PermanentError(f"{field}.region: a two-letter US state code is required")
    return state


def zip_code(address: Address, field: str) -> tuple[str, str | None]:
    match = _ZIP.fullmatch((address.postal_code or "").strip())
    if match is None:
        raise PermanentError(
            f"{field}.postal_code: a US ZIP Code (12345 or 12345-6789) is required"
        )
    return match.group(1), match.group(2)


def package_size(parcel: Parcel, field: str) -> units.PackageSize:
    size = units.package_size(parcel)
    if size.ounces > units.MAX_OUNCES:
        raise PermanentError(f"{field}.weight_grams: USPS takes parcels of up to 70 lb")
    return size


def json_number(value: Decimal) -> float:
    """A JSON number for a value already rounded to hundredths or sixteenths of a unit: the
    float prints as the same decimal, so USPS receives exactly the rounded value."""
    return float(value)


# --------------------------------------------------------------------------- payments


def payment_authorization_body(settings: UspsSettings) -> dict[str, Any]:
    owner = {
        "CRID": settings.crid,
        "MID": settings.mid,
        "manifestMID": settings.manifest_mid or settings.mid,
    }
    if settings.account_type == "EPS":
        account = {"accountType": "EPS", "accountNumber": settings.account_number}
    else:
        account = {
            "accountType": "PERMIT",
            "permitNumber": settings.permit_number,
            "permitZIP": settings.permit_zip,
        }
    return {
        "roles": [
            {"roleName": "PAYER", **owner, **account},
            {"roleName": "LABEL_OWNER", **owner},
        ]
    }


# --------------------------------------------------------------------------- rates


def rate_bodies(request: RateRequest, settings: UspsSettings) -> list[dict[str, Any]]:
    """One ``TotalRatesQuery`` per parcel (USPS prices one package at a time)."""
    check_domestic(request.ship_from, "ship_from")
    check_domestic(request.ship_to, "ship_to")
    origin, _ = zip_code(request.ship_from, "ship_from")
    destination, _ = zip_code(request.ship_to, "ship_to")
    bodies = []
    for index, parcel in enumerate(request.parcels):
        size = package_size(parcel, f"parcels.{index}")
        body: dict[str, Any] = {
            "originZIPCode": origin,
            "destinationZIPCode": destination,
            "weight": json_number(size.pounds),
            "length": json_number(size.length),
            "width": json_number(size.width),
            "height": json_number(size.height),
            "mailClasses": list(settings.mail_classes),
            "priceType": settings.price_type,
            "mailingDate": request.ship_date.date().isoformat(),
        }
        if settings.pricing_account_number:
            body["accountType"] = settings.account_type
            body["accountNumber"] = settings.pricing_account_number
        bodies.append(body)
    return bodies


@dataclass(frozen=True)
class _Priced:
    price: Decimal
    billable_grams: int
    name: str


def _own_packaging(option: RateOption, mail_classes: frozenset[str]) -> bool:
    """A priced option for a box of the shipper's own, entered at origin, in one wanted class."""

    def fits(rate: RateDetails) -> bool:
        return (
            rate.mailClass in mail_classes
            and (rate.rateIndicator or "SP") in OWN_PACKAGING_RATE_INDICATORS
            and (rate.destinationEntryFacilityType or "NONE") == "NONE"
            and (rate.processingCategory or "MACHINABLE") in OWN_PACKAGING_CATEGORIES
        )

    return bool(option.rates) and all(map(fits, option.rates))


def _priced_per_class(
    result: TotalRatesResult, parcel: Parcel, mail_classes: frozenset[str]
) -> dict[str, _Priced]:
    """Per mail class, the option that applies to this parcel. Should USPS list more than one
    own-packaging option for a class, the dearest is taken: a quote must not undercut the
    label USPS will price from the same dimensions."""
    chosen: dict[str, _Priced] = {}
    for option in result.rateOptions:
        price = option.totalBasePrice
        if price is None or not _own_packaging(option, mail_classes):
            continue
        first = option.rates[0]
        mail_class = str(first.mailClass)
        pounds = max(
            (max(r.weight or Decimal(0), r.dimWeight or Decimal(0)) for r in option.rates),
            default=Decimal(0),
        )
        priced = _Priced(
            price=price,
            billable_grams=max(parcel.weight_grams, units.grams(pounds)),
            name=(first.productName or "").strip() or SERVICE_NAMES[mail_class],
        )
        if mail_class not in chosen or priced.price > chosen[mail_class].price:
            chosen[mail_class] = priced
    return chosen


def quotes(
    request: RateRequest,
    answers: list[Any],
    settings: UspsSettings,
    label_formats: tuple[LabelFormat, ...],
) -> list[Quote]:
    """One quote per mail class USPS priced for every parcel, prices summed over parcels, each
    labelled in `label_formats` (see `labels.label_formats`)."""
    wanted = frozenset(settings.mail_classes)
    per_parcel = [
        _priced_per_class(validated(TotalRatesResult, answer, "USPS rates"), parcel, wanted)
        for parcel, answer in zip(request.parcels, answers, strict=True)
    ]
    result = []
    for mail_class in settings.mail_classes:
        priced = [p[mail_class] for p in per_parcel if mail_class in p]
        if len(priced) != len(per_parcel):
            continue  # not offered for every parcel of the shipment
        result.append(
            Quote(
                carrier=CARRIER,
                service_code=mail_class,
                service_name=priced[0].name,
                price=Money(amount=sum((p.price for p in priced), Decimal(0)), currency=CURRENCY),
                estimated_delivery=None,  # Domestic Prices has no service standard
                billable_weight_grams=sum(p.billable_grams for p in priced),
                label_formats=label_formats,
            )
        )
    return result


# --------------------------------------------------------------------------- void


def void_result(tracking_number: str, payload: Any) -> VoidResult:
    answer = validated(CancelAnswer, payload, f"USPS cancel of {tracking_number}")
    status = (answer.status or "").upper()
    if status == "CANCELED":
        return VoidResult(voided=True, message=f"{tracking_number}: canceled")
    if status == "DISPUTED":
        dispute = f" (dispute {answer.disputeId})" if answer.disputeId else ""
        return VoidResult(
            voided=True,
            message=f"{tracking_number}: already manifested; refund requested{dispute}",
        )
    raise PermanentError(f"USPS cancel of {tracking_number}: unexpected status {answer.status!r}")


_ALREADY_REFUNDED = re.compile(r"already been submitted", re.IGNORECASE)


def void_refused(tracking_number: str, message: str) -> VoidResult:
    """USPS's 400 to a cancel. A refund already requested is a void already done (idempotent);
    anything else (unknown label, refund not allowed) is a void that did not happen."""
    if _ALREADY_REFUNDED.search(message):
        return VoidResult(voided=True, message=f"{tracking_number}: refund already requested")
    return VoidResult(voided=False, message=f"{tracking_number}: {message}")


def combine_voids(results: list[VoidResult]) -> VoidResult:
    return VoidResult(
        voided=all(r.voided for r in results), message="; ".join(r.message for r in results)
    )

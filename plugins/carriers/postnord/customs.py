"""Customs fields of the EDI instruction for a parcel crossing a customs border (pure).

Booking APIs 3.5.29.1: ``shipment[].customsDeclarationCN22`` (required ``detailedDescription``,
``totalValue``) or ``customsDeclarationCN23`` (also ``postalCharges``; ``commercialItems``
link HS codes to the description rows), with ``categoryOfItem.categoryType``,
``EORIorPersonalIdNumber``, ``voec`` (imports to Norway), ``ioss`` (imports to the EU),
``hmrc`` (exports to Great Britain), and ``shipment[].termsOfDelivery`` (Incoterms). The
booking then prints the declaration with the label (``definePrintout`` defaults to ALL).
CN22 is the declaration for goods worth up to 300 SDR (UPU); above ``cn22_max_value``, or in
a currency other than the price list's, a CN23 is made. PostNord's customs invoice (a third
branch, needing seller VAT number, invoice and net weights) is not used.
"""

from __future__ import annotations

from typing import Any

from hub.domain.customs import ContentsType, needs_customs
from hub.domain.messages import LabelRequest
from hub.domain.money import Money
from hub.errors import PermanentError
from plugins.carriers.postnord.mapping import amount, iso_utc, kilograms
from plugins.carriers.postnord.services import (
    CATEGORIES,
    INCOTERMS_CODE_LIST,
    MAX_CUSTOMS_LINES,
    TERMS_OF_DELIVERY,
)
from plugins.carriers.postnord.settings import PostnordSettings


def customs_fields(
    request: LabelRequest, price: Money, settings: PostnordSettings
) -> dict[str, Any]:
    """A CN22 (goods worth up to ``cn22_max_value``) or CN23 declaration and the terms of
    delivery, for a parcel crossing a customs border; nothing inside the EU customs union."""
    origin, destination = request.ship_from.country, request.ship_to.country
    if not needs_customs(origin, destination):
        return {}
    customs = request.customs
    if customs is None:
        raise PermanentError(
            f"customs: a parcel from {origin} to {destination} crosses a customs border and "
            "needs a declaration (HS codes, origin, value per item)"
        )
    if len(customs.items) > MAX_CUSTOMS_LINES:
        raise PermanentError(
            f"customs.items: PostNord takes at most {MAX_CUSTOMS_LINES} lines per declaration, "
            f"not {len(customs.items)}"
        )
    currency = customs.items[0].unit_value.currency  # one currency: Customs guarantees it
    lines = []
    for row, item in enumerate(customs.items, start=1):
        lines.append(
            {
                "rowNo": row,
                "content": item.description,
                "quantity": {"value": item.quantity},
                "grossWeight": {
                    "value": kilograms(item.unit_weight_grams * item.quantity),
                    "unit": "KGM",
                },
                "value": {"amount": amount(item.total_value.amount), "currency": currency},
                "hsTariffNumber": item.hs_code,
                "countryCode": item.origin_country,
            }
        )
    total = customs.total_value.amount
    grams = sum(item.unit_weight_grams * item.quantity for item in customs.items)
    declaration: dict[str, Any] = {
        "categoryOfItem": {"categoryType": [CATEGORIES[customs.contents]]},
        "detailedDescription": lines,
        "totalGrossWeight": {"value": kilograms(grams), "unit": "KGM"},
        "totalValue": {"amount": amount(total), "currency": currency},
    }
    declaration |= _registrations(destination, settings)
    small = currency == settings.currency and total <= settings.cn22_max_value
    if small:
        kind = "customsDeclarationCN22"
    else:
        kind = "customsDeclarationCN23"
        declaration |= {
            "postalCharges": {"amount": amount(price.amount), "currency": price.currency},
            "dateOfPosting": iso_utc(request.ship_date),
        }
        if customs.contents is ContentsType.MERCHANDISE:
            declaration["commercialItems"] = [
                {
                    "hsTariffNumber": line["hsTariffNumber"],
                    "countryCode": line["countryCode"],
                    "detailedDescRowNo": line["rowNo"],
                }
                for line in lines
            ]
    return {
        kind: declaration,
        "termsOfDelivery": {
            "todConditionCode": TERMS_OF_DELIVERY[customs.incoterm],
            "todConditionCodeList": INCOTERMS_CODE_LIST,
        },
    }


def _registrations(destination: str, settings: PostnordSettings) -> dict[str, str]:
    fields: dict[str, str] = {}
    if settings.eori_number:
        fields["EORIorPersonalIdNumber"] = settings.eori_number
    if destination == "NO" and settings.voec_number:
        fields["voec"] = settings.voec_number
    if destination == "GB" and settings.hmrc_number:
        fields["hmrc"] = settings.hmrc_number
    if destination not in ("NO", "GB") and settings.ioss_number:
        fields["ioss"] = settings.ioss_number
    return fields

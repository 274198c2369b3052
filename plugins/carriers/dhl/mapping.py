"""Pure mapping from the hub's carrier messages to Parcel DE Shipping request JSON (no I/O).

Request shapes follow the Parcel DE Shipping API v2 OpenAPI 2.1.13
(developer.dhl.com/api-reference/parcel-de-shipping-post-parcel-germany-v2, as vendored in
karrioapi/karrio ``modules/connectors/dhl_parcel_de/vendors/parcel-de-shipping-v2_2.yaml``):
``ShipmentOrderRequest`` {``profile``, ``shipments[]``} for ``POST /orders`` (and its dry run
``?validate=true``), each ``Shipment`` with ``product``, ``billingNumber``, ``refNo``,
``shipDate``, ``shipper`` (``Shipper`` or ``ShipperReference``), ``consignee``
(``ContactAddress``), ``details`` (``weight`` in g, ``dim`` in mm), ``services`` (``VAS``:
``goGreenPlus``, ``postalDeliveryDutyPaid``) and ``customs`` (``CustomsDetails`` with
``Commodity`` items; countries ISO 3166-1 alpha-3). Field limits are the spec's; a value that
does not fit is refused here, naming the hub's field, before DHL is asked.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pycountry

from hub.domain.address import Address, Contact
from hub.domain.customs import ContentsType, Customs, Incoterm, needs_customs
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat, Parcel
from hub.errors import PermanentError
from plugins.carriers.dhl.products import ORIGIN_COUNTRY, PRODUCTS, Product, ProductCode
from plugins.carriers.dhl.settings import DhlSettings

GOGREEN_PLUS = "gogreen_plus"
"""The eco option this adapter offers (``services.goGreenPlus``)."""
MAX_SHIPMENTS = 30
"""``ShipmentOrderRequest.shipments`` maxItems."""
MAX_WEIGHT_GRAMS = 31500
MAX_CUSTOMS_ITEMS = 99
REF_MIN, REF_MAX = 8, 35
"""``Shipment.refNo`` length; from 8 characters it is usable for tracking by reference."""

_POSTAL_CODE = re.compile(r"^[0-9A-Za-z]+([ -]?[0-9A-Za-z]+)*$")
EXPORT_TYPES: dict[ContentsType, str] = {
    ContentsType.MERCHANDISE: "COMMERCIAL_GOODS",
    ContentsType.GIFT: "PRESENT",
    ContentsType.DOCUMENTS: "DOCUMENT",
    ContentsType.SAMPLE: "COMMERCIAL_SAMPLE",
    ContentsType.RETURNED_GOODS: "RETURN_OF_GOODS",
}
DOC_FORMATS = {LabelFormat.PDF: "PDF", LabelFormat.ZPL: "ZPL2"}


# --------------------------------------------------------------------------- values


def number(value: Decimal) -> int | float:
    """A JSON number for a money value (already in cents): the float prints as the decimal."""
    return int(value) if value == value.to_integral_value() else float(value)


def check_origin(address: Address, field: str) -> None:
    if address.country != ORIGIN_COUNTRY:
        raise PermanentError(
            f"{field}.country: DHL Parcel DE ships from Germany, not {address.country}"
        )


def label_formats(parcel_count: int, settings: DhlSettings) -> tuple[LabelFormat, ...]:
    """What a label for `parcel_count` parcels can be bought in, quoted so the hub never asks
    for one that fails: each parcel is its own DHL shipment with its own document, and only ZPL
    documents join into the one the hub keeps per shipment."""
    formats = (settings.label_format,) if settings.label_format else tuple(DOC_FORMATS)
    if parcel_count > 1:
        formats = tuple(f for f in formats if f is LabelFormat.ZPL)
    return formats


def check_printable(parcel_count: int, label_format: LabelFormat, settings: DhlSettings) -> None:
    """Refuse, before anything is bought, a label in a format `label_formats` does not offer."""
    if label_format not in DOC_FORMATS:
        raise PermanentError(
            f"label_format: DHL Parcel DE prints PDF or ZPL2 labels, not {label_format.value}"
        )
    if label_format not in label_formats(parcel_count, settings):
        raise PermanentError(
            f"parcels: DHL makes one label per parcel and {label_format.value} labels cannot "
            f"be joined into one document; ask for ZPL or ship the {parcel_count} "
            "parcels as separate shipments"
        )


def check_declarable(origin: str, destination: str, parcel_count: int) -> None:
    """Refuse (at quote time as at label time) what the customs declaration cannot cover."""
    if parcel_count > 1 and needs_customs(origin, destination):
        raise PermanentError(
            "parcels: each parcel is its own DHL shipment with its own customs "
            "declaration, and the hub's declaration is not split by parcel; ship the "
            f"{parcel_count} parcels as separate shipments"
        )


def iso3(country: str, field: str) -> str:
    found = pycountry.countries.get(alpha_2=country)
    if found is None:
        raise PermanentError(f"{field}: {country!r} is not an ISO 3166-1 alpha-2 country code")
    return str(found.alpha_3)


def ship_date(requested: datetime, zone: ZoneInfo, today: date) -> date:
    """``shipDate`` "must not be in the past": German calendar day, today at the earliest."""
    day = requested.astimezone(zone).date() if requested.tzinfo else requested.date()
    return max(day, today)


def ref_no(key: str, index: int, count: int) -> str:
    """The hub's idempotency key as ``refNo`` (8 to 35 characters), one per parcel when a
    shipment has several; a key that does not fit is replaced by a stable hash of it."""
    suffix = f"-{index + 1}" if count > 1 else ""
    room = REF_MAX - len(suffix)
    if REF_MIN <= len(key) <= room and key.isprintable():
        return key + suffix
    digest = hashlib.sha256(key.encode()).hexdigest()
    return "hub-" + digest[: room - 4] + suffix


def _fit(value: str | None, limit: int, field: str, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise PermanentError(f"{field}: DHL takes at most {limit} characters for {what}")
    return value


def _put(body: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        body[key] = value


# --------------------------------------------------------------------------- parties


def _names(address: Address, field: str) -> dict[str, str]:
    company = _fit(address.company, 50, f"{field}.company", "name1")
    name = _fit(address.name, 50, f"{field}.name", "a name line")
    if company:
        names = {"name1": company}
        if name and name != company:
            names["name2"] = name
        return names
    if not name:
        raise PermanentError(f"{field}.name: DHL needs a name or a company (name1)")
    return {"name1": name}


def _postal_code(address: Address, field: str) -> str | None:
    code = (address.postal_code or "").strip()
    if not code:
        return None  # "Mandatory for all countries but Ireland that use a postal code system"
    if not (3 <= len(code) <= 10 and _POSTAL_CODE.fullmatch(code)):
        raise PermanentError(f"{field}.postal_code: not a postal code DHL accepts")
    return code


def _street_and_city(address: Address, field: str) -> dict[str, str]:
    street = _fit(address.line1, 50, f"{field}.line1", "addressStreet")
    city = _fit(address.city, 40, f"{field}.city", "city")
    if not street:
        raise PermanentError(f"{field}.line1: DHL needs a street (addressStreet)")
    if not city:
        raise PermanentError(f"{field}.city: DHL needs a city")
    return {"addressStreet": street, "city": city}


def shipper(address: Address, settings: DhlSettings, field: str = "ship_from") -> dict[str, Any]:
    """``Shipper``, or the ``ShipperReference`` stored in the customer portal."""
    if settings.shipper_ref:
        return {"shipperRef": settings.shipper_ref}
    body: dict[str, Any] = {**_names(address, field), **_street_and_city(address, field)}
    # Shipper has no additional address line: the warehouse's second line goes on name3.
    _put(body, "name3", _fit(address.line2, 50, f"{field}.line2", "name3"))
    _put(body, "postalCode", _postal_code(address, field))
    body["country"] = iso3(address.country, f"{field}.country")
    return body


def consignee(
    address: Address,
    contact: Contact | None,
    settings: DhlSettings,
    field: str = "ship_to",
) -> dict[str, Any]:
    """``ContactAddress``: a doorstep address (lockers and post offices are not modelled)."""
    body: dict[str, Any] = {**_names(address, field), **_street_and_city(address, field)}
    _put(
        body,
        "additionalAddressInformation1",
        _fit(address.line2, 60, f"{field}.line2", "additionalAddressInformation1"),
    )
    _put(body, "postalCode", _postal_code(address, field))
    region = (address.region or "").strip()
    if region:
        # "For the USA please use the official regional ISO-Codes, e.g. US-AL."
        if address.country == "US" and len(region) == 2:
            region = f"US-{region.upper()}"
        body["state"] = _fit(region, 20, f"{field}.region", "state")
    body["country"] = iso3(address.country, f"{field}.country")
    if contact is not None and settings.share_recipient_contact:
        email = (contact.email or "").strip()
        if 3 <= len(email) <= 80:
            body["email"] = email
        phone = (contact.phone or "").strip()
        # "For shipments within Germany, the phone number cannot be transmitted."
        if address.country != "DE" and 1 <= len(phone) <= 20:
            body["phone"] = phone
    return body


# --------------------------------------------------------------------------- parcels


def details(parcel: Parcel, field: str) -> dict[str, Any]:
    if parcel.weight_grams > MAX_WEIGHT_GRAMS:
        raise PermanentError(f"{field}.weight_grams: DHL Parcel DE takes up to 31.5 kg")
    dims = parcel.dimensions
    return {
        "weight": {"uom": "g", "value": parcel.weight_grams},
        # Millimetres are allowed ("rounded to full cm" by DHL).
        "dim": {
            "uom": "mm",
            "length": dims.length_mm,
            "width": dims.width_mm,
            "height": dims.height_mm,
        },
    }


# --------------------------------------------------------------------------- customs


def _value(money: Money) -> dict[str, Any]:
    return {"currency": money.currency, "value": number(money.amount)}


def customs_section(
    customs: Customs, product: ProductCode, settings: DhlSettings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``CustomsDetails`` and the services the Incoterm calls for."""
    if len(customs.items) > MAX_CUSTOMS_ITEMS:
        raise PermanentError(f"customs.items: DHL takes at most {MAX_CUSTOMS_ITEMS} items")
    if customs.incoterm not in (Incoterm.DAP, Incoterm.DDP):
        raise PermanentError(
            f"customs.incoterm: DHL Parcel DE ships DAP or DDP, not {customs.incoterm.value}"
        )
    currency = customs.items[0].unit_value.currency  # one currency: Customs guarantees it
    section: dict[str, Any] = {
        "exportType": EXPORT_TYPES[customs.contents],
        # What the buyer paid for shipping (Customs guarantees one currency); none: 0.
        "postalCharges": _value(customs.shipping_charges)
        if customs.shipping_charges
        else {"currency": currency, "value": 0},
        "items": [
            {
                "itemDescription": item.description,
                "packagedQuantity": item.quantity,
                "hsCode": item.hs_code,
                "countryOfOrigin": iso3(item.origin_country, f"customs.items.{i}.origin_country"),
                "itemValue": _value(item.unit_value),
                "itemWeight": {"uom": "g", "value": item.unit_weight_grams},
            }
            for i, item in enumerate(customs.items)
        ],
    }
    _put(
        section,
        "invoiceNo",
        _fit(customs.invoice_number, 35, "customs.invoice_number", "invoiceNo"),
    )
    _put(section, "shipperCustomsRef", settings.eori)
    services: dict[str, Any] = {}
    if product == "V54EPAK":
        # "exclusively used for the product Europaket (V54EPAK)"
        section["shippingConditions"] = customs.incoterm.value
    elif customs.incoterm is Incoterm.DDP:
        services["postalDeliveryDutyPaid"] = True  # "All import duties are paid by the shipper."
    return section, services


def quote_customs(parcel: Parcel, value: Money, settings: DhlSettings) -> dict[str, Any]:
    """A one-line declaration for a quote's dry run, before the real one exists."""
    return {
        "exportType": EXPORT_TYPES[ContentsType.MERCHANDISE],
        "postalCharges": {"currency": value.currency, "value": 0},
        "items": [
            {
                "itemDescription": settings.quote_goods_description,
                "packagedQuantity": 1,
                "itemValue": _value(value),
                "itemWeight": {"uom": "g", "value": parcel.weight_grams},
            }
        ],
    }


# --------------------------------------------------------------------------- shipments


def product_of(code: str, field: str = "service_code") -> Product:
    product = PRODUCTS.get(code)
    if product is None:
        known = ", ".join(sorted(PRODUCTS))
        raise PermanentError(f"{field}: {code!r} is not a DHL Parcel DE product ({known})")
    return product


def shipment_body(
    *,
    product: Product,
    parcel: Parcel,
    parcel_field: str,
    ship_from: Address,
    ship_to: Address,
    contact: Contact | None,
    settings: DhlSettings,
    day: str,
    ref: str | None = None,
    customs: dict[str, Any] | None = None,
    services: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product": product.code,
        "billingNumber": settings.billing_number(product.code, product.procedure),
    }
    _put(body, "refNo", ref)
    body["shipDate"] = day
    body["shipper"] = shipper(ship_from, settings)
    body["consignee"] = consignee(ship_to, contact, settings)
    body["details"] = details(parcel, parcel_field)
    if services:
        body["services"] = services
    _put(body, "customs", customs)
    return body


def order_body(shipments: list[dict[str, Any]], settings: DhlSettings) -> dict[str, Any]:
    if not 1 <= len(shipments) <= MAX_SHIPMENTS:
        raise PermanentError(
            f"parcels: DHL books 1 to {MAX_SHIPMENTS} shipments per call, not {len(shipments)}"
        )
    return {"profile": settings.profile, "shipments": shipments}


def order_params(label_format: LabelFormat, settings: DhlSettings) -> dict[str, str]:
    """Query of ``POST /orders``: labels included in the answer, in the wanted format."""
    params = {
        "docFormat": DOC_FORMATS[label_format],
        "includeDocs": "include",
        "mustEncode": "true" if settings.must_encode else "false",
    }
    _put(params, "printFormat", settings.print_format)
    return params


def eco_services(eco_option: str | None, field: str = "eco_option") -> dict[str, Any]:
    if eco_option is None:
        return {}
    if eco_option != GOGREEN_PLUS:
        raise PermanentError(f"{field}: DHL Parcel DE offers {GOGREEN_PLUS!r}, not {eco_option!r}")
    return {"goGreenPlus": True}

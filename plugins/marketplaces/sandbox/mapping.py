"""The sandbox channel's order JSON -> the hub's ``Order``. Pure: no I/O, no clock, and it never
raises: anything it cannot map comes back as a ``MappingProblem`` naming the channel's field.

Only structure is judged here. An undeliverable address (a short postal code, no street) still
maps: the order workflow holds it for a person to fix, which is what a real channel needs too.
Problem messages never quote the customer's values, because they end up in ops logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from hub.domain.messages import MappingProblem
from hub.domain.order import Order
from hub.domain.status import PaymentStatus

PAYMENT_STATUSES: Mapping[str, PaymentStatus] = {
    "paid": PaymentStatus.PAID,
    "authorized": PaymentStatus.AUTHORIZED,
    "pending": PaymentStatus.PENDING,
    "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.VOIDED,
}
SERVICE_LEVELS = ("standard", "express", "economy")
MINIMAL_PACKAGING_TAG = "minimal-packaging"
"""Customers opt in to minimal packaging at checkout; the shop records it as this tag."""
_MAX_ID = 2**63 - 1

# Order field -> channel field, so a pydantic error names what the channel sent.
_ORDER_FIELDS = {
    "external_id": "id",
    "placed_at": "created_at",
    "lines": "line_items",
    "payment_status": "financial_status",
    "service_level": "shipping_lines",
    "shipping_paid": "shipping_lines",
    "is_gift": "gift",
    "minimal_packaging": "tags",
}
_LINE_FIELDS = {"line_id": "id", "unit_price": "price", "weight_grams": "grams"}
_ADDRESS_FIELDS = {
    "name": "first_name",
    "line1": "address1",
    "line2": "address2",
    "region": "province_code",
    "postal_code": "zip",
    "country": "country_code",
}
_CONTACT_FIELDS = {"name": "shipping_address.first_name", "email": "email", "phone": "phone"}


class _Unmappable(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def map_order(payload: object, *, marketplace: str, account: str) -> Order | MappingProblem:
    try:
        fields = _order_fields(payload)
    except _Unmappable as exc:
        return MappingProblem(field=exc.field, message=exc.message)
    try:
        return Order.model_validate({"marketplace": marketplace, "account": account, **fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        return MappingProblem(field=_channel_field(first["loc"]), message=first["msg"])


def external_id_of(payload: object) -> str | None:
    """The order's id as the hub keys it, or None if the payload has no usable one."""
    if not isinstance(payload, Mapping):
        return None
    try:
        return _identifier(payload.get("id"), "id")
    except _Unmappable:
        return None


# --------------------------------------------------------------------------- extraction


def _order_fields(payload: object) -> dict[str, Any]:
    body = _object(payload, "order")
    currency = _required_text(body, "currency", "currency")
    items = body.get("line_items")
    if items is None:
        raise _Unmappable("line_items", "missing")
    if not isinstance(items, list):
        raise _Unmappable("line_items", "must be a list")
    if not items:
        raise _Unmappable("line_items", "an order needs at least one line item")
    address = _object(body.get("shipping_address"), "shipping_address")
    service_level, shipping_paid = _shipping(body.get("shipping_lines"), currency)
    tags = _tags(body.get("tags"))
    name = _joined_name(address)
    return {
        "external_id": _identifier(body.get("id"), "id"),
        "placed_at": _timestamp(body.get("created_at"), "created_at", required=True),
        "currency": currency,
        "lines": [_line(item, f"line_items.{i}", currency) for i, item in enumerate(items)],
        "customer": {
            "name": name,
            "email": _text(body, "email", "email"),
            "phone": _text(address, "phone", "shipping_address.phone")
            or _text(body, "phone", "phone"),
        },
        "shipping_address": _address(address, name),
        "payment_status": _payment_status(body.get("financial_status")),
        "service_level": service_level,
        "shipping_paid": shipping_paid,
        "ship_by": _timestamp(body.get("ship_by"), "ship_by"),
        "deliver_by": _timestamp(body.get("deliver_by"), "deliver_by"),
        "is_gift": _flag(body.get("gift"), "gift"),
        "gift_message": _text(body, "gift_message", "gift_message"),
        "minimal_packaging": MINIMAL_PACKAGING_TAG in tags,
        "tags": tags,
    }


def _line(value: object, field: str, currency: str) -> dict[str, Any]:
    item = _object(value, field)
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise _Unmappable(f"{field}.quantity", "must be a whole number")
    if quantity <= 0:
        raise _Unmappable(f"{field}.quantity", "must be at least 1")
    grams = item.get("grams")
    if grams is not None and (isinstance(grams, bool) or not isinstance(grams, int) or grams < 0):
        raise _Unmappable(f"{field}.grams", "must be a whole number of grams, 0 or more")
    sku = _required_text(item, "sku", f"{field}.sku")
    return {
        "line_id": _identifier(item.get("id"), f"{field}.id"),
        "sku": sku,
        "quantity": quantity,
        "unit_price": {"amount": _price(item.get("price"), f"{field}.price"), "currency": currency},
        "title": _text(item, "title", f"{field}.title") or "",
        "weight_grams": grams,
    }


def _address(address: Mapping[str, Any], name: str) -> dict[str, Any]:
    def text(key: str) -> str | None:
        return _text(address, key, f"shipping_address.{key}")

    country = _required_text(address, "country_code", "shipping_address.country_code")
    # A missing street or city is the customer's mistake, not the channel's: map it empty and
    # let the workflow hold the order for a fix.
    return {
        "name": name,
        "company": text("company"),
        "line1": text("address1") or "",
        "line2": text("address2"),
        "city": text("city") or "",
        "region": text("province_code"),
        "postal_code": text("zip"),
        "country": country,
    }


def _joined_name(address: Mapping[str, Any]) -> str:
    parts = [
        _text(address, "first_name", "shipping_address.first_name"),
        _text(address, "last_name", "shipping_address.last_name"),
    ]
    return " ".join(part.strip() for part in parts if part and part.strip())


def _shipping(value: object, currency: str) -> tuple[str, dict[str, Any] | None]:
    """Service level from the first shipping line; what the customer paid for all of them."""
    if value is None or value == []:
        return "standard", None  # the channel's default service
    if not isinstance(value, list):
        raise _Unmappable("shipping_lines", "must be a list")
    total: Decimal | None = None
    lines = [_object(raw, f"shipping_lines.{i}") for i, raw in enumerate(value)]
    level = _required_text(lines[0], "code", "shipping_lines.0.code")
    if level not in SERVICE_LEVELS:
        known = ", ".join(SERVICE_LEVELS)
        raise _Unmappable("shipping_lines.0.code", f"unknown service level (known: {known})")
    for i, line in enumerate(lines):
        if line.get("price") is not None:
            price = _price(line["price"], f"shipping_lines.{i}.price")
            total = price if total is None else total + price
    paid = None if total is None else {"amount": total, "currency": currency}
    return level, paid


def _payment_status(value: object) -> PaymentStatus:
    if value is None:
        raise _Unmappable("financial_status", "missing")
    status = PAYMENT_STATUSES.get(value) if isinstance(value, str) else None
    if status is None:
        known = ", ".join(PAYMENT_STATUSES)
        raise _Unmappable("financial_status", f"unknown financial status (known: {known})")
    return status


def _tags(value: object) -> tuple[str, ...]:
    """Shopify writes tags as one comma-separated string; a list of strings is taken too."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise _Unmappable("tags", "must be a comma-separated string")
    return tuple(tag.strip() for tag in value if tag.strip())


# --------------------------------------------------------------------------- scalars


def _object(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        raise _Unmappable(field, "missing")
    if not isinstance(value, Mapping):
        raise _Unmappable(field, "must be an object")
    return value


def _text(obj: Mapping[str, Any], key: str, field: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _Unmappable(field, "must be a string")
    return value


def _required_text(obj: Mapping[str, Any], key: str, field: str) -> str:
    value = _text(obj, key, field)
    if not value:
        raise _Unmappable(field, "missing")
    return value


def _identifier(value: object, field: str) -> str:
    """Channel ids are positive integers; string ids are taken as they are."""
    if isinstance(value, bool):
        raise _Unmappable(field, "must be an integer or a string")
    if isinstance(value, int):
        if not 0 < value <= _MAX_ID:
            raise _Unmappable(field, "out of range")
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise _Unmappable(field, "missing" if value is None or value == "" else "must be an id")


def _price(value: object, field: str) -> Decimal:
    """Prices travel as decimal strings, never as binary floats."""
    if not isinstance(value, str):
        raise _Unmappable(field, "missing" if value is None else "must be a decimal string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _Unmappable(field, "not a number") from None
    if not amount.is_finite():
        raise _Unmappable(field, "not a number")
    if amount < 0:
        raise _Unmappable(field, "must not be negative")
    return amount


def _timestamp(value: object, field: str, *, required: bool = False) -> datetime | None:
    if value is None:
        if required:
            raise _Unmappable(field, "missing")
        return None
    if not isinstance(value, str):
        raise _Unmappable(field, "must be an ISO-8601 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Unmappable(field, "not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise _Unmappable(field, "has no UTC offset")
    return moment


def _flag(value: object, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _Unmappable(field, "must be true or false")
    return value


def _channel_field(loc: tuple[int | str, ...]) -> str:
    """Translate a pydantic error location on Order into the channel's field path."""
    if not loc:
        return "order"
    head, *rest = loc
    if head == "lines" and rest:
        index, *inner = rest
        names = [_LINE_FIELDS.get(str(part), str(part)) for part in inner[:1]]
        return ".".join(["line_items", str(index), *names])
    if head == "shipping_address" and rest:
        return f"shipping_address.{_ADDRESS_FIELDS.get(str(rest[0]), str(rest[0]))}"
    if head == "customer" and rest:
        return _CONTACT_FIELDS.get(str(rest[0]), str(rest[0]))
    return _ORDER_FIELDS.get(str(head), str(head))

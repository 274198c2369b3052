"""Pure mapping of a WooCommerce order (REST API v3 JSON, the same in webhooks) to ``Order``.

Reference: WooCommerce REST API docs, wp-api-v3 "Orders" (woocommerce.github.io/
woocommerce-rest-api-docs/#order-properties; repository woocommerce/woocommerce-rest-api-docs,
``source/includes/wp-api-v3/_orders.md``). Rules taken from WooCommerce's own code
(github.com/woocommerce/woocommerce, ``plugins/woocommerce/includes``):

- An order needs shipping when it has a shipping line whose method is not a pickup method
  (``WC_Order::needs_shipping_address``, which hides ``local_pickup``); virtual-only orders have
  no shipping line. Such orders map to ``None``: nothing to ship.
- The ship-to address is ``shipping`` when it has a street, else ``billing``
  (``WC_Order::has_shipping_address``).
- A line's ``total`` is after discounts and before tax (REST v2 controller
  ``get_order_item_data``: ``price = total / quantity``): the unit price is ``total / quantity``.
- A backordered line carries the meta ``Backordered`` (``wc_maybe_reduce_stock_levels``).

A payload that cannot become an Order raises ``MappingError`` naming the WooCommerce field.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from hub.domain.address import Address, Contact
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.status import PaymentStatus
from hub.mapping import MappingError
from hub.mapping import build_model as _build
from hub.mapping import parse_shape as _parse
from hub.mapping import required as _required
from plugins.marketplaces.woocommerce.settings import StatusMeaning, WooCommerceSettings
from plugins.marketplaces.woocommerce.shapes import WcAddress, WcMeta, WcOrder

MARKETPLACE = "woocommerce"


def order_id(value: object) -> str | None:
    """WooCommerce's order id (a positive integer, as JSON number or digits); None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,19}", value.strip()):
        return value.strip()
    return None


def status_meaning(status: str, settings: WooCommerceSettings) -> StatusMeaning:
    meaning = settings.status_meaning(status)
    if meaning is None:
        raise MappingError(
            "status",
            f"unknown order status {status!r}: name its meaning in the plugin's 'statuses'",
        )
    return meaning


def order_from_wc(payload: Mapping[str, Any], settings: WooCommerceSettings) -> Order | None:
    """Map an order; None if it has nothing to ship (virtual goods, local pickup)."""
    raw = _parse(WcOrder, payload)
    meaning = status_meaning(raw.status, settings)
    if not needs_shipping(raw, settings):
        return None
    currency = _build(Money, "", {}, amount=Decimal(0), currency=raw.currency).currency
    lines = []
    for i, item in enumerate(raw.line_items):
        field = f"line_items[{i}]"
        if item.quantity < 0:
            raise MappingError(f"{field}.quantity", f"negative quantity {item.quantity}")
        if item.quantity == 0:
            continue  # removed by an edit
        if not item.sku or not item.sku.strip():
            raise MappingError(f"{field}.sku", "missing: the warehouse cannot pick without one")
        amount = unit_price(item.total, item.price, item.quantity, field)
        lines.append(
            _build(
                OrderLine,
                field,
                {"unit_price": "total"},
                line_id=_id(item.id, f"{field}.id"),
                sku=item.sku.strip(),
                quantity=item.quantity,
                unit_price=_money(amount, currency, f"{field}.total"),
                title=html.unescape(item.name or ""),
            )
        )
    if not lines:
        raise MappingError("line_items", "the order has no line to ship")
    where, address = ship_to(raw)
    recipient = _full_name(address) or _full_name(raw.billing)
    meta = raw.meta_data
    gift_message = _first_text(meta, settings.gift_message_meta_keys)
    backordered = any(
        _present(m.value)
        for item in raw.line_items
        for m in item.meta_data
        if m.key.strip().lower() in _lower(settings.backorder_meta_keys)
    )
    return _build(
        Order,
        "",
        {
            "external_id": "id",
            "placed_at": "date_created_gmt",
            "updated_at": "date_modified_gmt",
            "ship_by": settings.ship_by_meta_key or "ship_by",
            "deliver_by": settings.deliver_by_meta_key or "deliver_by",
            "shipping_paid": "shipping_total",
        },
        marketplace=MARKETPLACE,
        account=settings.account_name,
        external_id=_id(raw.id, "id"),
        placed_at=_required(raw.date_created_gmt, "date_created_gmt"),
        updated_at=raw.date_modified_gmt,
        currency=currency,
        lines=tuple(lines),
        customer=_build(
            Contact,
            "billing",
            {},
            # The buyer, reached by email; the phone is the recipient's when given, since
            # carriers call it about the delivery.
            name=_full_name(raw.billing) or recipient,
            email=(raw.billing.email or "").strip() or None,
            phone=(raw.shipping.phone or "").strip() or (raw.billing.phone or "").strip() or None,
        ),
        shipping_address=_build(
            Address,
            where,
            _ADDRESS_FIELDS,
            name=recipient,
            company=(address.company or "").strip() or None,
            line1=address.address_1 or "",
            line2=(address.address_2 or "").strip() or None,
            city=address.city or "",
            region=(address.state or "").strip() or None,
            postal_code=(address.postcode or "").strip() or None,
            country=_required(address.country, f"{where}.country"),
        ),
        payment_status=payment_status(meaning, raw),
        service_level=service_level(raw, settings),
        ship_by=_meta_date(meta, settings.ship_by_meta_key),
        deliver_by=_meta_date(meta, settings.deliver_by_meta_key),
        shipping_paid=_money(raw.shipping_total, currency, "shipping_total")
        if raw.shipping_total is not None
        else None,
        is_gift=gift_message is not None or _flagged(meta, settings.gift_flag_meta_keys),
        gift_message=gift_message,
        is_presale=meaning is StatusMeaning.PRESALE or _flagged(meta, settings.presale_meta_keys),
        minimal_packaging=_flagged(meta, settings.minimal_packaging_meta_keys),
        tags=("backordered",) if backordered else (),
    )


# --------------------------------------------------------------------------- rules


def needs_shipping(raw: WcOrder, settings: WooCommerceSettings) -> bool:
    pickup = _lower(settings.pickup_methods)
    return any((s.method_id or "").strip().lower() not in pickup for s in raw.shipping_lines)


def ship_to(raw: WcOrder) -> tuple[str, WcAddress]:
    """(field name, address): ``shipping`` if it has a street, else ``billing``."""
    shipping = raw.shipping
    if (shipping.address_1 or "").strip() or (shipping.address_2 or "").strip():
        return "shipping", shipping
    return "billing", raw.billing


def payment_status(meaning: StatusMeaning, raw: WcOrder) -> PaymentStatus:
    """From the status; a paid order with refunds is partly refunded (a full refund moves it to
    ``refunded``); a pre-order is paid if WooCommerce recorded a payment date."""
    paid = PaymentStatus.PARTIALLY_REFUNDED if raw.refunds else PaymentStatus.PAID
    if meaning is StatusMeaning.PAID:
        return paid
    if meaning is StatusMeaning.CANCELLED:
        return PaymentStatus.REFUNDED if raw.refunds else PaymentStatus.VOIDED
    if meaning is StatusMeaning.UNPAID:
        return PaymentStatus.PENDING
    return paid if raw.date_paid_gmt is not None else PaymentStatus.PENDING


_EXPRESS_WORDS = ("express", "overnight", "next day", "next-day", "priority", "expedited")
_ECONOMY_WORDS = ("economy", "saver", "budget", "untracked")


def service_level(raw: WcOrder, settings: WooCommerceSettings) -> str:
    """The shipping method as a service level: configured ids or titles first, then common
    words in rate names, else standard."""
    pickup = _lower(settings.pickup_methods)
    for line in raw.shipping_lines:
        method = (line.method_id or "").strip().lower()
        if method in pickup:
            continue
        title = (line.method_title or "").strip().lower()
        for key in (method, title):
            if key in settings.service_levels:
                return settings.service_levels[key]
        text = f"{method} {title}"
        if any(word in text for word in _EXPRESS_WORDS):
            return "express"
        if any(word in text for word in _ECONOMY_WORDS):
            return "economy"
        return "standard"
    return "standard"


def unit_price(total: Decimal | None, price: Decimal | None, quantity: int, field: str) -> Decimal:
    """``total / quantity`` in Decimal; 4 places when it does not divide evenly."""
    if total is None:
        if price is None:
            raise MappingError(f"{field}.total", "missing")
        return price
    try:
        unit = total / quantity
        return unit if unit * quantity == total else unit.quantize(Decimal("0.0001"))
    except ArithmeticError:  # decimal's InvalidOperation, Overflow: absurd amounts
        raise MappingError(f"{field}.total", f"not an amount ({total})") from None


# --------------------------------------------------------------------------- helpers

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_ADDRESS_FIELDS = {
    "name": "first_name",
    "line1": "address_1",
    "line2": "address_2",
    "region": "state",
    "postal_code": "postcode",
}
_TRUE = frozenset({"1", "yes", "true", "on"})
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _money(amount: Decimal, currency: str, field: str) -> Money:
    """Money in the order's (already checked) currency; an error names the amount's field."""
    return _build(Money, field, {"amount": ""}, amount=amount, currency=currency)


def _id(value: object, field: str) -> str:
    """An order or line item id (both positive integers), as text."""
    number = order_id(value)
    if number is None:
        raise MappingError(field, f"{value!r:.40} is not a WooCommerce id")
    return number


def _full_name(address: WcAddress) -> str:
    """First and last name; empty if neither (the hub's address check then holds the order)."""
    return " ".join(p.strip() for p in (address.first_name, address.last_name) if p and p.strip())


def _lower(keys: Iterable[str]) -> frozenset[str]:
    return frozenset(k.strip().lower() for k in keys)


def _values(meta: Sequence[WcMeta], keys: Iterable[str]) -> list[Any]:
    wanted = _lower(keys)
    return [m.value for m in meta if m.key.strip().lower() in wanted]


def _present(value: object) -> bool:
    return value not in (None, "", 0, "0", False, [], {})


def _flagged(meta: Sequence[WcMeta], keys: Iterable[str]) -> bool:
    return any(
        value is True or (not isinstance(value, bool) and str(value).strip().lower() in _TRUE)
        for value in _values(meta, keys)
    )


def _first_text(meta: Sequence[WcMeta], keys: Iterable[str]) -> str | None:
    for value in _values(meta, keys):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _meta_date(meta: Sequence[WcMeta], key: str | None) -> datetime | None:
    """A date a plugin stored in order meta: a Unix timestamp, ``YYYY-MM-DD`` (by the end of
    that day) or an ISO 8601 date-time; naive values are read as UTC."""
    if not key:
        return None
    values = [v for v in _values(meta, (key,)) if _present(v)]
    if not values:
        return None
    value = values[0]
    text = str(value).strip()
    try:
        if isinstance(value, int | Decimal) or text.isdigit():
            return datetime.fromtimestamp(int(Decimal(text)), UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), UTC)
        when = _DATETIME.validate_python(text)
    except (ValueError, OSError, ArithmeticError, ValidationError):
        raise MappingError(key, f"not a date ({text[:40]!r})") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when

"""Pure mapping of Shopify orders to the hub's ``Order``, one function per shape.

- ``order_from_rest``: the REST-shaped order JSON that order webhooks carry (Admin REST ``Order``
  resource, 2025-10; sample payloads per topic at shopify.dev/docs/api/webhooks/2025-10, topic
  ``orders/create``).
- ``order_from_graphql``: an ``Order`` node of the GraphQL Admin API, selected by
  ``queries.ORDER_FRAGMENT`` (shopify.dev/docs/api/admin-graphql/2025-10/objects/Order).

Both produce the same ``Order`` for the same order, so a webhook and a poll never disagree:
shop-currency prices (``price_set.shop_money`` / ``originalUnitPriceSet.shopMoney``), numeric ids
(the GraphQL GID's last segment equals the REST id), the same name/contact fallbacks. A payload
that cannot become an Order raises ``MappingError`` naming the platform's field; an order with no
line that needs shipping (gift cards, digital goods) maps to ``None``. A line whose current
quantity is 0 was removed by an edit and is dropped; an order with every line removed is a
``MappingError`` (there is nothing left to fulfil, and ops should know why it stopped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from hub.domain.address import Address, Contact
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.status import PaymentStatus
from hub.mapping import MappingError, parse_shape
from hub.mapping import build_model as _build
from hub.mapping import required as _required
from plugins.marketplaces.shopify.settings import ShopifySettings
from plugins.marketplaces.shopify.shapes import GqlCustomer, GqlOrder, RestCustomer, RestOrder

MARKETPLACE = "shopify"


def numeric_id(value: object) -> str | None:
    """Shopify's numeric id from a REST integer, a digit string or a GID; None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value > 0 else None
    if isinstance(value, str):
        tail = value.strip().rsplit("/", 1)[-1]
        return tail if re.fullmatch(r"[0-9]+", tail) else None
    return None


# --------------------------------------------------------------------------- the two mappers


def order_from_rest(payload: Mapping[str, Any], settings: ShopifySettings) -> Order | None:
    """Map a webhook's REST-shaped order; None if no line needs shipping."""
    raw = _parse_payload(RestOrder, payload)
    currency = _required(raw.currency, "currency")
    lines = []
    if not raw.line_items:
        raise MappingError("line_items", "the order has no line items")
    for i, item in enumerate(raw.line_items):
        quantity = item.current
        if not item.requires_shipping or quantity == 0:
            continue  # digital goods, gift cards, lines removed by an edit
        field = f"line_items[{i}]"
        if item.price_set is not None:
            price = _money(
                item.price_set.shop_money.amount,
                item.price_set.shop_money.currency_code,
                f"{field}.price_set.shop_money",
            )
        else:
            price = _money(_required(item.price, f"{field}.price"), currency, f"{field}.price")
        lines.append(
            _line(field, item.id, item.sku, quantity, price, item.name or item.title or "")
        )
    if not lines:
        _all_removed([item.current for item in raw.line_items], "line_items")
        return None
    address = raw.shipping_address
    if address is None:
        raise MappingError("shipping_address", "missing: nothing to ship to")
    shipping = next((s for s in raw.shipping_lines if not s.is_removed), None)
    attributes = [(a.name, a.value) for a in raw.note_attributes]
    tags = tuple(t.strip() for t in (raw.tags or "").split(",") if t.strip())
    is_gift, gift_message = gift_of(tags, attributes, settings)
    customer = raw.customer or RestCustomer()
    shipping_paid = raw.total_shipping_price_set
    return _build(
        Order,
        "",
        # The one whole-order rule is that every line is priced in the order's currency.
        {"placed_at": "processed_at", "external_id": "id", "": "currency"},
        marketplace=MARKETPLACE,
        account=settings.account_name,
        external_id=_external_id(raw.id, "id"),
        placed_at=_required(raw.processed_at or raw.created_at, "created_at"),
        currency=currency,
        lines=tuple(lines),
        customer=_build(
            Contact,
            "customer",
            {},
            name=_full_name(customer.first_name, customer.last_name)
            or _full_name(address.first_name, address.last_name, address.name),
            email=raw.email or raw.contact_email,
            phone=raw.phone or address.phone,
        ),
        shipping_address=_build(
            Address,
            "shipping_address",
            _REST_ADDRESS_FIELDS,
            name=_full_name(address.first_name, address.last_name, address.name),
            company=address.company,
            line1=address.address1 or "",
            line2=address.address2,
            city=address.city or "",
            region=address.province_code,
            postal_code=address.zip,
            country=_required(address.country_code, "shipping_address.country_code"),
        ),
        payment_status=payment_status(raw.financial_status, "financial_status"),
        service_level=service_level(
            shipping.title if shipping else None, shipping.code if shipping else None, settings
        ),
        shipping_paid=_money(
            shipping_paid.shop_money.amount,
            shipping_paid.shop_money.currency_code,
            "total_shipping_price_set.shop_money",
        )
        if shipping_paid
        else None,
        is_gift=is_gift,
        gift_message=gift_message,
        tags=tags,
    )


def order_from_graphql(node: Mapping[str, Any], settings: ShopifySettings) -> Order | None:
    """Map a GraphQL ``Order`` node (``queries.ORDER_FRAGMENT``); None if nothing ships."""
    raw = _parse_payload(GqlOrder, node)
    currency = _required(raw.currencyCode, "currencyCode")
    if raw.lineItems.pageInfo.hasNextPage:
        raise MappingError("lineItems", "more line items than were fetched")
    if not raw.lineItems.nodes:
        raise MappingError("lineItems", "the order has no line items")
    lines = []
    for i, item in enumerate(raw.lineItems.nodes):
        quantity = item.current
        if not item.requiresShipping or quantity == 0:
            continue
        field = f"lineItems.nodes[{i}]"
        unit = _required(item.originalUnitPriceSet, f"{field}.originalUnitPriceSet").shopMoney
        price = _money(unit.amount, unit.currencyCode, f"{field}.originalUnitPriceSet.shopMoney")
        lines.append(
            _line(field, item.id, item.sku, quantity, price, item.name or item.title or "")
        )
    if not lines:
        _all_removed([item.current for item in raw.lineItems.nodes], "lineItems")
        return None
    address = raw.shippingAddress
    if address is None:
        raise MappingError("shippingAddress", "missing: nothing to ship to")
    attributes = [(a.key, a.value) for a in raw.customAttributes]
    tags = tuple(t.strip() for t in raw.tags if t.strip())
    is_gift, gift_message = gift_of(tags, attributes, settings)
    customer = raw.customer or GqlCustomer()
    shipping = raw.shippingLine
    shipping_paid = raw.totalShippingPriceSet
    return _build(
        Order,
        "",
        {
            "placed_at": "processedAt",
            "external_id": "id",
            "currency": "currencyCode",
            "": "currencyCode",
        },
        marketplace=MARKETPLACE,
        account=settings.account_name,
        external_id=_external_id(raw.id, "id"),
        placed_at=_required(raw.processedAt or raw.createdAt, "createdAt"),
        currency=currency,
        lines=tuple(lines),
        customer=_build(
            Contact,
            "customer",
            {},
            name=_full_name(customer.firstName, customer.lastName)
            or _full_name(address.firstName, address.lastName, address.name),
            email=raw.email,
            phone=raw.phone or address.phone,
        ),
        shipping_address=_build(
            Address,
            "shippingAddress",
            _GQL_ADDRESS_FIELDS,
            name=_full_name(address.firstName, address.lastName, address.name),
            company=address.company,
            line1=address.address1 or "",
            line2=address.address2,
            city=address.city or "",
            region=address.provinceCode,
            postal_code=address.zip,
            country=_required(address.countryCodeV2, "shippingAddress.countryCodeV2"),
        ),
        payment_status=payment_status(raw.displayFinancialStatus, "displayFinancialStatus"),
        service_level=service_level(
            shipping.title if shipping else None, shipping.code if shipping else None, settings
        ),
        shipping_paid=_money(
            shipping_paid.shopMoney.amount,
            shipping_paid.shopMoney.currencyCode,
            "totalShippingPriceSet.shopMoney",
        )
        if shipping_paid
        else None,
        is_gift=is_gift,
        gift_message=gift_message,
        tags=tags,
    )


# --------------------------------------------------------------------------- shared rules

# REST ``financial_status`` and GraphQL ``displayFinancialStatus`` share one vocabulary
# (OrderDisplayFinancialStatus). Partly paid is not paid: it waits like pending. An expired
# authorisation took no money: it ends like a void.
_PAYMENT: dict[str, PaymentStatus] = {
    "pending": PaymentStatus.PENDING,
    "partially_paid": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    "paid": PaymentStatus.PAID,
    "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.VOIDED,
    "expired": PaymentStatus.VOIDED,
}


def payment_status(value: str | None, field: str) -> PaymentStatus:
    if value is None:
        return PaymentStatus.PENDING  # Shopify leaves it empty until a payment is recorded
    try:
        return _PAYMENT[value.strip().lower()]
    except KeyError:
        raise MappingError(field, f"unknown financial status {value!r}") from None


_EXPRESS_WORDS = (
    "express",
    "overnight",
    "next day",
    "next-day",
    "priority",
    "expedited",
    "same day",
    "same-day",
    "1-day",
    "2-day",
)
_ECONOMY_WORDS = ("economy", "saver", "budget", "untracked")


def service_level(title: str | None, code: str | None, settings: ShopifySettings) -> str:
    """The shipping line's title/code as a hub service level: configured names first, then
    words merchants commonly use in rate names, else standard."""
    for key in (title, code):
        if key and key.strip().lower() in settings.service_levels:
            return settings.service_levels[key.strip().lower()]
    text = f"{title or ''} {code or ''}".lower()
    if any(word in text for word in _EXPRESS_WORDS):
        return "express"
    if any(word in text for word in _ECONOMY_WORDS):
        return "economy"
    return "standard"


_TRUE = frozenset({"true", "yes", "1", "on"})


def gift_of(
    tags: Iterable[str], attributes: Sequence[tuple[str, str | None]], settings: ShopifySettings
) -> tuple[bool, str | None]:
    """Shopify has no gift flag: a gift tag, a true ``gift`` attribute or a gift message says so."""
    wanted = {name.strip().lower() for name in settings.gift_message_attributes}
    message = next(
        (v.strip() for k, v in attributes if k.strip().lower() in wanted and v and v.strip()),
        None,
    )
    gift_tags = {t.strip().lower() for t in settings.gift_tags}
    tagged = any(t.lower() in gift_tags for t in tags)
    flagged = any(
        k.strip().lower() in {"gift", "is_gift"} and (v or "").strip().lower() in _TRUE
        for k, v in attributes
    )
    return tagged or flagged or message is not None, message


# --------------------------------------------------------------------------- helpers

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_REST_ADDRESS_FIELDS = {
    "line1": "address1",
    "line2": "address2",
    "region": "province_code",
    "postal_code": "zip",
    "country": "country_code",
}
_GQL_ADDRESS_FIELDS = {
    "line1": "address1",
    "line2": "address2",
    "region": "provinceCode",
    "postal_code": "zip",
    "country": "countryCodeV2",
}


def _money(amount: Decimal, currency: str, field: str) -> Money:
    return _build(Money, field, {"currency": "currencyCode"}, amount=amount, currency=currency)


def _line(
    field: str, line_id: object, sku: str | None, quantity: int, price: Money, title: str
) -> OrderLine:
    if quantity < 0:
        raise MappingError(f"{field}.quantity", f"negative quantity {quantity}")
    if not sku or not sku.strip():
        raise MappingError(f"{field}.sku", "missing: the warehouse cannot pick a line without one")
    number = numeric_id(line_id)
    if number is None:
        raise MappingError(f"{field}.id", f"{line_id!r} is not a Shopify line item id")
    return _build(
        OrderLine,
        field,
        {},
        line_id=number,
        sku=sku.strip(),
        quantity=quantity,
        unit_price=price,
        title=title,
    )


def _all_removed(quantities: Sequence[int], field: str) -> None:
    """No line left to ship: removed lines (quantity 0) are a problem, digital goods are not."""
    if not any(q > 0 for q in quantities):
        raise MappingError(field, "every line has quantity 0 (removed): nothing left to fulfil")


def _external_id(value: object, field: str) -> str:
    number = numeric_id(value)
    if number is None:
        raise MappingError(field, f"{value!r} is not a Shopify order id")
    return number


def _full_name(first: str | None, last: str | None, whole: str | None = None) -> str:
    """First and last name joined, else the ready-made full name, else empty (the hub's address
    check then holds the order for a name rather than losing it here)."""
    joined = " ".join(p.strip() for p in (first, last) if p and p.strip())
    return joined or (whole or "").strip()


def _parse_payload(shape: type[M], payload: Mapping[str, Any]) -> M:
    return parse_shape(shape, payload, whole="payload")

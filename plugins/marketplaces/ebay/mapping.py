"""Pure mapping of an eBay ``Order`` (Sell Fulfillment API v1, getOrders/getOrder) to the hub's
``Order``. No I/O, no clock.

Field sources (schemas in ``shapes.py``; enum values from developer.ebay.com/api-docs/sell/
fulfillment/types: ``OrderPaymentStatusEnum``, ``PaymentStatusEnum``,
``FulfillmentInstructionsType``):

- lines: ``lineItems[]`` ``lineItemId``, ``sku``, ``quantity``, ``title``; the unit price is
  ``lineItemCost`` (the line's price for all units before discounts) divided by ``quantity``,
  like the Shopify adapter's pre-discount unit price. Digital gift card lines (``giftDetails``)
  are e-mailed, not shipped, and are left out.
- address and contact: ``fulfillmentStartInstructions[0].shippingStep.shipTo`` (``fullName``,
  ``companyName``, ``contactAddress``, ``email``, ``primaryPhone.phoneNumber``), falling back to
  ``buyer.buyerRegistrationAddress`` for the contact. For Global Shipping Program / eBay
  International Shipping orders ``shipTo`` is the shipping provider's domestic hub, and eBay asks
  for ``shipToReferenceId`` on the label just above the street: it goes in ``company``.
- dates: ``creationDate``, ``lastModifiedDate``; ship-by = earliest
  ``lineItemFulfillmentInstructions.shipByDate``; deliver-by =
  ``fulfillmentStartInstructions[0].maxEstimatedDeliveryDate`` (else the lines' earliest).
- service level: ``shippingStep.shippingServiceCode`` through ``settings.service_levels``,
  then keywords of eBay's service codes (``UPSNextDay``, ``USPSPriority``, ``UK_RoyalMail...``).
- payment: ``orderPaymentStatus`` (and ``paymentSummary.payments[].paymentStatus`` for FAILED).
- flags: eBay has no gift, presale or backorder fields for physical goods, so those stay off;
  eBay programs become tags (guaranteed delivery, international shipping, authenticity).
A payload that cannot become an Order raises ``MappingError`` naming eBay's field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel

from hub.domain.address import Address, Contact
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.status import PaymentStatus
from hub.mapping import MappingError
from hub.mapping import build_model as _build
from hub.mapping import parse_shape as _parse
from hub.mapping import required as _required
from plugins.marketplaces.ebay import shapes
from plugins.marketplaces.ebay.settings import EbaySettings

MARKETPLACE = "ebay"
SHIP_TO = "fulfillmentStartInstructions[0].shippingStep.shipTo"
UNIT_PRICE_PLACES = Decimal("0.0001")
"""A line price that does not divide evenly by its quantity keeps four decimal places."""

# FulfillmentInstructionsType values for which the seller ships nothing the hub could handle.
NOT_SHIPPED_BY_SELLER: Mapping[str, str] = {
    "DIGITAL": "delivered digitally: nothing to ship",
    "PREPARE_FOR_PICKUP": "in-store pickup: the buyer collects it from the seller's store",
    "FULFILLED_BY_EBAY": "fulfilled by eBay: eBay ships it",
}


def iso_millis(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, eBay's timestamp format
    (``2015-08-04T19:09:02.768Z``). Naive times are taken as UTC."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_order(payload: Mapping[str, Any]) -> shapes.Order:
    return _parse(shapes.Order, payload)


def not_shipped_reason(raw: shapes.Order) -> str | None:
    """Why the hub has nothing to ship for this order, or None if it has."""
    instruction = _instruction(raw)
    kind = (instruction.fulfillmentInstructionsType or "") if instruction else ""
    if kind in NOT_SHIPPED_BY_SELLER:
        return NOT_SHIPPED_BY_SELLER[kind]
    if raw.lineItems and all(item.giftDetails is not None for item in raw.lineItems):
        return "digital gift cards only: eBay e-mails them"
    return None


def order_from_ebay(raw: shapes.Order, settings: EbaySettings) -> Order:
    """Map a parsed eBay order that has something to ship (see ``not_shipped_reason``)."""
    if not raw.lineItems:
        raise MappingError("lineItems", "the order has no line items")
    shipped = [(i, item) for i, item in enumerate(raw.lineItems) if item.giftDetails is None]
    lines = tuple(_line(f"lineItems[{i}]", item) for i, item in shipped)
    if not lines:
        raise MappingError("lineItems", "no line to ship (digital gift cards only)")
    total = raw.pricingSummary.total if raw.pricingSummary else None
    currency = (total.currency if total else None) or lines[0].unit_price.currency
    instruction = _instruction(raw)
    step = instruction.shippingStep if instruction else None
    ship_to = step.shipTo if step else None
    if ship_to is None:
        raise MappingError(SHIP_TO, "missing: nothing to ship to")
    instructions = [item.lineItemFulfillmentInstructions for _, item in shipped]
    timing = [i for i in instructions if i is not None]
    return _build(
        Order,
        "",
        _ORDER_FIELDS,
        marketplace=MARKETPLACE,
        account=settings.account,
        external_id=raw.orderId,
        placed_at=_required(raw.creationDate, "creationDate"),
        updated_at=raw.lastModifiedDate,
        currency=currency,
        lines=lines,
        customer=_contact(ship_to, raw.buyer),
        shipping_address=_address(ship_to, instruction, step),
        payment_status=payment_status(raw),
        service_level=service_level(step.shippingServiceCode if step else None, settings),
        ship_by=_earliest(t.shipByDate for t in timing),
        deliver_by=(instruction.maxEstimatedDeliveryDate if instruction else None)
        or _earliest(t.maxEstimatedDeliveryDate for t in timing),
        shipping_paid=_shipping_paid(raw.pricingSummary),
        tags=_tags(raw, instruction, timing),
    )


# --------------------------------------------------------------------------- rules

_PAYMENT: Mapping[str, PaymentStatus] = {
    "PAID": PaymentStatus.PAID,
    "PENDING": PaymentStatus.PENDING,
    "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
    "FULLY_REFUNDED": PaymentStatus.REFUNDED,
}


def payment_status(raw: shapes.Order) -> PaymentStatus:
    """``orderPaymentStatus`` in the hub's terms. eBay's FAILED covers a failed buyer payment
    and a failed refund alike: money received (a PAID payment) means paid; otherwise nothing was
    collected and the order must wait like a pending one (the hub holds pending orders)."""
    value = (raw.orderPaymentStatus or "").strip().upper()
    if value == "FAILED":
        payments = raw.paymentSummary.payments if raw.paymentSummary else []
        paid = any((p.paymentStatus or "").upper() == "PAID" for p in payments)
        return PaymentStatus.PAID if paid else PaymentStatus.PENDING
    try:
        return _PAYMENT[value]
    except KeyError:
        raise MappingError(
            "orderPaymentStatus", f"unknown payment status {raw.orderPaymentStatus!r}"
        ) from None


# Words in eBay shipping service codes (Trading API ShippingServiceCodeType, e.g. UPSNextDay,
# USPSPriorityMailExpress, UK_RoyalMailSpecialDeliveryNextDay, DE_DHLPaket): eBay files
# next-day, 2nd/3rd-day, priority and express services under its EXPEDITED/ONE_DAY categories.
_EXPRESS_WORDS = (
    "express",
    "nextday",
    "overnight",
    "oneday",
    "sameday",
    "2ndday",
    "2day",
    "3rdday",
    "expedited",
    "priority",
)
_ECONOMY_WORDS = ("economy", "media", "untracked")


def service_level(code: str | None, settings: EbaySettings) -> str:
    """The buyer's chosen eBay shipping service as a hub service level: configured codes
    first, then the words eBay's service codes are built from, else standard."""
    if not code or not code.strip():
        return "standard"
    key = code.strip().lower()
    if key in settings.service_levels:
        return settings.service_levels[key]
    squashed = key.replace("_", "").replace("-", "").replace(" ", "")
    if any(word in squashed for word in _EXPRESS_WORDS):
        return "express"
    if any(word in squashed for word in _ECONOMY_WORDS):
        return "economy"
    return "standard"


# --------------------------------------------------------------------------- parts


def _line(field: str, item: shapes.LineItem) -> OrderLine:
    if item.quantity <= 0:
        raise MappingError(f"{field}.quantity", f"must be positive, not {item.quantity}")
    if not item.lineItemId or not item.lineItemId.strip():
        raise MappingError(f"{field}.lineItemId", "missing")
    if not item.sku or not item.sku.strip():
        raise MappingError(f"{field}.sku", "missing: the warehouse cannot pick a line without one")
    cost = _required(item.lineItemCost, f"{field}.lineItemCost")
    amount = _required(cost.value, f"{field}.lineItemCost.value")
    if not amount.is_finite() or amount < 0:
        raise MappingError(f"{field}.lineItemCost.value", f"not a price: {amount}")
    try:
        unit = amount / item.quantity
        if unit * item.quantity != amount:
            unit = unit.quantize(UNIT_PRICE_PLACES)
    except InvalidOperation:  # beyond Decimal's 28 digits: no real price looks like that
        raise MappingError(f"{field}.lineItemCost.value", f"not a price: {amount}") from None
    price = _build(
        Money,
        f"{field}.lineItemCost",
        {"amount": "value"},
        amount=unit,
        currency=_required(cost.currency, f"{field}.lineItemCost.currency"),
    )
    return _build(
        OrderLine,
        field,
        {"line_id": "lineItemId", "unit_price": "lineItemCost"},
        line_id=item.lineItemId.strip(),
        sku=item.sku.strip(),
        quantity=item.quantity,
        unit_price=price,
        title=item.title or "",
    )


def _address(
    ship_to: shapes.ExtendedContact,
    instruction: shapes.FulfillmentStartInstruction | None,
    step: shapes.ShippingStep | None,
) -> Address:
    where = ship_to.contactAddress
    if where is None:
        raise MappingError(f"{SHIP_TO}.contactAddress", "missing: nothing to ship to")
    company = ship_to.companyName
    if instruction and instruction.ebaySupportedFulfillment and step and step.shipToReferenceId:
        reference = f"Reference #{step.shipToReferenceId}"
        company = f"{company}, {reference}" if company else reference
    return _build(
        Address,
        f"{SHIP_TO}.contactAddress",
        _ADDRESS_FIELDS,
        # eBay drops names and street lines of orders older than 90 days: an empty value lets
        # the hub's address check hold the order instead of losing it here.
        name=ship_to.fullName or "",
        company=company,
        line1=where.addressLine1 or "",
        line2=where.addressLine2,
        city=where.city or "",
        region=where.stateOrProvince,
        postal_code=where.postalCode,
        country=_required(where.countryCode, f"{SHIP_TO}.contactAddress.countryCode"),
    )


def _contact(ship_to: shapes.ExtendedContact, buyer: shapes.Buyer | None) -> Contact:
    registered = buyer.buyerRegistrationAddress if buyer else None
    registered = registered or shapes.ExtendedContact()
    phone = ship_to.primaryPhone or registered.primaryPhone
    return _build(
        Contact,
        SHIP_TO,
        {"name": "fullName", "phone": "primaryPhone.phoneNumber"},
        name=ship_to.fullName or registered.fullName or (buyer.username if buyer else "") or "",
        email=ship_to.email or registered.email,
        phone=phone.phoneNumber if phone else None,
    )


def _shipping_paid(summary: shapes.PricingSummary | None) -> Money | None:
    """What the buyer paid for delivery: ``deliveryCost`` plus the (negative)
    ``deliveryDiscount``."""
    cost = summary.deliveryCost if summary else None
    if cost is None or cost.value is None or cost.currency is None:
        return None
    amount = cost.value
    discount = summary.deliveryDiscount if summary else None
    if discount is not None and discount.value is not None:
        amount += discount.value
    return _build(
        Money,
        "pricingSummary.deliveryCost",
        {"amount": "value"},
        amount=amount,
        currency=cost.currency,
    )


def _tags(
    raw: shapes.Order,
    instruction: shapes.FulfillmentStartInstruction | None,
    timing: Sequence[shapes.LineItemFulfillmentInstructions],
) -> tuple[str, ...]:
    tags = []
    if any(t.guaranteedDelivery for t in timing):
        tags.append("ebay_guaranteed_delivery")
    if instruction and instruction.ebaySupportedFulfillment:
        tags.append("ebay_international_shipping")
    if raw.program and raw.program.authenticityVerification:
        tags.append("ebay_authenticity_guarantee")
    return tuple(tags)


# --------------------------------------------------------------------------- helpers

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_ORDER_FIELDS = {
    "external_id": "orderId",
    "placed_at": "creationDate",
    "updated_at": "lastModifiedDate",
    "currency": "pricingSummary.total.currency",
    "ship_by": "lineItems[].lineItemFulfillmentInstructions.shipByDate",
    "deliver_by": "fulfillmentStartInstructions[0].maxEstimatedDeliveryDate",
    "shipping_paid": "pricingSummary.deliveryCost",
    # The one whole-order rule is that every line is priced in the order's currency.
    "": "lineItems[].lineItemCost.currency",
}
_ADDRESS_FIELDS = {
    "name": "fullName",
    "company": "companyName",
    "line1": "addressLine1",
    "line2": "addressLine2",
    "region": "stateOrProvince",
    "postal_code": "postalCode",
    "country": "countryCode",
}


def _instruction(raw: shapes.Order) -> shapes.FulfillmentStartInstruction | None:
    # An array in the contract, but eBay documents that it holds one set of instructions.
    return raw.fulfillmentStartInstructions[0] if raw.fulfillmentStartInstructions else None


def _earliest(moments: Iterable[datetime | None]) -> datetime | None:
    known = [m for m in moments if m is not None]
    if not known:
        return None
    try:
        return min(known)
    except TypeError:  # naive and aware mixed: the Order check then names the field
        return known[0]

"""Pure mapping of Amazon orders to hub models (no I/O, no clock): searchOrders windows and
pages, and each ``Order`` as a channel event. Confirmations: confirmation.py; notifications:
notifications.py.

Shapes follow github.com/amzn/selling-partner-api-models (Apache-2.0),
``models/orders-api-model/orders_2026-01-01.json`` (Orders API v2026-01-01): searchOrders
``GET /orders/2026-01-01/orders`` (query parameters, ``SearchOrdersResponse``, ``Pagination``)
and getOrder ``GET /orders/2026-01-01/orders/{orderId}`` (``GetOrderResponse``), both carrying
``Order`` objects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from hub.domain.address import Address, Contact
from hub.domain.messages import (
    ChannelEvent,
    ChannelEventKind,
    FetchRequest,
    MappingProblem,
)
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.status import PaymentStatus
from hub.errors import PermanentError
from plugins.marketplaces.amazon.schema import (
    AmzOrder,
    AmzProceeds,
)

MARKETPLACE = "amazon"
INCLUDED_DATA = ("BUYER", "RECIPIENT", "FULFILLMENT", "PACKAGES")
"""searchOrders/getOrder datasets (the spec's ``includedData`` enum) the mapping reads."""
LAST_UPDATED_LAG = timedelta(minutes=2)
"""searchOrders: ``lastUpdatedBefore`` must be at least two minutes before the request."""
MAX_PAGE_SIZE = 100
"""searchOrders ``maxResultsPerPage``: 1..100."""

PENDING_STATUSES = frozenset({"PENDING", "PENDING_AVAILABILITY"})
ORDER_STATUSES = PENDING_STATUSES | {
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
}
"""The spec's ``FulfillmentStatus`` enum."""

# `fulfillmentServiceLevel` (the spec's possible values) -> the hub's service levels.
SERVICE_LEVELS: Mapping[str, str] = {
    "STANDARD": "standard",
    "SCHEDULED": "standard",
    "FREE_ECONOMY": "economy",
    "EXPEDITED": "express",
    "PRIORITY": "express",
    "SECOND_DAY": "express",
    "NEXT_DAY": "express",
    "SAME_DAY": "express",
}


def iso(moment: datetime, *, timespec: str = "seconds") -> str:
    """ISO 8601 in UTC with a ``Z``, as Amazon's examples write it. Naive times are UTC."""
    text = _utc(moment).isoformat(timespec=timespec)
    return text.replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --------------------------------------------------------------------------- searchOrders


@dataclass(frozen=True)
class SearchWindow:
    """One searchOrders window. Amazon wants every parameter but the page size repeated
    unchanged with a ``paginationToken``, so the clamped upper bound travels in our page token."""

    last_updated_after: str
    last_updated_before: str
    pagination_token: str | None = None


def search_window(request: FetchRequest, now: datetime) -> SearchWindow | None:
    """The window to ask for, or None when it lies entirely in Amazon's last two minutes."""
    after = iso(request.updated_after)
    if request.page_token:
        window = decode_page_token(request.page_token)
        if window.last_updated_after != after:
            raise PermanentError(
                "page_token belongs to a window starting at "
                f"{window.last_updated_after}, not {after}: restart the window without it"
            )
        return window
    before = min(_utc(request.updated_before), _utc(now) - LAST_UPDATED_LAG)
    if before <= _utc(request.updated_after):
        return None
    return SearchWindow(last_updated_after=after, last_updated_before=iso(before))


def search_params(
    window: SearchWindow, marketplace_ids: Sequence[str], page_size: int
) -> dict[str, str]:
    # Arrays are comma-separated: the spec sets no collectionFormat, so Swagger 2.0's csv holds.
    params = {
        "lastUpdatedAfter": window.last_updated_after,
        "lastUpdatedBefore": window.last_updated_before,
        "marketplaceIds": ",".join(marketplace_ids),
        "includedData": ",".join(INCLUDED_DATA),
        # The hub ships merchant-fulfilled orders only; FBA orders are Amazon's to ship.
        "fulfilledBy": "MERCHANT",
        "maxResultsPerPage": str(min(page_size, MAX_PAGE_SIZE)),
    }
    if window.pagination_token:
        params["paginationToken"] = window.pagination_token
    return params


def encode_page_token(window: SearchWindow, next_token: str) -> str:
    raw = json.dumps(
        {
            "after": window.last_updated_after,
            "before": window.last_updated_before,
            "token": next_token,
        },
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_page_token(page_token: str) -> SearchWindow:
    try:
        data = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        window = SearchWindow(
            last_updated_after=data["after"],
            last_updated_before=data["before"],
            pagination_token=data["token"],
        )
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise PermanentError("page_token was not issued by the amazon plugin") from None
    if not all(
        isinstance(v, str) and v
        for v in (window.last_updated_after, window.last_updated_before, window.pagination_token)
    ):
        raise PermanentError("page_token was not issued by the amazon plugin")
    return window


def parse_search_page(body: object) -> tuple[list[object], str | None]:
    """(raw orders, nextToken) of a ``SearchOrdersResponse``."""
    if not isinstance(body, dict) or not isinstance(body.get("orders"), list):
        raise PermanentError("searchOrders response: orders is missing or not a list")
    pagination = body.get("pagination")
    next_token = pagination.get("nextToken") if isinstance(pagination, dict) else None
    if not isinstance(next_token, str) or not next_token:
        next_token = None
    return list(body["orders"]), next_token


# --------------------------------------------------------------------------- orders


class _Unmappable(Exception):
    """An Amazon order that cannot become a hub Order: the Amazon field at fault and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.problem = MappingProblem(field=field, message=message)


def order_event(raw: object, *, account: str, now: datetime) -> ChannelEvent:
    """One searchOrders/getOrder ``Order`` as a channel event.

    CANCELLED -> ORDER_CANCELLED; FBA and UNFULFILLABLE (FBA-only) orders -> IGNORED; others ->
    ORDER_UPSERTED with an Order (PENDING ones with PaymentStatus.PENDING), or with a
    MappingProblem naming the Amazon field. A PENDING order Amazon has not completed yet
    (no address or price) is IGNORED with the reason: it comes back once Amazon updates it.
    """
    order_id, updated = _raw_identity(raw)
    digest = _digest(raw)
    external_id = order_id or f"unidentified-{digest}"
    occurred_at = _parse_time(updated) or now
    dedupe_key = f"{order_id}@{updated}" if order_id and updated else f"{external_id}@{digest}"

    def event(kind: ChannelEventKind, **fields: Any) -> ChannelEvent:
        return ChannelEvent(
            kind=kind,
            marketplace=MARKETPLACE,
            account=account,
            external_id=external_id,
            dedupe_key=dedupe_key,
            occurred_at=occurred_at,
            **fields,
        )

    if order_id is None:
        return event(ChannelEventKind.ORDER_UPSERTED, problem=_missing("orderId"))
    status = _raw_fulfillment(raw, "fulfillmentStatus")
    if status == "CANCELLED":
        return event(ChannelEventKind.ORDER_CANCELLED, reason="cancelled on Amazon")
    if _raw_fulfillment(raw, "fulfilledBy") == "AMAZON":
        return event(ChannelEventKind.IGNORED, reason="fulfilled by Amazon (FBA): nothing to ship")
    if status == "UNFULFILLABLE":
        return event(ChannelEventKind.IGNORED, reason="UNFULFILLABLE (Amazon-fulfilled only)")
    try:
        order = _to_order(_validate_order(raw), account=account)
    except _Unmappable as exc:
        if status in PENDING_STATUSES:
            return event(
                ChannelEventKind.IGNORED,
                reason=f"pending order not complete yet ({exc.problem}); fetched again on update",
            )
        return event(ChannelEventKind.ORDER_UPSERTED, problem=exc.problem)
    return event(ChannelEventKind.ORDER_UPSERTED, order=order)


def _to_order(order: AmzOrder, *, account: str) -> Order:
    """An Amazon order (validated) as a hub Order; raises _Unmappable naming the field."""
    if order.fulfillment is None:
        raise _Unmappable("fulfillment", "missing (searchOrders needs includedData=FULFILLMENT)")
    fulfillment = order.fulfillment
    status = fulfillment.fulfillment_status
    if status not in ORDER_STATUSES:
        raise _Unmappable("fulfillment.fulfillmentStatus", f"unknown status {status!r}")
    lines = _lines(order)
    currency = lines[0].unit_price.currency
    address = order.recipient.delivery_address if order.recipient else None
    if address is None:
        raise _Unmappable("recipient.deliveryAddress", "missing")
    buyer_name = order.buyer.buyer_name if order.buyer else None
    gifts = [
        item.fulfillment.packing.gift_option
        for item in order.order_items
        if item.fulfillment and item.fulfillment.packing and item.fulfillment.packing.gift_option
    ]
    messages = dict.fromkeys(g.gift_message.strip() for g in gifts if g.gift_message)
    programs = order.programs or []
    pending = status in PENDING_STATUSES
    try:
        fields: dict[str, Any] = {
            "marketplace": MARKETPLACE,
            "account": account,
            "external_id": order.order_id,
            "placed_at": order.created_time,
            "currency": currency,
            "lines": lines,
            "customer": Contact(
                name=buyer_name or address.name or "",
                email=order.buyer.buyer_email if order.buyer else None,
                phone=address.phone or None,
            ),
            "shipping_address": Address(
                name=address.name or buyer_name or "",
                company=address.company_name or None,
                line1=address.address_line1 or "",
                line2=", ".join(filter(None, (address.address_line2, address.address_line3)))
                or None,
                # Japanese addresses may leave `city` empty and carry it as municipality/district.
                city=address.city or address.municipality or address.district_or_county or "",
                region=address.state_or_region or None,
                postal_code=address.postal_code or None,
                country=address.country_code,
            ),
            "payment_status": PaymentStatus.PENDING if pending else PaymentStatus.PAID,
            "service_level": SERVICE_LEVELS.get(fulfillment.service_level or "", "standard"),
            "ship_by": fulfillment.ship_by_window.latest if fulfillment.ship_by_window else None,
            "deliver_by": (
                fulfillment.deliver_by_window.latest if fulfillment.deliver_by_window else None
            ),
            "shipping_paid": _shipping_paid(order.proceeds, currency),
            "is_gift": bool(gifts),
            "gift_message": "\n".join(m for m in messages if m) or None,
            "is_presale": status == "PENDING_AVAILABILITY" or "PREORDER" in programs,
            "tags": (f"amazon-status:{status.lower()}", *(f"amazon:{p.lower()}" for p in programs)),
        }
        return Order(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        hub_field = str(error["loc"][0]) if error["loc"] else "external_id"
        raise _Unmappable(_AMAZON_FIELD.get(hub_field, hub_field), error["msg"]) from None


# Hub Order field -> the Amazon field it comes from, to name the culprit in MappingProblems.
_AMAZON_FIELD = {
    "external_id": "orderId",
    "placed_at": "createdTime",
    "ship_by": "fulfillment.shipByWindow.latestDateTime",
    "deliver_by": "fulfillment.deliverByWindow.latestDateTime",
    "lines": "orderItems",
    "customer": "buyer",
    "shipping_address": "recipient.deliveryAddress",
    "tags": "programs",
}


def _lines(order: AmzOrder) -> list[OrderLine]:
    lines: list[OrderLine] = []
    currency: str | None = None
    for index, item in enumerate(order.order_items):
        if item.quantity_ordered == 0:
            continue  # an item cancelled in full stays listed with quantity 0
        where = f"orderItems[{index}]"
        sku = (item.product.seller_sku or "").strip()
        if not sku:
            raise _Unmappable(f"{where}.product.sellerSku", "missing")
        price = item.product.price.unit_price if item.product.price else None
        if price is None:
            raise _Unmappable(f"{where}.product.price.unitPrice", "missing")
        if price.amount < 0:
            raise _Unmappable(f"{where}.product.price.unitPrice.amount", "negative")
        if currency is not None and price.currency_code != currency:
            raise _Unmappable(
                f"{where}.product.price.unitPrice.currencyCode",
                f"{price.currency_code} differs from the order's {currency}",
            )
        currency = price.currency_code
        lines.append(
            OrderLine(
                line_id=item.order_item_id,
                sku=sku,
                quantity=item.quantity_ordered,
                unit_price=Money(amount=price.amount, currency=price.currency_code),
                title=item.product.title or "",
            )
        )
    if not lines:
        raise _Unmappable("orderItems", "no item with a quantity above zero")
    return lines


def _shipping_paid(proceeds: AmzProceeds | None, currency: str) -> Money | None:
    if proceeds is None or not proceeds.breakdowns:
        return None
    amounts = [
        b.subtotal.amount
        for b in proceeds.breakdowns
        if b.type == "SHIPPING" and b.subtotal.currency_code == currency
    ]
    return Money(amount=sum(amounts, Decimal(0)), currency=currency) if amounts else None


def _validate_order(raw: object) -> AmzOrder:
    try:
        return AmzOrder.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise _Unmappable(field_path(error["loc"]), error["msg"]) from None


def _raw_identity(raw: object) -> tuple[str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    order_id, updated = raw.get("orderId"), raw.get("lastUpdatedTime")
    good_id = order_id if isinstance(order_id, str) and order_id.strip() else None
    return good_id, updated if isinstance(updated, str) and updated else None


def _raw_fulfillment(raw: object, key: str) -> str | None:
    """A text field of the raw order's ``fulfillment``, read before (and whatever) validation."""
    fulfillment = raw.get("fulfillment") if isinstance(raw, dict) else None
    value = fulfillment.get(key) if isinstance(fulfillment, dict) else None
    return value if isinstance(value, str) else None


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _digest(raw: object) -> str:
    canonical = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _missing(field: str) -> MappingProblem:
    return MappingProblem(field=field, message="missing")


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as Amazon's field path, e.g. ``orderItems[0].product``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "(document)"

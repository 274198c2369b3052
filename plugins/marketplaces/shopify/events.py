"""Pure construction of channel events from Shopify orders, webhook- or poll-shaped.

A cancelled order becomes ORDER_CANCELLED; an order that maps becomes the topic's event with the
Order; one that does not carries a ``MappingProblem``; one with nothing to ship, or that Shopify
marks ``test`` (unless the settings take test orders), is IGNORED with the reason. Only a payload
without an order id (or, for GraphQL, without ``updatedAt``) raises: without them there is no
event to speak of.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.domain.messages import ChannelEvent, ChannelEventKind
from hub.errors import PermanentError
from hub.mapping import MappingError
from plugins.marketplaces.shopify.mapping import (
    MARKETPLACE,
    numeric_id,
    order_from_graphql,
    order_from_rest,
)
from plugins.marketplaces.shopify.settings import ShopifySettings

NOTHING_TO_SHIP = "no line of the order needs shipping (digital goods or gift cards only)"
TEST_ORDER = "test order (Shopify's test flag): nothing was paid"
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def order_id(value: object, field: str) -> str:
    """The order's numeric id, or PermanentError: a payload without one is malformed."""
    number = numeric_id(value)
    if number is None:
        raise PermanentError(f"{field}: missing or not a Shopify order id ({value!r:.40})")
    return number


def rest_order_event(
    payload: Mapping[str, Any],
    settings: ShopifySettings,
    *,
    kind: ChannelEventKind,
    dedupe_key: str,
    occurred_at: datetime,
) -> ChannelEvent:
    """The event for a REST-shaped order delivered by a webhook topic meaning ``kind``."""
    base = _base(order_id(payload.get("id"), "id"), settings, dedupe_key, occurred_at)
    if _is_test(payload, settings):
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=TEST_ORDER, **base)
    if kind is ChannelEventKind.ORDER_CANCELLED or payload.get("cancelled_at"):
        return _cancelled(base, payload.get("cancel_reason"))
    try:
        order = order_from_rest(payload, settings)
    except MappingError as exc:
        return ChannelEvent(kind=kind, problem=exc.problem, **base)
    if order is None:
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=NOTHING_TO_SHIP, **base)
    return ChannelEvent(kind=kind, order=order, **base)


def graphql_order_event(
    node: Mapping[str, Any],
    settings: ShopifySettings,
    *,
    dedupe_key: str | None = None,
    occurred_at: datetime | None = None,
    reason: str | None = None,
) -> ChannelEvent:
    """The event for a polled GraphQL ``Order`` node.

    By default the event is keyed ``{id}@{updatedAt}``: every change is a new event, a re-read
    of the same version is a duplicate. A webhook that made the hub re-read the order passes its
    own key and time instead.
    """
    external_id = order_id(node.get("id"), "id")
    updated_raw = node.get("updatedAt")
    try:
        updated_at = _DATETIME.validate_python(updated_raw)
    except ValidationError:
        raise PermanentError(f"updatedAt: not a timestamp ({updated_raw!r:.40})") from None
    base = _base(
        external_id,
        settings,
        dedupe_key or f"{external_id}@{updated_raw}",
        occurred_at or updated_at,
    )
    if _is_test(node, settings):
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=TEST_ORDER, **base)
    if node.get("cancelledAt"):
        cancel_reason = node.get("cancelReason")
        return _cancelled(base, cancel_reason.lower() if isinstance(cancel_reason, str) else None)
    try:
        order = order_from_graphql(node, settings)
    except MappingError as exc:
        return ChannelEvent(kind=ChannelEventKind.ORDER_UPSERTED, problem=exc.problem, **base)
    if order is None:
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=NOTHING_TO_SHIP, **base)
    return ChannelEvent(kind=ChannelEventKind.ORDER_UPSERTED, order=order, reason=reason, **base)


def _is_test(order: Mapping[str, Any], settings: ShopifySettings) -> bool:
    """REST ``test`` and GraphQL ``Order.test`` alike."""
    return order.get("test") is True and not settings.take_test_orders


def _base(
    external_id: str, settings: ShopifySettings, dedupe_key: str, occurred_at: datetime
) -> dict[str, Any]:
    return {
        "marketplace": MARKETPLACE,
        "account": settings.account_name,
        "external_id": external_id,
        "dedupe_key": dedupe_key,
        "occurred_at": occurred_at,
    }


def _cancelled(base: dict[str, Any], cancel_reason: object) -> ChannelEvent:
    why = f" ({cancel_reason})" if isinstance(cancel_reason, str) and cancel_reason else ""
    return ChannelEvent(
        kind=ChannelEventKind.ORDER_CANCELLED, reason=f"cancelled on Shopify{why}", **base
    )

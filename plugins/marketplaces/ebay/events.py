"""Pure construction of channel events from eBay orders (getOrders / getOrder ``Order`` JSON).

Cancellation (``CancelStatus``, developer.ebay.com/api-docs/sell/fulfillment/types:
``CancelStateEnum`` CANCELED / IN_PROGRESS / NONE_REQUESTED, ``CancelRequestStateEnum``
COMPLETED / REJECTED / REQUESTED): an order in state CANCELED, or with a cancel request eBay
completed (the seller accepted it), becomes ORDER_CANCELLED. getOrders always returns an empty
``cancelRequests`` array, so an IN_PROGRESS order must be re-read with getOrder before it is
judged (``needs_cancel_requests``); a request still awaiting the seller leaves the order an
upsert, with the request noted in ``reason``.

Dedupe key: ``{orderId}@{lastModifiedDate}`` (the timestamp normalised to eBay's millisecond
form), so a re-read of the same version is a duplicate and every change is a new event; the
cancellation of a version carries ``/cancelled`` so it is never mistaken for that version's
upsert. Only an order without a usable ``orderId`` or ``lastModifiedDate`` raises
(``PermanentError`` naming the field): without them there is no event to speak of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.domain.messages import ChannelEvent, ChannelEventKind
from hub.errors import PermanentError
from hub.mapping import MappingError
from plugins.marketplaces.ebay import shapes
from plugins.marketplaces.ebay.mapping import (
    MARKETPLACE,
    iso_millis,
    not_shipped_reason,
    order_from_ebay,
    parse_order,
)
from plugins.marketplaces.ebay.settings import EbaySettings

CANCELED = "CANCELED"
CANCEL_IN_PROGRESS = "IN_PROGRESS"
REQUEST_COMPLETED = "COMPLETED"
REQUEST_PENDING = "REQUESTED"
PENDING_CANCEL_REQUEST = "a cancel request awaits the seller's answer on eBay"
_ORDER_ID = re.compile(r"[^\s:]+")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def order_id(payload: Mapping[str, Any]) -> str:
    """The order's id, or PermanentError: an order without one is malformed."""
    value = payload.get("orderId")
    if not isinstance(value, str) or not _ORDER_ID.fullmatch(value):
        raise PermanentError(f"orderId: missing or not an eBay order id ({value!r:.40})")
    return value


def needs_cancel_requests(payload: Mapping[str, Any]) -> bool:
    """Whether the order's cancel requests must be read with getOrder before judging it."""
    status = payload.get("cancelStatus")
    if not isinstance(status, dict) or status.get("cancelState") != CANCEL_IN_PROGRESS:
        return False
    return not status.get("cancelRequests")


def order_event(payload: Mapping[str, Any], settings: EbaySettings) -> ChannelEvent:
    """The event for one eBay order as getOrders or getOrder returned it."""
    external_id = order_id(payload)
    updated_at = _modified(payload)
    key = f"{external_id}@{iso_millis(updated_at)}"
    base: dict[str, Any] = {
        "marketplace": MARKETPLACE,
        "account": settings.account,
        "external_id": external_id,
        "occurred_at": updated_at,
    }
    try:
        status = _cancel_status(payload)
    except MappingError as exc:
        return ChannelEvent(
            kind=ChannelEventKind.ORDER_UPSERTED, dedupe_key=key, problem=exc.problem, **base
        )
    accepted = [r for r in status.cancelRequests if _state(r) == REQUEST_COMPLETED]
    if status.cancelState == CANCELED or accepted:
        return ChannelEvent(
            kind=ChannelEventKind.ORDER_CANCELLED,
            dedupe_key=f"{key}/cancelled",
            reason=_cancel_reason(accepted or status.cancelRequests),
            **base,
        )
    try:
        raw = parse_order(payload)
        ignored = not_shipped_reason(raw)
        if ignored is not None:
            return ChannelEvent(
                kind=ChannelEventKind.IGNORED, dedupe_key=key, reason=ignored, **base
            )
        order = order_from_ebay(raw, settings)
    except MappingError as exc:
        return ChannelEvent(
            kind=ChannelEventKind.ORDER_UPSERTED, dedupe_key=key, problem=exc.problem, **base
        )
    pending = any(_state(r) == REQUEST_PENDING for r in status.cancelRequests)
    return ChannelEvent(
        kind=ChannelEventKind.ORDER_UPSERTED,
        dedupe_key=key,
        order=order,
        reason=PENDING_CANCEL_REQUEST if pending else None,
        **base,
    )


def _modified(payload: Mapping[str, Any]) -> datetime:
    raw = payload.get("lastModifiedDate")
    try:
        moment = _DATETIME.validate_python(raw)
    except ValidationError:
        raise PermanentError(f"lastModifiedDate: not a timestamp ({raw!r:.40})") from None
    if moment.tzinfo is None:
        raise PermanentError(f"lastModifiedDate: no time zone ({raw!r:.40})")
    return moment


def _cancel_status(payload: Mapping[str, Any]) -> shapes.CancelStatus:
    value = payload.get("cancelStatus")
    if value is None:
        return shapes.CancelStatus()
    try:
        return shapes.CancelStatus.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in ("cancelStatus", *error["loc"]))
        raise MappingError(where, error["msg"]) from None


def _state(request: shapes.CancelRequest) -> str:
    return (request.cancelRequestState or "").strip().upper()


def _cancel_reason(requests: list[shapes.CancelRequest]) -> str:
    for request in requests:
        parts = []
        if request.cancelReason and request.cancelReason.strip():
            parts.append(request.cancelReason.strip()[:100])
        if request.cancelInitiator and request.cancelInitiator.strip():
            parts.append(f"requested by {request.cancelInitiator.strip()[:20]}")
        if parts:
            return f"cancelled on eBay ({', '.join(parts)})"
    return "cancelled on eBay"

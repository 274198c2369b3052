"""Pure construction of channel events from WooCommerce orders, webhook- or poll-delivered.

The dedupe key is ``{id}@{date_modified_gmt}:{status}``: the same change seen twice (a webhook
and a poll, ``order.created`` and ``order.updated`` for one save, two webhooks on one topic)
has one key, a later change a new one. X-WC-Webhook-Delivery-ID is no key: WooCommerce derives it
from the webhook id and the current second (``WC_Webhook::get_new_delivery_id``), so it differs
between two deliveries of one change and repeats for different orders within a second.

Status decides the kind (see ``settings.DEFAULT_STATUSES``): cancelled, refunded, failed and
trashed orders are ORDER_CANCELLED; completed orders and unfinished checkouts IGNORED; the rest
ORDER_UPSERTED with the Order or a ``MappingProblem``. Only an order without an id raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.domain.messages import ChannelEvent, ChannelEventKind, MappingProblem
from hub.errors import PermanentError
from hub.mapping import MappingError
from plugins.marketplaces.woocommerce.mapping import (
    MARKETPLACE,
    order_from_wc,
    order_id,
)
from plugins.marketplaces.woocommerce.settings import StatusMeaning, WooCommerceSettings
from plugins.marketplaces.woocommerce.shapes import Gmt

NOTHING_TO_SHIP = "no shipping line needs a parcel (virtual goods or local pickup)"
_IGNORED_REASONS = {
    "completed": "completed on WooCommerce: already fulfilled",
    "checkout-draft": "checkout not finished (draft order)",
}
_GMT: TypeAdapter[datetime] = TypeAdapter(Gmt)


def required_order_id(value: object, field: str = "id") -> str:
    """The order id, or PermanentError: without one there is no event to speak of."""
    number = order_id(value)
    if number is None:
        raise PermanentError(f"{field}: missing or not a WooCommerce order id ({value!r:.40})")
    return number


def modified_at(payload: Mapping[str, Any]) -> datetime | None:
    """``date_modified_gmt`` as an aware UTC datetime, or None if absent or not a date."""
    try:
        return _GMT.validate_python(payload.get("date_modified_gmt"))
    except ValidationError:
        return None


def dedupe_key(external_id: str, modified: datetime | None, status: object) -> str:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else "?"
    return f"{external_id}@{stamp}:{status if isinstance(status, str) else '?'}"


def order_event(
    payload: Mapping[str, Any],
    settings: WooCommerceSettings,
    *,
    fallback_time: datetime,
    reason: str | None = None,
) -> ChannelEvent:
    """The event for one order as WooCommerce shows it now (REST JSON)."""
    external_id = required_order_id(payload.get("id"))
    status = payload.get("status")
    modified = modified_at(payload)
    base = _base(
        external_id, settings, dedupe_key(external_id, modified, status), modified or fallback_time
    )
    upserted = ChannelEventKind.ORDER_UPSERTED
    if modified is None:
        problem = MappingProblem(
            field="date_modified_gmt", message="missing or not a date: changes cannot be ordered"
        )
        return ChannelEvent(kind=upserted, problem=problem, reason=reason, **base)
    if not isinstance(status, str) or not status.strip():
        problem = MappingProblem(field="status", message="missing")
        return ChannelEvent(kind=upserted, problem=problem, reason=reason, **base)
    meaning = settings.status_meaning(status)
    if meaning is StatusMeaning.CANCELLED:
        return cancelled_event(base, status)
    if meaning is StatusMeaning.IGNORED:
        why = _IGNORED_REASONS.get(status, f"status {status}: nothing for the hub to do")
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=why, **base)
    try:
        order = order_from_wc(payload, settings)
    except MappingError as exc:
        return ChannelEvent(kind=upserted, problem=exc.problem, reason=reason, **base)
    if order is None:
        return ChannelEvent(kind=ChannelEventKind.IGNORED, reason=NOTHING_TO_SHIP, **base)
    return ChannelEvent(kind=upserted, order=order, reason=reason, **base)


def cancelled_event(base: dict[str, Any], status: str) -> ChannelEvent:
    why = "moved to the trash" if status == "trash" else status
    return ChannelEvent(
        kind=ChannelEventKind.ORDER_CANCELLED, reason=f"{why} on WooCommerce", **base
    )


def gone_event(
    external_id: str, settings: WooCommerceSettings, occurred_at: datetime, *, key: str, why: str
) -> ChannelEvent:
    """A cancellation known only from an ``order.deleted`` delivery (body ``{"id": N}``)."""
    return ChannelEvent(
        kind=ChannelEventKind.ORDER_CANCELLED,
        reason=why,
        **_base(external_id, settings, key, occurred_at),
    )


def ignored_event(
    external_id: str, settings: WooCommerceSettings, occurred_at: datetime, *, key: str, why: str
) -> ChannelEvent:
    return ChannelEvent(
        kind=ChannelEventKind.IGNORED, reason=why, **_base(external_id, settings, key, occurred_at)
    )


def _base(
    external_id: str, settings: WooCommerceSettings, key: str, occurred_at: datetime
) -> dict[str, Any]:
    return {
        "marketplace": MARKETPLACE,
        "account": settings.account_name,
        "external_id": external_id,
        "dedupe_key": key,
        "occurred_at": occurred_at,
    }

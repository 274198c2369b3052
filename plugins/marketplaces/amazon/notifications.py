"""Pure mapping of SP-API notifications (the SQS message body) to hub channel events.

Shape: ``schemas/notifications/OrderChangeNotification.json`` (ORDER_CHANGE, payload version
1.0) in github.com/amzn/selling-partner-api-models; every notification's envelope
(``NotificationType``, ``EventTime``, ``NotificationMetadata.NotificationId``) as documented in
the Notifications API use case guide.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hub.domain.messages import ChannelEvent, ChannelEventKind
from hub.errors import PermanentError
from plugins.marketplaces.amazon.mapping import MARKETPLACE, field_path
from plugins.marketplaces.amazon.schema import AmzNotificationHead, AmzOrderChangeNotification

_M = TypeVar("_M", bound=BaseModel)


def notification_events(body: bytes, *, account: str) -> list[ChannelEvent]:
    """An SP-API notification (the SQS message body) as hint events.

    ORDER_CHANGE carries no address or prices, so it cannot become an Order: a cancellation
    becomes ORDER_CANCELLED, anything else an IGNORED event whose reason is the hint
    (searchOrders polling is the truth). Other notification types are IGNORED.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # ValueError includes UnicodeDecodeError
        raise PermanentError("notification body is not JSON") from None
    head = _validate_notification(AmzNotificationHead, data)
    notification_id = head.metadata.notification_id
    if head.notification_type != "ORDER_CHANGE":
        return [
            ChannelEvent(
                kind=ChannelEventKind.IGNORED,
                marketplace=MARKETPLACE,
                account=account,
                external_id=notification_id,
                dedupe_key=notification_id,
                occurred_at=head.event_time,
                reason=f"{head.notification_type} notifications are not handled",
            )
        ]
    note = _validate_notification(AmzOrderChangeNotification, data)
    change = note.payload.order_change
    summary = change.summary
    status = summary.order_status
    if summary.fulfillment_type == "AFN":
        kind, reason = ChannelEventKind.IGNORED, "fulfilled by Amazon (FBA): nothing to ship"
    elif status == "Canceled":
        kind, reason = (
            ChannelEventKind.ORDER_CANCELLED,
            f"cancelled on Amazon ({change.trigger.change_reason})",
        )
    else:
        buyer_cancel = any(i.is_buyer_requested_cancel for i in summary.order_items)
        kind = ChannelEventKind.IGNORED
        reason = (
            f"hint: {change.order_change_type} to {status}"
            + (", buyer requested cancellation" if buyer_cancel else "")
            + "; the next searchOrders poll fetches the order"
        )
    return [
        ChannelEvent(
            kind=kind,
            marketplace=MARKETPLACE,
            account=account,
            external_id=change.amazon_order_id,
            dedupe_key=notification_id,
            occurred_at=change.trigger.time_of_order_change or note.event_time,
            reason=reason,
        )
    ]


def _validate_notification(model: type[_M], data: object) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PermanentError(f"notification: {field_path(error['loc'])}: {error['msg']}") from None

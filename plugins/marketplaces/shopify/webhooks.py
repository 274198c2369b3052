"""Pure handling of Shopify webhook deliveries: signature, headers, topic routing.

Reference: shopify.dev/docs/apps/build/webhooks (HTTPS delivery, headers ``X-Shopify-Topic``,
``-Hmac-Sha256``, ``-Shop-Domain``, ``-API-Version``, ``-Webhook-Id``, ``-Event-Id``,
``-Triggered-At``; "verify the webhook": base64 HMAC-SHA256 of the raw body keyed with the app's
client secret; "ignore duplicates": the same ``X-Shopify-Event-Id`` on every delivery of one
event) and the topic list with sample payloads at shopify.dev/docs/api/webhooks/2025-10.

Order topics carry the REST-shaped order. ``orders/edited`` carries ``{"order_edit": {...,
"order_id"}}`` and ``refunds/create`` a refund with ``order_id``: for those the plugin re-reads
the order over GraphQL (see ``refetch_target``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.domain.messages import ChannelEvent, ChannelEventKind, WebhookRequest
from hub.errors import PermanentError
from plugins.marketplaces.shopify.events import order_id, rest_order_event
from plugins.marketplaces.shopify.mapping import MARKETPLACE, numeric_id
from plugins.marketplaces.shopify.settings import ShopifySettings

HMAC_HEADER = "x-shopify-hmac-sha256"

ORDER_TOPICS: dict[str, ChannelEventKind] = {
    "orders/create": ChannelEventKind.ORDER_UPSERTED,
    "orders/updated": ChannelEventKind.ORDER_UPSERTED,
    "orders/fulfilled": ChannelEventKind.ORDER_UPSERTED,
    "orders/partially_fulfilled": ChannelEventKind.ORDER_UPSERTED,
    "orders/paid": ChannelEventKind.PAYMENT_CAPTURED,
    "orders/cancelled": ChannelEventKind.ORDER_CANCELLED,
}
REFETCH_TOPICS = frozenset({"orders/edited", "refunds/create"})

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of X-Shopify-Hmac-Sha256 over the raw body."""
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


def sign(secret: str, body: bytes) -> str:
    """The header value Shopify would send for ``body`` (for tests and local replays)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Delivery:
    topic: str
    shop_domain: str | None
    dedupe_key: str
    occurred_at: datetime
    payload: dict[str, Any]


def read_delivery(request: WebhookRequest) -> Delivery:
    """Headers and JSON body of a verified delivery; PermanentError if it is malformed."""
    headers = request.headers
    topic = (headers.get("x-shopify-topic") or "").strip()
    if not topic:
        raise PermanentError("header X-Shopify-Topic: missing")
    dedupe_key = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id")
    if not dedupe_key:
        raise PermanentError("header X-Shopify-Event-Id (or X-Shopify-Webhook-Id): missing")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise PermanentError("body: not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError("body: not a JSON object")
    return Delivery(
        topic=topic,
        shop_domain=(headers.get("x-shopify-shop-domain") or "").strip().lower() or None,
        dedupe_key=dedupe_key.strip(),
        occurred_at=_when(headers.get("x-shopify-triggered-at"))
        or _when(payload.get("updated_at"))
        or request.received_at,
        payload=payload,
    )


def refetch_target(delivery: Delivery) -> tuple[str, str] | None:
    """(order id, reason) for topics whose payload is not the order, else None."""
    payload = delivery.payload
    if delivery.topic == "orders/edited":
        edit = payload.get("order_edit")
        if not isinstance(edit, dict):
            raise PermanentError("order_edit: missing")
        edit_id = numeric_id(edit.get("id")) or "?"
        return order_id(edit.get("order_id"), "order_edit.order_id"), f"order edit {edit_id}"
    if delivery.topic == "refunds/create":
        refund_id = numeric_id(payload.get("id")) or "?"
        return order_id(payload.get("order_id"), "order_id"), f"refund {refund_id} created"
    return None


def is_foreign(delivery: Delivery, settings: ShopifySettings) -> bool:
    """A delivery for another shop: an app installed on several shops signs them all alike."""
    return bool(delivery.shop_domain) and delivery.shop_domain != settings.shop_domain


def delivery_events(delivery: Delivery, settings: ShopifySettings) -> list[ChannelEvent]:
    """Events of a delivery whose payload is the order itself (or of an unrelated topic)."""
    if is_foreign(delivery, settings):
        return [_ignored(delivery, settings, f"shop not configured: {delivery.shop_domain}")]
    kind = ORDER_TOPICS.get(delivery.topic)
    if kind is None:
        return [_ignored(delivery, settings, f"topic {delivery.topic} is not handled")]
    return [
        rest_order_event(
            delivery.payload,
            settings,
            kind=kind,
            dedupe_key=delivery.dedupe_key,
            occurred_at=delivery.occurred_at,
        )
    ]


def _ignored(delivery: Delivery, settings: ShopifySettings, reason: str) -> ChannelEvent:
    return ChannelEvent(
        kind=ChannelEventKind.IGNORED,
        marketplace=MARKETPLACE,
        account=settings.account_name,
        external_id=numeric_id(delivery.payload.get("id")) or "-",
        dedupe_key=delivery.dedupe_key,
        occurred_at=delivery.occurred_at,
        reason=reason,
    )


def _when(value: object) -> datetime | None:
    """A timestamp header or field; Shopify's X-Shopify-Triggered-At has nanoseconds."""
    if not isinstance(value, str) or not value:
        return None
    value = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())
    try:
        when = _DATETIME.validate_python(value)
    except ValidationError:
        return None
    return when if when.tzinfo is not None else None

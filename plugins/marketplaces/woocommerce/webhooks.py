"""Pure handling of WooCommerce webhook deliveries: signature, ping, headers, topic routing.

References:
- WooCommerce REST API docs, wp-api-v3 "Webhooks" ("Delivery/payload": headers
  ``X-WC-Webhook-Source|Topic|Resource|Event|Signature|ID|Delivery-ID``; the signature is "a
  base64 encoded HMAC-SHA256 hash of the payload"; topics ``order.created|updated|deleted``).
- WooCommerce source ``plugins/woocommerce/includes/class-wc-webhook.php`` (github.com/
  woocommerce/woocommerce): ``generate_signature`` hashes the JSON body as sent with the
  webhook's secret; ``build_payload`` sends only ``{"id": N}`` for ``deleted`` events (the order
  was moved to the trash: hooks ``wp_trash_post`` / ``woocommerce_trash_order``);
  ``order.restored`` fires on untrash with the full order; ``deliver_ping`` posts the unsigned
  form body ``webhook_id=N`` when a webhook is saved and wants HTTP 200 back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from hub.domain.messages import WebhookRequest
from hub.errors import PermanentError

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
SOURCE_HEADER = "x-wc-webhook-source"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
DELETED_TOPIC = "order.deleted"
_PING_BODY = re.compile(rb"webhook_id=[0-9]{1,20}")


def sign(secret: str, body: bytes) -> str:
    """The X-WC-Webhook-Signature WooCommerce sends for ``body`` (tests, local replays)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of the signature over the raw body."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode())


def is_ping(request: WebhookRequest) -> bool:
    """The ping WooCommerce posts when a webhook is saved: form-encoded ``webhook_id=N`` and no
    webhook headers. It carries no order and no signature; answering 200 is all it wants."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return (
        content_type == "application/x-www-form-urlencoded"
        and _PING_BODY.fullmatch(request.body.strip()) is not None
        and not any(name.startswith("x-wc-webhook-") for name in request.headers)
    )


@dataclass(frozen=True)
class Delivery:
    topic: str
    body_hash: str
    payload: dict[str, Any]
    source_host: str | None
    """Host of X-WC-Webhook-Source, the sending site's ``home_url()``: the REST API's too."""


def read_delivery(request: WebhookRequest) -> Delivery:
    """Headers and JSON body of a verified delivery; PermanentError if it is malformed."""
    topic = (request.headers.get(TOPIC_HEADER) or "").strip().lower()
    if not topic:
        raise PermanentError("header X-WC-Webhook-Topic: missing")
    try:
        # Amounts stay exact: JSON numbers become Decimal, never float.
        payload = json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PermanentError("body: not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError("body: not a JSON object")
    if topic.startswith("order.") and isinstance(payload.get("order"), dict):
        raise PermanentError(
            "body: a legacy REST API payload; set the webhook's API version to "
            "'WP REST API Integration v3'"
        )
    return Delivery(
        topic=topic,
        body_hash=hashlib.sha256(request.body).hexdigest()[:16],
        payload=payload,
        source_host=(urlsplit(request.headers.get(SOURCE_HEADER, "")).hostname or None),
    )

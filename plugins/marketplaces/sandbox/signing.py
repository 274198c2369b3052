"""How the sandbox channel signs and identifies its webhook deliveries (Shopify's scheme).

The signature is the base64 HMAC-SHA256 of the raw body: the receiver must check the bytes it
got, before parsing. The event id is derived from what happened (topic, order, its
``updated_at``), so a redelivery of the same event carries the same id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

TOPIC_HEADER = "x-sandbox-topic"
SIGNATURE_HEADER = "x-sandbox-hmac-sha256"
EVENT_ID_HEADER = "x-sandbox-event-id"
TRIGGERED_AT_HEADER = "x-sandbox-triggered-at"
ACCOUNT_HEADER = "x-sandbox-account"

ORDERS_CREATE = "orders/create"
ORDERS_UPDATED = "orders/updated"
ORDERS_CANCELLED = "orders/cancelled"

_EVENT_NAMESPACE = uuid.UUID("5b0f3c1e-8d7a-4f2b-9c61-3e2d4a5b6c70")


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_authentic(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    given = headers.get(SIGNATURE_HEADER)
    if not given:
        return False
    # Compared as bytes: compare_digest refuses non-ASCII str, and a forged header may be one.
    return hmac.compare_digest(given.encode("utf-8"), signature(body, secret).encode("ascii"))


def event_id(account: str, topic: str, order_id: object, updated_at: object) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{account}|{topic}|{order_id}|{updated_at}"))

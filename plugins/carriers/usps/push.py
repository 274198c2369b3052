"""USPS tracking pushes (Subscriptions - Tracking 3.2) -> the hub's tracking events (pure).

Each push is a POST of a JSON envelope ``{subscriptionId, subscriptionType, timestamp,
payload, links}`` whose ``payload`` is a *string* of JSON. USPS signs ``timestamp + payload``
(the two strings as received, concatenated) with HMAC-SHA256 keyed on the subscription's
``secret`` and sends the Base64 digest in ``X-HMAC`` (``hmac-header`` is its older name).
OAuth tokens are not sent on pushes: the signature is the only proof a push came from USPS,
so a push without one, or with a wrong one, or to a hub without a secret, is refused.

``subscriptionType`` ``TRACKING`` carries a tracking summary of one package shaped like the
Tracking 3.2 answer (``trackingNumber``, ``statusCategory``, ``trackingEvents``...), read by
:func:`plugins.carriers.usps.tracking.parse_tracking`. Other types (the scan event extract of
MID subscriptions) are acknowledged and not read: polling still covers those packages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from hub.domain.messages import TrackingUpdate
from hub.errors import InvalidSignatureError, PermanentError
from plugins.carriers.usps.client import checked_tracking_number
from plugins.carriers.usps.tracking import parse_tracking

log = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("x-hmac", "hmac-header")
TRACKING_TYPE = "TRACKING"


@dataclass(frozen=True)
class Envelope:
    subscription_type: str
    payload: str


def signature(secret: str, timestamp: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), (timestamp + payload).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verified_envelope(headers: dict[str, str], body: bytes, secret: str | None) -> Envelope:
    """The envelope, once its signature holds; InvalidSignatureError otherwise."""
    if not secret:
        raise InvalidSignatureError("USPS push: no tracking_webhook_secret is configured")
    given = next((headers[h] for h in SIGNATURE_HEADERS if headers.get(h)), "")
    if not given:
        raise InvalidSignatureError("USPS push: no X-HMAC signature")
    envelope = _envelope(body)
    timestamp, payload = envelope.get("timestamp"), envelope.get("payload")
    if not isinstance(timestamp, str) or not isinstance(payload, str):
        raise InvalidSignatureError("USPS push: no timestamp and payload to check the signature on")
    expected = signature(secret, timestamp, payload)
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise InvalidSignatureError("USPS push: wrong X-HMAC signature")
    kind = envelope.get("subscriptionType")
    return Envelope(kind.strip().upper() if isinstance(kind, str) else TRACKING_TYPE, payload)


def parse_push(envelope: Envelope) -> TrackingUpdate:
    if envelope.subscription_type != TRACKING_TYPE:
        log.info("USPS push of type %s acknowledged, not read", envelope.subscription_type[:40])
        return TrackingUpdate(events=())
    try:
        payload = json.loads(envelope.payload)
    except ValueError:
        raise PermanentError("USPS push: payload is not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError("USPS push: payload is not an object")
    number = payload.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        raise PermanentError("USPS push: payload has no trackingNumber")
    try:
        number = checked_tracking_number(number.strip())
    except PermanentError:
        raise PermanentError("USPS push: trackingNumber is not a USPS tracking number") from None
    return parse_tracking(number, payload)


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise InvalidSignatureError("USPS push: body is not a JSON envelope") from None
    if not isinstance(envelope, dict):
        raise InvalidSignatureError("USPS push: body is not a JSON envelope")
    return envelope

"""Shipment Tracking - Unified - Push messages -> what the adapter does with them (pure).

Sources: DHL's Postman and Bruno collections for "Shipment Tracking - Unified - Push" v1.2
(developer.dhl.com) and its "Push API 101" guide. A subscription (``POST /subscription``, see
:mod:`.client`) names a hook: an https ``uri`` and an ``ApiKeyAuthentication`` (a header name
and a token DHL sends back on every message). DHL then posts JSON messages with a ``scope``:

- ``subscription.validate``: ``{self, secret}``; the subscriber activates the subscription
  with ``POST /subscription/{id}`` and header ``DHL-API-Hook-Secret: <secret>``;
- ``subscription.ready``: the subscription is live;
- ``subscription.failure``: ``{failure{type, title, status, detail}, self}``;
- ``subscription.push``: ``{self, shipments[]}``, each shipment shaped exactly like a shipment
  of the Shipment Tracking - Unified answer (``id``, ``service``, ``status``, ``events[]``,
  ``estimatedTimeOfDelivery``), read here by :func:`.tracking.shipment_events`.

``self`` is ``.../tracking/push/v1/subscription/{id}``: only the id is read from it, and the
activation URL is built from the configured ``push_api_url``, never from the message. DHL
retries a delivery that failed after about 1 h and 6 h, then drops it.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent
from hub.errors import InvalidSignatureError, PermanentError
from plugins.carriers.dhl.schemas import TrackingResponse, validated
from plugins.carriers.dhl.tracking import shipment_events

WHAT = "DHL push"
SUBSCRIPTION_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SECRET = re.compile(r"^[\x21-\x7e]{1,512}$")
"""Visible ASCII: the secret goes back to DHL as a header value."""
_SHIPMENT_ID = re.compile(r"^[A-Za-z0-9]{6,40}$")
"""As :func:`.client.checked_tracking_number`: the id becomes a tracking workflow's id."""


class Scope(StrEnum):
    VALIDATE = "subscription.validate"
    READY = "subscription.ready"
    FAILURE = "subscription.failure"
    PUSH = "subscription.push"


SCOPES = frozenset(s.value for s in Scope)
NO_EVENTS = TrackingUpdate(events=())


@dataclass(frozen=True)
class PushMessage:
    scope: Scope
    subscription_id: str | None
    """From ``self``; always set for ``validate`` (it is needed to activate)."""
    secret: str | None = None
    """The hook secret of a ``validate`` message: never log it."""
    failure: str | None = None
    """DHL's words on a ``failure`` message."""
    update: TrackingUpdate = NO_EVENTS
    """The events of a ``push`` message."""


def check_token(headers: dict[str, str], header: str, expected: str | None) -> None:
    """DHL authenticates a message with the subscription's token, sent back verbatim."""
    if not expected:
        raise InvalidSignatureError(f"{WHAT}: no push_token is configured")
    given = headers.get(header.lower(), "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignatureError(f"{WHAT}: wrong or missing {header} header")


def checked_subscription_id(value: str) -> str:
    if not SUBSCRIPTION_ID.fullmatch(value):
        raise PermanentError(f"{WHAT}: {value[:40]!r} is not a subscription id")
    return value


def subscription_id_of(answer: Any) -> str | None:
    """The id in DHL's answer to a subscription (``id``, ``subscriptionId`` or ``self``)."""
    if not isinstance(answer, dict):
        return None
    for key in ("id", "subscriptionId"):
        value = answer.get(key)
        if isinstance(value, str) and SUBSCRIPTION_ID.fullmatch(value):
            return value
    return _id_of_self(answer.get("self"))


def parse_push(body: bytes, zone: ZoneInfo) -> PushMessage:
    try:
        payload = json.loads(body)
    except ValueError:
        raise PermanentError(f"{WHAT}: body is not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError(f"{WHAT}: body is not an object")
    raw_scope = payload.get("scope")
    if not isinstance(raw_scope, str) or raw_scope not in SCOPES:
        shown = raw_scope[:40] if isinstance(raw_scope, str) else type(raw_scope).__name__
        raise PermanentError(f"{WHAT}: unknown scope {shown!r}")
    scope = Scope(raw_scope)
    subscription = _id_of_self(payload.get("self"))
    if scope is Scope.VALIDATE:
        return _validate(payload, subscription)
    if scope is Scope.FAILURE:
        return PushMessage(scope, subscription, failure=_failure(payload.get("failure")))
    if scope is Scope.READY:
        return PushMessage(scope, subscription)
    return PushMessage(scope, subscription, update=_update(payload.get("shipments"), zone))


def _validate(payload: dict[str, Any], subscription: str | None) -> PushMessage:
    if subscription is None:
        raise PermanentError(f"{WHAT}: validate message without a subscription in 'self'")
    secret = payload.get("secret")
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        # The value is never quoted: it is a credential.
        raise PermanentError(f"{WHAT}: validate message without a usable 'secret'")
    return PushMessage(Scope.VALIDATE, subscription, secret=secret)


def _id_of_self(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        path = urlsplit(value.strip()).path
    except ValueError:
        return None
    *_, parent, last = ["", "", *path.rstrip("/").split("/")]
    return last if parent == "subscription" and SUBSCRIPTION_ID.fullmatch(last) else None


def _failure(value: object) -> str:
    if not isinstance(value, dict):
        return "no details"
    words = [value.get(k) for k in ("title", "detail")]
    text = ": ".join(w.strip() for w in words if isinstance(w, str) and w.strip())
    status = value.get("status")
    code = f" (HTTP {status})" if isinstance(status, int) and not isinstance(status, bool) else ""
    return (text or "no details")[:300] + code


def _update(shipments: object, zone: ZoneInfo) -> TrackingUpdate:
    if not isinstance(shipments, list):
        raise PermanentError(f"{WHAT}: push message without a shipments list")
    parsed = validated(TrackingResponse, {"shipments": shipments}, WHAT).shipments
    events: list[TrackingEvent] = []
    for index, shipment in enumerate(parsed):
        number = (shipment.id or "").strip()
        if not _SHIPMENT_ID.fullmatch(number):
            raise PermanentError(f"{WHAT}: shipments.{index}.id is not a DHL shipment number")
        events += shipment_events(shipment, number, zone, f"shipments.{index}", WHAT)
    return TrackingUpdate(events=tuple(events))

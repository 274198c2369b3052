"""Subscriptions - Tracking 3.2: asking USPS to push tracking updates (pure, no I/O here).

Request: ``POST /subscriptions-tracking/v3/subscriptions`` with a bearer token and
``{listenerURL, secret, filterProperties, adminNotification}``: ``secret`` of at least 32
characters (USPS signs each push with it), ``filterProperties`` either ``{MID}`` or
``{trackingNumber}``, ``adminNotification`` a list of ``{email}`` told when USPS suspends or
deletes the subscription (developers.usps.com "Subscriptions - Tracking"; the required fields
as USPS's OpenAPI validation names them, per integrators who created subscriptions live).

The hub subscribes the label owner's MID once, not each tracking number: USPS refuses a second
live subscription for the same listener URL, and one MID subscription covers every label the
hub buys. A refused duplicate answers 400 naming the live ``subscriptionId``, which the hub
then records as its own. USPS deletes a subscription after 30 days without events (warning at
25): a record older than ``RECHECK`` is checked by subscribing again, which either names the
live subscription (a refused duplicate) or makes a new one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from plugins.carriers.usps.settings import UspsSettings

SUBSCRIPTIONS_PATH = "/subscriptions-tracking/v3/subscriptions"
RECHECK = timedelta(days=7)
"""Well inside USPS's 30 days, at the cost of one call a week."""
_ID_KEYS = ("subscriptionId", "subscriptionID", "id")
_DUPLICATE = re.compile(
    r"subscription\s*id\W{0,4}([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})", re.I
)


@dataclass(frozen=True)
class Subscription:
    """A subscription the hub made (or found live) for one MID, listener URL and secret."""

    subscription_id: str
    fingerprint: str
    checked_at: datetime

    def holds_for(self, fingerprint: str, now: datetime) -> bool:
        """Made for these settings and recently known to be live."""
        return self.fingerprint == fingerprint and now - self.checked_at < RECHECK


def fingerprint(settings: UspsSettings) -> str:
    """What a subscription was made for; a changed URL, MID or secret needs a new one. The
    secret enters only through a hash, so the state file holds nothing secret."""
    secret = settings.tracking_webhook_secret
    material = "\n".join(
        (
            settings.mid,
            settings.tracking_webhook_url or "",
            secret.get_secret_value() if secret else "",
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()


def subscription_body(settings: UspsSettings) -> dict[str, Any]:
    secret, email = settings.tracking_webhook_secret, settings.tracking_webhook_email
    if not (settings.tracking_webhook_url and secret and email):
        raise ValueError("tracking webhook settings are incomplete")
    return {
        "listenerURL": settings.tracking_webhook_url,
        "secret": secret.get_secret_value(),
        "filterProperties": {"MID": settings.mid},
        "adminNotification": [{"email": email}],
    }


def created_id(payload: Any) -> str | None:
    """The new subscription's id from USPS's answer."""
    if isinstance(payload, dict):
        for key in _ID_KEYS:
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def duplicate_of(error_text: str) -> str | None:
    """The live subscription a refused duplicate names, if the refusal names one."""
    match = _DUPLICATE.search(error_text)
    return match.group(1) if match else None


def dumps(subscription: Subscription) -> str:
    return json.dumps(
        {
            "subscription_id": subscription.subscription_id,
            "fingerprint": subscription.fingerprint,
            "checked_at": subscription.checked_at.isoformat(),
        }
    )


def loads(text: str) -> Subscription | None:
    """The recorded subscription; None when the record is unreadable (subscribe again)."""
    try:
        data = json.loads(text)
        checked_at = datetime.fromisoformat(data["checked_at"])
        if checked_at.tzinfo is None:
            return None
        return Subscription(str(data["subscription_id"]), str(data["fingerprint"]), checked_at)
    except (ValueError, KeyError, TypeError):
        return None

"""Tracking pushes from the sandbox carrier: signature, wire format, mapping. Pure.

Wire format, as the carrier sends it (its own codes, not the hub's statuses)::

    POST  x-sandbox-signature: base64(HMAC-SHA256(secret, raw body))
    {"events": [{"tracking_number": "SB2...", "code": "OD", "description": "...",
                 "location": "Koeln, DE", "occurred_at": "2026-03-02T09:00:00+00:00",
                 "estimated_delivery": "2026-03-02T18:00:00+00:00"}]}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import PermanentError
from plugins.carriers.sandbox.timeline import CODES

SIGNATURE_HEADER = "x-sandbox-signature"


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_authentic(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Constant-time check of the signature header (names lower-cased) over the raw body."""
    given = headers.get(SIGNATURE_HEADER)
    if not given:
        return False
    return hmac.compare_digest(given.encode(), signature(secret, body).encode())


class WireEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    tracking_number: str = Field(min_length=1)
    code: str = Field(min_length=1)
    description: str = ""
    location: str | None = None
    occurred_at: AwareDatetime
    estimated_delivery: AwareDatetime | None = None


class WirePayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    events: list[WireEvent]


def encode(events: Sequence[TrackingEvent]) -> bytes:
    payload = WirePayload(
        events=[
            WireEvent(
                tracking_number=e.tracking_number,
                code=e.carrier_code,
                description=e.description,
                location=e.location,
                occurred_at=e.occurred_at,
                estimated_delivery=e.estimated_delivery,
            )
            for e in events
        ]
    )
    return payload.model_dump_json().encode()


def decode(body: bytes) -> list[TrackingEvent]:
    """Map a verified push to tracking events; a malformed body names the field at fault."""
    try:
        payload = WirePayload.model_validate(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PermanentError(f"tracking push is not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise PermanentError(f"tracking push field {where}: {first['msg']}") from None
    return [_event(wire) for wire in payload.events]


def _event(wire: WireEvent) -> TrackingEvent:
    # A code the carrier added after this mapping was written stays visible, as "unknown".
    status, default_description = CODES.get(wire.code, (TrackingStatus.UNKNOWN, ""))
    return TrackingEvent(
        tracking_number=wire.tracking_number,
        status=status,
        carrier_code=wire.code,
        description=wire.description or default_description,
        location=wire.location,
        occurred_at=wire.occurred_at,
        estimated_delivery=wire.estimated_delivery,
    )

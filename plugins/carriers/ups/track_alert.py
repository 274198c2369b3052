"""UPS Track Alert pushes -> the hub's tracking events (pure).

Shape: UPSTrackAlert.yaml (UPS-API/api-documentation), webhook ``TrackingEvent``: a POST per
event with header ``credential`` (the opaque string given in the subscription's
``destination``) and a ``TrackingEventRequest`` body: ``trackingNumber``, ``localActivityDate``
/ ``localActivityTime`` and ``gmtActivityDate`` / ``gmtActivityTime`` (YYYYMMDD / HHMMSS),
``activityLocation{city, stateProvince, postalCode, country}``, ``activityStatus{type, code,
description, descriptionCode}``, ``scheduledDeliveryDate``, ``actualDeliveryDate``/``Time``.
Statuses map as in the Track API (see tracking.py): type D with descriptionCode 011 or an
actual delivery date is delivered.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, time

from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import InvalidSignatureError, PermanentError
from plugins.carriers.ups.mapping import ups_datetime
from plugins.carriers.ups.tracking import DELIVERED_STATUS_CODE, STATUS_BY_CODE, STATUS_BY_TYPE

CREDENTIAL_HEADER = "credential"


def check_credential(headers: dict[str, str], expected: str | None) -> None:
    """Track Alert authenticates with the subscription's credential, sent back verbatim."""
    if not expected:
        raise InvalidSignatureError("UPS Track Alert: no track_alert_credential is configured")
    given = headers.get(CREDENTIAL_HEADER, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InvalidSignatureError("UPS Track Alert: wrong or missing credential header")


def parse_track_alert(body: bytes) -> TrackingEvent:
    try:
        payload = json.loads(body)
    except ValueError:
        raise PermanentError("UPS Track Alert: body is not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError("UPS Track Alert: body is not an object")
    number = _text(payload, "trackingNumber").strip()
    if not number:
        raise PermanentError("UPS Track Alert: trackingNumber is missing")
    status = payload.get("activityStatus")
    if not isinstance(status, dict):
        raise PermanentError("UPS Track Alert: activityStatus is missing")
    kind, code = _text(status, "type").upper(), _text(status, "code").upper()
    occurred = _moment(payload)
    if occurred is None:
        raise PermanentError("UPS Track Alert: gmtActivityDate/localActivityDate is not a date")
    delivered = kind == "D" and (
        _text(status, "descriptionCode") == DELIVERED_STATUS_CODE
        or bool(_text(payload, "actualDeliveryDate"))
    )
    return TrackingEvent(
        tracking_number=number,
        status=TrackingStatus.DELIVERED if delivered else _status(kind, code),
        carrier_code=code or kind or "?",
        description=_text(status, "description"),
        location=_location(payload.get("activityLocation")),
        occurred_at=occurred,
        estimated_delivery=ups_datetime(
            _text(payload, "scheduledDeliveryDate"), None, default=time(23, 59, 59)
        ),
    )


def _status(kind: str, code: str) -> TrackingStatus:
    by_code = STATUS_BY_CODE.get(code)
    if by_code is not None and kind != "D":
        return by_code
    return STATUS_BY_TYPE.get(kind, TrackingStatus.UNKNOWN)


def _moment(payload: dict[str, object]) -> datetime | None:
    midnight = time(0, 0, 0)
    gmt = ups_datetime(
        _text(payload, "gmtActivityDate"), _text(payload, "gmtActivityTime"), default=midnight
    )
    if gmt is not None:
        return gmt
    # Local time of an unknown zone: read as UTC rather than drop the event.
    return ups_datetime(
        _text(payload, "localActivityDate"), _text(payload, "localActivityTime"), default=midnight
    )


def _text(mapping: dict[str, object], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _location(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = [_text(value, k).strip() for k in ("city", "stateProvince", "country")]
    return ", ".join(p for p in parts if p) or None

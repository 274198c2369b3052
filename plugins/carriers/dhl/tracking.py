"""Shipment Tracking - Unified answers -> the hub's normalized tracking events (pure).

Request: ``GET https://api-eu.dhl.com/track/shipments?trackingNumber=...&service=parcel-de
&language=en`` with header ``DHL-API-Key`` (developer.dhl.com/api-reference/shipment-tracking,
v1.5.8). Answer: ``shipments[]``, each with a ``status`` and ``events[]`` (newest first) of
``{timestamp, location.address{countryCode, postalCode, addressLocality}, statusCode, status,
description}``; ``statusCode`` is one of ``pre-transit``, ``transit``, ``delivered``,
``failure``, ``unknown`` (``supermodelIoLogisticsTrackingShipmentEvent.statusCode``).
parcel-de timestamps carry no offset (e.g. ``2022-04-05T19:01:00``): they are German local
time and read in ``tracking_timezone``.

Mapping: ``statusCode`` gives the coarse status; the event's words (DHL's ``status`` /
``description``, English or German) refine it where the code is too coarse: out for delivery,
ready for pickup and failed attempts are all ``transit`` or ``failure`` to DHL, and a parcel
delivered back to its sender is ``delivered``. The raw ``statusCode`` is kept as
``carrier_code`` ("unknown" when DHL sent none) with DHL's words as the description.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import PermanentError
from plugins.carriers.dhl.schemas import (
    TrackedShipment,
    TrackingEventModel,
    TrackingResponse,
    validated,
)

S = TrackingStatus

CODE_STATUS: dict[str, TrackingStatus] = {
    "pre-transit": S.PRE_TRANSIT,
    "transit": S.IN_TRANSIT,
    "delivered": S.DELIVERED,
    "failure": S.EXCEPTION,
    "unknown": S.UNKNOWN,
}


def _patterns(*pairs: tuple[str, TrackingStatus]) -> tuple[tuple[re.Pattern[str], S], ...]:
    return tuple((re.compile(p, re.IGNORECASE), s) for p, s in pairs)


RETURNED = _patterns(
    (
        r"return(ed|ing)? to (the )?sender|back to the sender|being returned|"
        r"an den absender|zurück(gesendet|geschickt)|rücksendung|retoure",
        S.RETURN_TO_SENDER,
    ),
)
FAILED = _patterns(
    (
        r"could not be delivered|not (be )?delivered|delivery attempt|unsuccessful|"
        r"recipient (was )?not|nicht (zugestellt|angetroffen)|zustellversuch",
        S.DELIVERY_FAILED,
    ),
)
PICKUP = _patterns(
    (
        r"(ready|available) for (pick[- ]?up|collection)|can be (picked up|collected)|"
        r"zur abholung|abholbereit|liegt .*bereit",
        S.AVAILABLE_FOR_PICKUP,
    ),
)
OUT_FOR_DELIVERY = _patterns(
    (
        r"out for delivery|(loaded onto|on) the delivery vehicle|with courier for delivery|"
        r"in zustellung|zustellfahrzeug",
        S.OUT_FOR_DELIVERY,
    ),
)
ANY_WORDING = (
    *RETURNED,
    *FAILED,
    *PICKUP,
    *OUT_FOR_DELIVERY,
    *_patterns(
        (r"\bdelivered\b|zugestellt", S.DELIVERED),
        (r"electronically|instruction data|label (created|printed)|elektronisch", S.PRE_TRANSIT),
        (
            r"transit|processed|arrived|departed|sorted|parcel cent(er|re)|\bhub\b|"
            r"handed over|accepted|posted|paketzentrum|bearbeitet",
            S.IN_TRANSIT,
        ),
    ),
)
"""Order matters: negative and specific wordings before the "delivered" they may contain."""

REFINE: dict[TrackingStatus, tuple[tuple[re.Pattern[str], S], ...]] = {
    S.PRE_TRANSIT: (),
    S.IN_TRANSIT: (*RETURNED, *FAILED, *PICKUP, *OUT_FOR_DELIVERY),
    S.DELIVERED: RETURNED,
    S.EXCEPTION: (*RETURNED, *PICKUP, *FAILED),
    S.UNKNOWN: ANY_WORDING,
}


def status_of(code: str | None, wording: str) -> TrackingStatus:
    base = CODE_STATUS.get((code or "").strip().lower(), S.UNKNOWN)
    for pattern, status in REFINE[base]:
        if pattern.search(wording):
            return status
    return base


def _instant(value: str | None, field: str, zone: ZoneInfo, what: str = "DHL tracking") -> datetime:
    if not value or not value.strip():
        raise PermanentError(f"{what}: {field} is missing")
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PermanentError(f"{what}: {field} is not a date-time: {value[:40]!r}") from None


def _location(event: TrackingEventModel) -> str | None:
    address = event.location.address if event.location else None
    if address is None:
        return None
    place = " ".join(
        p.strip() for p in (address.postalCode or "", address.addressLocality or "") if p.strip()
    )
    parts = [p for p in (place, (address.countryCode or "").strip()) if p]
    return ", ".join(parts) or None


def _wording(event: TrackingEventModel) -> str:
    return " ".join(
        dict.fromkeys(t.strip() for t in (event.status, event.description) if t and t.strip())
    )


def _pick(shipments: list[TrackedShipment], number: str, service: str | None) -> TrackedShipment:
    for shipment in shipments:
        if (shipment.id or "").strip() == number:
            return shipment
    for shipment in shipments:
        if service and shipment.service == service:
            return shipment
    return shipments[0]


def _estimate(shipment: TrackedShipment, zone: ZoneInfo) -> datetime | None:
    """DHL's estimate, if it reads as a date-time: a bad estimate does not void the events."""
    frame = shipment.estimatedDeliveryTimeFrame
    value = shipment.estimatedTimeOfDelivery or (frame.estimatedThrough if frame else None)
    if not value:
        return None
    try:
        return _instant(value, "estimatedTimeOfDelivery", zone)
    except PermanentError:
        return None


def parse_tracking(
    tracking_number: str, payload: Any, zone: ZoneInfo, service: str | None = None
) -> TrackingUpdate:
    """The shipment's events, oldest first; the newest carries DHL's delivery estimate."""
    answer = validated(TrackingResponse, payload, f"DHL tracking of {tracking_number}")
    if not answer.shipments:
        return TrackingUpdate(events=())
    shipment = _pick(answer.shipments, tracking_number, service)
    index = answer.shipments.index(shipment)
    events = shipment_events(shipment, tracking_number, zone, f"shipments.{index}")
    return TrackingUpdate(events=tuple(events))


def shipment_events(
    shipment: TrackedShipment,
    tracking_number: str,
    zone: ZoneInfo,
    at: str,
    what: str = "DHL tracking",
) -> list[TrackingEvent]:
    """One shipment's events, oldest first; the newest carries DHL's delivery estimate. ``at``
    says where the shipment sits in the payload (for messages). Pushed shipments (:mod:`.push`)
    are read the same way."""
    raw = list(enumerate(shipment.events))
    field = f"{at}.events"
    if not raw and shipment.status is not None:
        raw, field = [(0, shipment.status)], f"{at}.status"
    events = []
    for position, event in raw:
        wording = _wording(event)
        code = (event.statusCode or "").strip()
        if not code and not wording:
            continue  # neither a code nor words: nothing to report
        where = f"{field}.{position}" if field.endswith("events") else field
        events.append(
            TrackingEvent(
                tracking_number=tracking_number,
                status=status_of(code, wording),
                carrier_code=code or "unknown",
                description=wording,
                location=_location(event),
                occurred_at=_instant(event.timestamp, f"{where}.timestamp", zone, what),
            )
        )
    if not events:
        return []
    events.sort(key=lambda e: e.occurred_at)
    events[-1] = events[-1].model_copy(update={"estimated_delivery": _estimate(shipment, zone)})
    return events

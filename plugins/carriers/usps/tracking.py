"""Pure mapping of USPS tracking answers to the hub's TrackingUpdate (no I/O here).

Answer: Package Tracking and Notification 3.2.6, ``GET /tracking/v3/tracking/{trackingNumber}
?expand=DETAIL`` -> ``TrackingDetails`` with ``trackingEvents`` (``TrackingEvent``: ``eventType``,
``eventTimestamp`` in local time, ``GMTTimestamp``/``GMTOffset``, ``eventCity``/``eventState``/
``eventZIP``/``eventCountry``, ``eventCode``) newest first, plus the package's ``statusCategory``
and ``expectedDeliveryTimeStamp`` / ``predictedDeliveryDate``. Example: USPS/api-examples README,
"Tracking - Single Request - Detail".

Event codes: USPS Publication 199 (postalpro.usps.com/pub199), Appendix G-4 "USPS Domestic
Tracking Scan Events", which the spec names as the lookup table for ``eventCode``. A code not
in the table falls back to the event's wording, then (for the newest event) to the package's
``statusCategory``; the raw code is always kept as ``carrier_code``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import PermanentError
from plugins.carriers.usps.mapping import validated
from plugins.carriers.usps.schemas import TrackingDetails
from plugins.carriers.usps.schemas import TrackingEvent as UspsEvent

S = TrackingStatus


def _codes(status: TrackingStatus, *codes: str) -> dict[str, TrackingStatus]:
    return dict.fromkeys(codes, status)


EVENT_STATUS: dict[str, TrackingStatus] = {
    # Label created / electronic shipping information received.
    **_codes(S.PRE_TRANSIT, "GX", "MA"),
    # Accepted, moving through the network, handed between USPS and shipping partners.
    **_codes(
        S.IN_TRANSIT,
        "03", "06", "07", "10", "19", "41", "42", "71", "80", "81", "82",
        "AD", "EF", "OA", "PA", "PC", "SF", "TM", "UA",
    ),
    **_codes(S.OUT_FOR_DELIVERY, "OF"),
    **_codes(S.AVAILABLE_FOR_PICKUP, "14", "16"),
    # Notice left: business closed, receptacle full or blocked, no secure location, no access.
    **_codes(S.DELIVERY_FAILED, "02", "30", "51", "52", "53", "54", "55", "56"),
    # Delivered, picked up by an agent, picked up at the Post Office.
    **_codes(S.DELIVERED, "01", "17", "43"),
    # Return to sender: no such number, insufficient address, moved, vacant, unclaimed...
    **_codes(
        S.RETURN_TO_SENDER, "09", "21", "22", "23", "24", "25", "26", "27", "28", "29", "31"
    ),
    # Refused, undeliverable as addressed, missent, dead letter, mis-shipped, recalled,
    # delivery status not updated.
    **_codes(S.EXCEPTION, "04", "05", "08", "11", "15", "44", "DX"),
}  # fmt: skip

CATEGORY_STATUS: dict[str, TrackingStatus] = {
    "pre-shipment": S.PRE_TRANSIT,
    "label created, not yet in system": S.PRE_TRANSIT,
    "accepted": S.IN_TRANSIT,
    "in transit": S.IN_TRANSIT,
    "out for delivery": S.OUT_FOR_DELIVERY,
    "available for pickup": S.AVAILABLE_FOR_PICKUP,
    "delivery attempt": S.DELIVERY_FAILED,
    "delivered": S.DELIVERED,
    "alert": S.EXCEPTION,
    "return to sender": S.RETURN_TO_SENDER,
}
"""``statusCategory`` values (Pub 199 G-4, "External Status Category"), lower-cased."""

WORDING: tuple[tuple[re.Pattern[str], TrackingStatus], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), status)
    for pattern, status in (
        # Order matters: negative wordings before the "delivered" they contain.
        (r"return(ed)? to sender", S.RETURN_TO_SENDER),
        (r"not (?:be )?delivered|undeliverable|refused|missent|mis-shipped", S.EXCEPTION),
        (r"notice left|delivery attempt|attempted", S.DELIVERY_FAILED),
        (r"out for delivery", S.OUT_FOR_DELIVERY),
        (r"available for pick-?up|held at post office", S.AVAILABLE_FOR_PICKUP),
        (r"\bdelivered\b", S.DELIVERED),
        (r"label created|pre-shipment|shipping label", S.PRE_TRANSIT),
        (r"in transit|arrived|departed|processed|accepted|in possession", S.IN_TRANSIT),
    )
)


def status_of(code: str | None, wording: str | None) -> TrackingStatus:
    if code and code.strip().upper() in EVENT_STATUS:
        return EVENT_STATUS[code.strip().upper()]
    for pattern, status in WORDING:
        if wording and pattern.search(wording):
            return status
    return S.UNKNOWN


_OFFSET = re.compile(r"^([+-])(\d{1,2}):?(\d{2})$")


def _offset(value: str | None) -> timezone | None:
    """``GMTOffset`` such as ``-7:00``."""
    match = _OFFSET.fullmatch((value or "").strip())
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if sign == "-" else delta)


def _instant(value: str, field: str, tz: timezone | None) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PermanentError(f"USPS tracking: {field} is not a date-time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        # Local scan time without an offset: use GMTOffset when USPS gave one, else read it
        # as UTC (hours may shift; the order of a package's events does not).
        moment = moment.replace(tzinfo=tz or UTC)
    return moment


def _occurred_at(event: UspsEvent, index: int) -> datetime:
    if event.GMTTimestamp:
        return _instant(event.GMTTimestamp, f"trackingEvents.{index}.GMTTimestamp", UTC)
    if event.eventTimestamp:
        field = f"trackingEvents.{index}.eventTimestamp"
        return _instant(event.eventTimestamp, field, _offset(event.GMTOffset))
    raise PermanentError(f"USPS tracking: trackingEvents.{index} has no eventTimestamp")


def _location(event: UspsEvent) -> str | None:
    city = (event.eventCity or "").strip()
    region = " ".join(
        p for p in ((event.eventState or "").strip(), (event.eventZIP or "").strip()) if p
    )
    country = (event.eventCountry or "").strip()
    parts = [p for p in (city, region) if p]
    if country and country.upper() not in {"US", "USA", "UNITED STATES"}:
        parts.append(country)
    return ", ".join(parts) or None


def _estimated_delivery(details: TrackingDetails) -> datetime | None:
    if details.expectedDeliveryTimeStamp:
        return _instant(details.expectedDeliveryTimeStamp, "expectedDeliveryTimeStamp", UTC)
    for field in ("expectedDeliveryDate", "predictedDeliveryDate"):
        value = getattr(details, field)
        if value:
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                raise PermanentError(
                    f"USPS tracking: {field} is not a date: {value[:40]!r}"
                ) from None
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return None


def parse_tracking(tracking_number: str, payload: Any) -> TrackingUpdate:
    """The package's events, oldest first; the newest carries the expected delivery date."""
    details = validated(TrackingDetails, payload, f"USPS tracking of {tracking_number}")
    events: list[TrackingEvent] = []
    for index, event in enumerate(details.trackingEvents):
        code = (event.eventCode or "").strip() or (event.eventType or "").strip()
        if not code:
            continue  # neither a code nor words: nothing to report
        events.append(
            TrackingEvent(
                tracking_number=tracking_number,
                status=status_of(event.eventCode, event.eventType),
                carrier_code=code,
                description=(event.eventType or "").strip(),
                location=_location(event),
                occurred_at=_occurred_at(event, index),
            )
        )
    if not events:
        return TrackingUpdate(events=())
    events.sort(key=lambda e: e.occurred_at)
    newest = events[-1]
    update: dict[str, Any] = {"estimated_delivery": _estimated_delivery(details)}
    category = CATEGORY_STATUS.get((details.statusCategory or "").strip().lower())
    if newest.status is S.UNKNOWN and category is not None:
        update["status"] = category
    events[-1] = newest.model_copy(update=update)
    return TrackingUpdate(events=tuple(events))

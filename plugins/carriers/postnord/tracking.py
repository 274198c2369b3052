"""Pure mapping of PostNord Track & Trace answers to the hub's TrackingUpdate (no I/O here).

Request: ``GET /rest/shipment/v5/trackandtrace/findByIdentifier.json?id=...&locale=en``.
Answer: ``{"TrackingInformationResponse": {"shipments": [{"shipmentId", "statusText",
"estimatedTimeOfArrival", "items": [{"itemId", "status", "estimatedTimeOfArrival", "events":
[{"eventTime", "eventCode", "status", "eventDescription", "location": {"name", "displayName",
"city", "postcode", "countryCode", "locationType"}}]}]}], "compositeFault"}}``. Field names and
the status vocabulary (``ItemStatus``: CREATED, INFORMED, EN_ROUTE, DELAYED, EXPECTED_DELAY,
AVAILABLE_FOR_DELIVERY, AVAILABLE_FOR_DELIVERY_PAR_LOC, DELIVERED, DELIVERY_IMPOSSIBLE,
DELIVERY_REFUSED, RETURNED, STOPPED, OTHER) follow the Track & Trace v7 swagger
(``ResponseDto``/``TrackingEventDto``/``LocationDto``, vendored in Joaqim/karrio
``modules/connectors/postnord/vendor/track-and-trace-v7-findbyreference.swagger.json``), whose
``TrackingInformationResponse`` is the envelope v5 answers with too.

PostNord publishes no table of its ``eventCode`` values, so each event's status comes from the
event's own ``status`` (an ``ItemStatus``); the raw ``eventCode`` is kept as ``carrier_code``.
Event times are local times without an offset, read in the time zone of the event's country.

Also here: finding the booking made under a consignor reference in the answer of Track & Trace
v7 ``GET /rest/shipment/v7/trackandtrace/customernumber/{customerNumber}/reference/{reference}
/public`` (``findByReferencePublicRecipientView``), used to reconcile a lost booking answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import PermanentError
from plugins.carriers.postnord.mapping import describe, local_time, validated
from plugins.carriers.postnord.schemas import Item, Location, Shipment, TrackingAnswer
from plugins.carriers.postnord.schemas import TrackingEvent as PostnordEvent

S = TrackingStatus

TRACK_PATH = "/rest/shipment/v5/trackandtrace/findByIdentifier.json"
REFERENCE_PATH = "/rest/shipment/v7/trackandtrace/customernumber/{}/reference/{}/public"

ITEM_STATUS: dict[str, TrackingStatus] = {
    "CREATED": S.PRE_TRANSIT,
    "INFORMED": S.PRE_TRANSIT,  # PostNord has the EDI; the parcel is not handed over yet
    "EN_ROUTE": S.IN_TRANSIT,
    # A delay is still movement; the hub sees the slip in the estimated delivery.
    "DELAYED": S.IN_TRANSIT,
    "EXPECTED_DELAY": S.IN_TRANSIT,
    "AVAILABLE_FOR_DELIVERY": S.AVAILABLE_FOR_PICKUP,  # at the service point
    "AVAILABLE_FOR_DELIVERY_PAR_LOC": S.AVAILABLE_FOR_PICKUP,  # in a parcel locker
    "DELIVERED": S.DELIVERED,
    "DELIVERY_IMPOSSIBLE": S.DELIVERY_FAILED,
    "DELIVERY_REFUSED": S.DELIVERY_FAILED,
    "RETURNED": S.RETURN_TO_SENDER,
    "STOPPED": S.EXCEPTION,  # held, e.g. in customs
    "OTHER": S.UNKNOWN,
}


def status_of(code: str | None) -> TrackingStatus:
    return ITEM_STATUS.get((code or "").strip().upper(), S.UNKNOWN)


def _location(location: Location | None) -> str | None:
    if location is None:
        return None
    place = " ".join(part for part in (location.postcode, location.city) if part)
    parts = [location.displayName or location.name, place, location.countryCode]
    return ", ".join(part for part in parts if part) or None


def _normal(identifier: str | None) -> str:
    return (identifier or "").replace(" ", "").upper()


def _item_of(shipments: list[Shipment], number: str) -> tuple[Shipment, Item] | None:
    """The parcel asked about: by item id, else the first parcel of a shipment asked about by
    its shipment id, else the only parcel of the answer."""
    wanted = _normal(number)
    for shipment in shipments:
        for item in shipment.items:
            if _normal(item.itemId) == wanted:
                return shipment, item
    for shipment in shipments:
        if _normal(shipment.shipmentId) == wanted and shipment.items:
            return shipment, shipment.items[0]
    pairs = [(s, i) for s in shipments for i in s.items]
    return pairs[0] if len(pairs) == 1 else None


def _when(event: PostnordEvent, index: int, zone: str) -> datetime:
    field = f"items.events.{index}.eventTime"
    if not event.eventTime:
        raise PermanentError(f"PostNord tracking: {field} is missing")
    country = event.location.countryCode if event.location else None
    try:
        return local_time(event.eventTime, country, zone)
    except (ValueError, OverflowError):
        raise PermanentError(
            f"PostNord tracking: {field} {event.eventTime[:40]!r} is not a timestamp"
        ) from None


def _estimate(shipment: Shipment, item: Item, zone: str) -> datetime | None:
    text = item.estimatedTimeOfArrival or shipment.estimatedTimeOfArrival
    if not text:
        return None
    try:
        return local_time(text, None, zone)
    except (ValueError, OverflowError):
        return None  # an unreadable estimate is no estimate; the events still count


def parse_tracking(number: str, payload: Any, zone: str) -> TrackingUpdate:
    answer = validated(TrackingAnswer, payload, f"PostNord tracking of {number}")
    found = _item_of(answer.TrackingInformationResponse.shipments, number)
    if found is None:
        return TrackingUpdate(events=())  # not known to PostNord (yet)
    shipment, item = found
    dated = sorted(
        ((_when(event, index, zone), event) for index, event in enumerate(item.events)),
        key=lambda pair: pair[0],
    )
    estimate = _estimate(shipment, item, zone)
    events = []
    for position, (occurred, event) in enumerate(dated):
        newest = position == len(dated) - 1
        code = event.status or (item.status if newest else None)
        events.append(
            TrackingEvent(
                tracking_number=number,
                status=status_of(code),
                carrier_code=(event.eventCode or event.status or "unknown")[:64],
                description=(event.eventDescription or "").strip()[:500],
                location=_location(event.location),
                occurred_at=occurred,
                estimated_delivery=estimate if newest else None,
            )
        )
    return TrackingUpdate(events=tuple(events))


def booked_items(payload: Any, reference: str) -> tuple[str, ...] | None:
    """The parcel ids of the booking made under ``reference``, or None if PostNord has none.
    More than one shipment under one reference means duplicate bookings: a person decides."""
    try:
        answer = TrackingAnswer.model_validate(payload)
    except ValidationError as exc:
        raise PermanentError(
            f"PostNord lookup of reference {reference}: unexpected answer: {describe(exc)}"
        ) from None
    shipments = [
        shipment
        for shipment in answer.TrackingInformationResponse.shipments
        if not shipment.shipmentReferences
        or any(ref.value == reference for ref in shipment.shipmentReferences)
    ]
    if not shipments:
        return None
    if len(shipments) > 1:
        ids = ", ".join(s.shipmentId or "?" for s in shipments)
        raise PermanentError(
            f"PostNord has {len(shipments)} shipments under reference {reference} ({ids}): "
            "keep one, cancel the others by hand"
        )
    items = tuple(item.itemId for item in shipments[0].items if item.itemId)
    return items or None

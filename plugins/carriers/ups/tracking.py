"""UPS Track API v1 answers -> the hub's normalized tracking events (pure).

Shape: Tracking.yaml ``GET /api/track/v1/details/{inquiryNumber}`` -> ``TrackApiResponse``
(``trackResponse.shipment[].package[]`` with ``activity[]`` most recent first, ``deliveryDate[]``
typed SDD/RDD/DEL, ``deliveryTime`` typed EOD/CMT/EDW/CDW/IDW/DEL), UPS-API/api-documentation
commit e6f36df4.

Status mapping, by activity ``status.type``. UPS's own list (UPSTrackAlert.yaml, "Status types
are: M and MV = manifest information, X = exception, I = in-progress, U = update, D = delivery
information (loaded on delivery vehicle, out for delivery, delivered)") is refined with:
- ``D`` means delivered only for the delivery scan itself: the package carries a ``DEL``
  delivery date or ``deliveryInformation`` (Tracking.yaml: "Populated only when the package is
  delivered") and the event is the latest ``D`` one, or its 3-digit ``statusCode`` is ``011``
  (Delivered in UPS's Track API samples); other ``D`` events are out for delivery.
- ``P`` (pickup), ``O`` (out for delivery) and ``RS`` (returned to shipper) from UPS's older
  Tracking developer guide, and code ``OT`` (out for delivery) as karrio maps it [secondary].
The raw 2-character code (or the type when there is none) is kept as ``carrier_code``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent, TrackingStatus
from plugins.carriers.ups.mapping import ups_datetime
from plugins.carriers.ups.schemas import ActivityModel, TrackEnvelopeModel, TrackPackageModel, parse

STATUS_BY_TYPE: dict[str, TrackingStatus] = {
    "M": TrackingStatus.PRE_TRANSIT,
    "MV": TrackingStatus.CANCELLED,
    "P": TrackingStatus.IN_TRANSIT,
    "I": TrackingStatus.IN_TRANSIT,
    "U": TrackingStatus.IN_TRANSIT,
    "O": TrackingStatus.OUT_FOR_DELIVERY,
    "X": TrackingStatus.EXCEPTION,
    "RS": TrackingStatus.RETURN_TO_SENDER,
    "D": TrackingStatus.OUT_FOR_DELIVERY,  # refined to DELIVERED below
}
STATUS_BY_CODE: dict[str, TrackingStatus] = {"OT": TrackingStatus.OUT_FOR_DELIVERY}
DELIVERED_STATUS_CODE = "011"
ESTIMATE_TYPES = ("RDD", "SDD")
"""Rescheduled delivery date wins over the scheduled one."""
WINDOW_END_TYPES = frozenset({"EDW", "CDW", "IDW", "CMT"})


def parse_track_response(payload: object, tracking_number: str) -> TrackingUpdate:
    envelope = parse(TrackEnvelopeModel, payload, "UPS tracking")
    packages = [p for s in envelope.trackResponse.shipment for p in s.package]
    package = next((p for p in packages if p.trackingNumber == tracking_number), None)
    if package is None and len(packages) == 1 and not packages[0].trackingNumber:
        package = packages[0]
    if package is None:
        return TrackingUpdate(events=())  # unknown to UPS yet (only warnings came back)
    return TrackingUpdate(events=tuple(_events(package, tracking_number)))


def _events(package: TrackPackageModel, tracking_number: str) -> list[TrackingEvent]:
    delivered = package.deliveryInformation is not None or any(
        d.type == "DEL" for d in package.deliveryDate
    )
    estimate = None if delivered else _estimate(package)
    latest_delivery = next(
        (i for i, a in enumerate(package.activity) if a.status and a.status.type.upper() == "D"),
        None,
    )
    events = []
    for index, activity in enumerate(package.activity):
        occurred = _occurred_at(activity)
        status = activity.status
        if occurred is None or status is None:
            continue  # an activity without a time or status says nothing the hub can use
        code = status.code or status.type or status.statusCode
        if not code:
            continue
        events.append(
            TrackingEvent(
                tracking_number=tracking_number,
                status=_status(activity, delivered=delivered and index == latest_delivery),
                carrier_code=code,
                description=status.description.strip(),
                location=_location(activity),
                occurred_at=occurred,
                estimated_delivery=estimate,
            )
        )
    return events


def _status(activity: ActivityModel, *, delivered: bool) -> TrackingStatus:
    status = activity.status
    if status is None:
        return TrackingStatus.UNKNOWN
    kind = status.type.upper()
    if kind == "D" and (delivered or status.statusCode == DELIVERED_STATUS_CODE):
        return TrackingStatus.DELIVERED
    by_code = STATUS_BY_CODE.get(status.code.upper())
    if by_code is not None and kind != "D":
        return by_code
    return STATUS_BY_TYPE.get(kind, TrackingStatus.UNKNOWN)


def _occurred_at(activity: ActivityModel) -> datetime | None:
    """GMT date and time when UPS gives them, else local time with its GMT offset."""
    midnight = time(0, 0, 0)
    gmt = ups_datetime(activity.gmtDate, activity.gmtTime, default=midnight)
    if gmt is not None and activity.gmtTime:
        return gmt
    local = ups_datetime(activity.date, activity.time, default=midnight)
    if local is None:
        return gmt
    offset = _offset(activity.gmtOffset)
    return local.replace(tzinfo=offset) if offset is not None else local


def _offset(value: str | None) -> timezone | None:
    """``-05:00`` (Track API) or ``-05.00`` (Track Alert) -> a fixed zone."""
    if not value or len(value) != 6 or value[0] not in "+-" or value[3] not in ":.":
        return None
    hours, minutes = value[1:3], value[4:6]
    if not (hours + minutes).isascii() or not (hours + minutes).isdigit():
        return None
    if int(hours) > 14 or int(minutes) > 59:
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if value[0] == "-" else delta)


def _estimate(package: TrackPackageModel) -> datetime | None:
    dates = {d.type: d.date for d in package.deliveryDate}
    day = next((dates[kind] for kind in ESTIMATE_TYPES if dates.get(kind)), None)
    window = package.deliveryTime
    clock = window.endTime if window and window.type in WINDOW_END_TYPES else None
    # The destination's zone is unknown: read as UTC, end of day when UPS gives no time.
    return ups_datetime(day, clock, default=time(23, 59, 59))


def _location(activity: ActivityModel) -> str | None:
    address = activity.location.address if activity.location else None
    if address is None:
        return None
    country = address.countryCode or address.country
    parts = [p.strip() for p in (address.city, address.stateProvince, country) if p and p.strip()]
    return ", ".join(parts) or None

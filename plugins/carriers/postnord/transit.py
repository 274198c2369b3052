"""Transit Time 2.0.3: estimated arrival per service for a quote (opt-in, pure mapping).

Request: ``GET /rest/transport/v2/transittime/addresstoaddress`` with ``startTime`` (the
hand-over time as a local date-time, e.g. ``2024-12-01T08:00``), ``serviceCodes``
(comma-separated, Nordic codes only), ``originPostalCode``/``originCountryCode`` and
``destinationPostalCode``/``destinationCountryCode``.
Answer: ``TransitTimeResponseV2``, a list with one entry per service and per additional-service
variant: ``service.basicServiceCode``, ``estimatedTimeOfArrival.timeOfArrival`` (local) or
``dayRangeOfArrival``, ``isSupported``, ``isBookable``, ``errorMessage``; examples
``responseWithoutCode`` and ``responseWithCode`` of ``OkTransitTimeResponseV2``.
Spec: developer.postnord.com, as vendored in Joaqim/karrio
``modules/connectors/postnord/vendor/transit-time-v1-v2.swagger.json``.

Only the plain entry of each service (no additional services) is read. An entry PostNord
marks unsupported says nothing about the route, so the quote keeps no ETA; a supported but
unbookable entry drops the service from the quotes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import RootModel

from hub.domain.messages import RateRequest
from plugins.carriers.postnord.mapping import local_time, validated
from plugins.carriers.postnord.pricing import Transit
from plugins.carriers.postnord.schemas import TransitTime
from plugins.carriers.postnord.services import NORDIC, TIMEZONES
from plugins.carriers.postnord.settings import PostnordSettings

PATH = "/rest/transport/v2/transittime/addresstoaddress"


class TransitTimes(RootModel[list[TransitTime]]):
    pass


def applies(request: RateRequest) -> bool:
    """Transit Time covers routes between the Nordic countries only."""
    return request.ship_from.country in NORDIC and request.ship_to.country in NORDIC


def transit_params(request: RateRequest, settings: PostnordSettings) -> dict[str, str]:
    origin = request.ship_from
    zone = ZoneInfo(TIMEZONES.get(origin.country, settings.timezone))
    start = request.ship_date.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    return {
        "startTime": start,
        "serviceCodes": ",".join(settings.services),
        "originPostalCode": postal(origin.postal_code),
        "originCountryCode": origin.country,
        "destinationPostalCode": postal(request.ship_to.postal_code),
        "destinationCountryCode": request.ship_to.country,
    }


def postal(code: str | None) -> str:
    return (code or "").replace(" ", "")


def parse_transit(
    payload: Any, request: RateRequest, settings: PostnordSettings
) -> dict[str, Transit]:
    entries = validated(TransitTimes, payload, "PostNord transit times").root
    country = request.ship_to.country
    verdicts: dict[str, Transit] = {}
    for entry in entries:
        service = entry.service
        if service is None or not service.basicServiceCode or service.additionalServices:
            continue
        if entry.isSupported is False:
            continue
        arrival = None
        eta = entry.estimatedTimeOfArrival
        if eta is not None and eta.timeOfArrival:
            try:
                arrival = local_time(eta.timeOfArrival, country, settings.timezone)
            except ValueError:
                arrival = None  # an unreadable estimate is no estimate; the price stands
        elif eta is not None and eta.dayRangeOfArrival and eta.dayRangeOfArrival.daysMaximum:
            arrival = request.ship_date + timedelta(days=eta.dayRangeOfArrival.daysMaximum)
        verdicts[service.basicServiceCode] = Transit(
            bookable=entry.isBookable is not False, arrival=arrival
        )
    return verdicts

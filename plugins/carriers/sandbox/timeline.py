"""A parcel's journey on the compressed clock, as a pure function of its tracking number, the
label's creation time, the clock speed and "now". No state, no I/O.

The whole journey is planned in simulated hours after the label was created (the simulated
clock has no weekends or time of day), then mapped to real time
(``created_at + hours * 3600 / clock_speed``) and cut at ``now``. Because the plan
never depends on ``now``, a later ``now`` only ever adds events at the end: the timeline cannot
move backwards. Which parcels are delayed or miss their first delivery attempt, and every
jitter, comes from hashing the tracking number, so a parcel behaves the same on every call,
in every process.

Journey (carrier codes as the sandbox carrier's API would send them):
``LC`` label created -> ``PU`` picked up -> ``AR``/``DP`` origin hub -> [``AR`` destination
gateway -> ``CC`` customs, outside the EU] -> ``AR`` delivery depot -> ``OD`` out for delivery
-> ``DL`` delivered. Delayed parcels get ``XW`` (weather delay) at the origin hub and a later
estimate; failed attempts get ``NH`` after the first ``OD`` and are delivered the next day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hub.domain.tracking import TrackingEvent, TrackingStatus
from plugins.carriers.sandbox.tracking_numbers import TrackingNumber, parse_tracking_number
from plugins.carriers.sandbox.zones import Zone

# Carrier code -> normalized status and the carrier's wording.
CODES: dict[str, tuple[TrackingStatus, str]] = {
    "LC": (TrackingStatus.PRE_TRANSIT, "Shipping label created, awaiting pickup"),
    "PU": (TrackingStatus.IN_TRANSIT, "Picked up by the courier"),
    "AR": (TrackingStatus.IN_TRANSIT, "Arrived at a sandbox facility"),
    "DP": (TrackingStatus.IN_TRANSIT, "Departed a sandbox facility"),
    "CC": (TrackingStatus.IN_TRANSIT, "Cleared customs"),
    "XW": (TrackingStatus.EXCEPTION, "Weather delay: held at the facility"),
    "OD": (TrackingStatus.OUT_FOR_DELIVERY, "Out for delivery"),
    "NH": (TrackingStatus.DELIVERY_FAILED, "Delivery attempted: recipient not available"),
    "DL": (TrackingStatus.DELIVERED, "Delivered"),
    "RS": (TrackingStatus.RETURN_TO_SENDER, "Returned to sender: refused by the recipient"),
    "VD": (TrackingStatus.CANCELLED, "Label voided by the shipper"),
}

# Sort centres per country; other countries get a generic national hub.
SORT_CENTRES = {
    "AT": "Vienna", "BE": "Brussels", "CA": "Toronto", "CH": "Zurich", "DE": "Leipzig",
    "DK": "Copenhagen", "ES": "Madrid", "FI": "Helsinki", "FR": "Paris-Roissy",
    "GB": "East Midlands", "IE": "Dublin", "IT": "Milan", "JP": "Tokyo", "NL": "Amsterdam",
    "NO": "Oslo", "PL": "Warsaw", "SE": "Stockholm", "US": "Louisville", "AU": "Sydney",
}  # fmt: skip

PICKUP_AFTER_HOURS = (2.0, 6.0)
"""The courier comes between 2 and 6 simulated hours after the label is created."""
DEPOT_BEFORE_ETA_HOURS = 10.0
OUT_FOR_DELIVERY_BEFORE_ETA_HOURS = 8.0
DELIVERY_ROUND_HOURS = (1.0, 6.0)
"""Delivered 1 to 6 hours after going out: always before the promised time."""
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Route:
    origin_city: str
    origin_country: str
    destination_city: str
    destination_country: str


@dataclass(frozen=True)
class Scenarios:
    delay_rate: float = 0.08
    failed_attempt_rate: float = 0.04


class Scenario(StrEnum):
    ON_TIME = "on_time"
    DELAYED = "delayed"
    FAILED_ATTEMPT = "failed_attempt"


def _uniform(tracking_number: str, slot: str) -> float:
    """A number in [0, 1) fixed by the tracking number; independent per slot."""
    digest = hashlib.sha256(f"{tracking_number}|{slot}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def scenario_of(tracking_number: str, scenarios: Scenarios = Scenarios()) -> Scenario:
    draw = _uniform(tracking_number, "scenario")
    if draw < scenarios.delay_rate:
        return Scenario.DELAYED
    if draw < scenarios.delay_rate + scenarios.failed_attempt_rate:
        return Scenario.FAILED_ATTEMPT
    return Scenario.ON_TIME


@dataclass(frozen=True)
class _Step:
    hours: float
    """Simulated hours after the label was created."""
    code: str
    location: str | None
    eta_hours: float | None
    detail: str = ""


def _hub(country: str) -> str:
    return f"{SORT_CENTRES.get(country, 'National')} hub, {country}"


def _between(start: float, end: float, share: float) -> float:
    return start + (end - start) * share


def _plan(number: TrackingNumber, route: Route, scenario: Scenario) -> list[_Step]:
    tn = number.value
    eta = number.service.transit_days[number.zone] * 24.0
    origin = f"{route.origin_city}, {route.origin_country}"
    destination = f"{route.destination_city}, {route.destination_country}"
    origin_hub, gateway = _hub(route.origin_country), _hub(route.destination_country)

    pickup = _between(*PICKUP_AFTER_HOURS, _uniform(tn, "pickup"))
    steps = [
        _Step(0.0, "LC", origin, eta),
        _Step(pickup, "PU", origin, eta),
        _Step(pickup + 2, "AR", origin_hub, eta),
    ]
    if scenario is Scenario.DELAYED:
        # Held at the origin hub for one or two days; everything after moves by as much.
        held = 24.0 * (1 if _uniform(tn, "delay") < 0.5 else 2)
        eta += held
        steps.append(_Step(pickup + 3, "XW", origin_hub, eta))
    else:
        held = 0.0
    departed = pickup + 4 + held
    steps.append(_Step(departed, "DP", origin_hub, eta))

    depot = eta - DEPOT_BEFORE_ETA_HOURS
    if number.zone is not Zone.DOMESTIC:
        arrived = _between(departed, depot, 0.5)
        steps.append(_Step(arrived, "AR", gateway, eta, "destination gateway"))
        if number.zone is Zone.WORLD:
            steps.append(_Step(_between(arrived, depot, 0.5), "CC", gateway, eta))
    steps.append(_Step(depot, "AR", destination, eta, "delivery depot"))

    out = eta - OUT_FOR_DELIVERY_BEFORE_ETA_HOURS
    steps.append(_Step(out, "OD", destination, eta))
    if scenario is Scenario.FAILED_ATTEMPT:
        attempt = out + _between(1.0, 4.0, _uniform(tn, "attempt"))
        eta += 24.0
        out += 24.0
        steps.append(_Step(attempt, "NH", destination, eta, "we will try again tomorrow"))
        steps.append(_Step(out, "OD", destination, eta, "second attempt"))
    delivered = out + _between(*DELIVERY_ROUND_HOURS, _uniform(tn, "delivered"))
    steps.append(_Step(delivered, "DL", destination, None))
    return steps


def schedule(
    tracking_number: str,
    created_at: datetime,
    clock_speed: float,
    route: Route,
    *,
    voided_at: datetime | None = None,
    scenarios: Scenarios = Scenarios(),
) -> list[TrackingEvent]:
    """Every event of the journey, past and future, oldest first, strictly increasing in time.

    A voided label's journey ends at the void (a void is only allowed before pickup).
    Raises ValueError for a number that is not a sandbox tracking number.
    """
    number = parse_tracking_number(tracking_number)
    scenario = scenario_of(number.value, scenarios)

    def real(hours: float) -> datetime:
        return created_at + timedelta(seconds=hours * 3600 / clock_speed)

    events: list[TrackingEvent] = []
    for step in _plan(number, route, scenario):
        at = real(step.hours)
        if voided_at is not None and at > voided_at:
            break
        eta = None if step.eta_hours is None else real(step.eta_hours)
        events.append(_event(number.value, step.code, at, step.location, step.detail, eta=eta))
    if voided_at is not None:
        events.append(_event(number.value, "VD", voided_at, None, "", eta=None))
    # At extreme clock speeds two steps can land on the same microsecond; keep them apart so
    # each event has its own dedupe key and the order is unambiguous.
    for i in range(1, len(events)):
        if events[i].occurred_at <= events[i - 1].occurred_at:
            bumped = events[i - 1].occurred_at + _MICROSECOND
            events[i] = events[i].model_copy(update={"occurred_at": bumped})
    return events


def timeline(
    tracking_number: str,
    created_at: datetime,
    now: datetime,
    clock_speed: float,
    route: Route,
    *,
    voided_at: datetime | None = None,
    scenarios: Scenarios = Scenarios(),
) -> list[TrackingEvent]:
    """The events that have happened by ``now``, oldest first."""
    every = schedule(
        tracking_number, created_at, clock_speed, route, voided_at=voided_at, scenarios=scenarios
    )
    return [event for event in every if event.occurred_at <= now]


def first_scan_at(
    tracking_number: str, created_at: datetime, clock_speed: float, route: Route
) -> datetime:
    """When the carrier first scans the parcel (pickup): from then on it cannot be voided."""
    journey = schedule(tracking_number, created_at, clock_speed, route)
    return next(e.occurred_at for e in journey if e.status is not TrackingStatus.PRE_TRANSIT)


def _event(
    tracking_number: str,
    code: str,
    at: datetime,
    location: str | None,
    detail: str,
    *,
    eta: datetime | None,
) -> TrackingEvent:
    status, description = CODES[code]
    return TrackingEvent(
        tracking_number=tracking_number,
        status=status,
        carrier_code=code,
        description=f"{description} ({detail})" if detail else description,
        location=location,
        occurred_at=at,
        estimated_delivery=eta,
    )

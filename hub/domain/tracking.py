"""Normalized tracking: one status vocabulary for every carrier, plus the carrier's raw code."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class TrackingStatus(StrEnum):
    """Anchored on EasyPost/karrio/AfterShip vocabularies (see shared/DOMAIN.md section 3)."""

    UNKNOWN = "unknown"
    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERY_FAILED = "delivery_failed"
    EXCEPTION = "exception"
    DELIVERED = "delivered"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {TrackingStatus.DELIVERED, TrackingStatus.RETURN_TO_SENDER, TrackingStatus.CANCELLED}
)

# Progress rank: a shipment's status only moves to an equal or higher rank. Failed attempts and
# exceptions share a rank with out-for-delivery so that a retry after them is not "backwards".
PROGRESS_RANK: dict[TrackingStatus, int] = {
    TrackingStatus.UNKNOWN: 0,
    TrackingStatus.PRE_TRANSIT: 1,
    TrackingStatus.IN_TRANSIT: 2,
    TrackingStatus.EXCEPTION: 2,
    TrackingStatus.OUT_FOR_DELIVERY: 3,
    TrackingStatus.DELIVERY_FAILED: 3,
    TrackingStatus.AVAILABLE_FOR_PICKUP: 4,
    TrackingStatus.DELIVERED: 5,
    TrackingStatus.RETURN_TO_SENDER: 5,
    TrackingStatus.CANCELLED: 5,
}


class TrackingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    tracking_number: str
    status: TrackingStatus
    carrier_code: str
    """The carrier's own status/event code, kept verbatim."""
    description: str = ""
    location: str | None = None
    occurred_at: datetime
    estimated_delivery: datetime | None = None

    @property
    def dedupe_key(self) -> str:
        return f"{self.tracking_number}|{self.carrier_code}|{self.occurred_at.isoformat()}"


def advance(current: TrackingStatus, event: TrackingEvent) -> TrackingStatus:
    """Status after `event`: never moves backwards, and a final status is final."""
    if current.is_final:
        return current
    if PROGRESS_RANK[event.status] >= PROGRESS_RANK[current]:
        return event.status
    return current


def latest_first(events: list[TrackingEvent]) -> list[TrackingEvent]:
    return sorted(events, key=lambda e: e.occurred_at, reverse=True)

"""Names and payloads shared by the workflows and the activities that serve them.

Workflows call activities by name (they must not import `hub.activities`, which reaches plugins).
Every activity takes one model so fields can be added without breaking running orders.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.address import Contact
from hub.domain.holds import HoldReason
from hub.domain.messages import CustomerNotice
from hub.domain.order import Order
from hub.domain.shipment import CarrierChoice, Label, PackagingChoice, Shipment
from hub.domain.status import OrderStage, PaymentStatus
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.workflows.policy import OrderPolicy

TASK_QUEUE_DEFAULT = "hub-orders"


class Activity(StrEnum):
    VALIDATE = "validate_order"
    RESERVE = "reserve_stock"
    RELEASE = "release_stock"
    PICK = "pick_shipment"
    PACK = "pack_shipment"
    CHOOSE_CARRIER = "choose_carrier"
    BUY_LABEL = "buy_label"
    VOID_LABEL = "void_label"
    CONFIRM_SHIPMENT = "confirm_shipment"
    TRACK = "track_shipment"
    NOTIFY = "notify_customer"


class ErrorType(StrEnum):
    """`ApplicationError.type` values the workflows act on."""

    PERMANENT = "PermanentError"
    TRANSIENT = "TransientError"
    LABEL_UNCERTAIN = "LabelUncertain"
    CUSTOMS_DATA_MISSING = "CustomsDataMissing"


_FROZEN = ConfigDict(frozen=True)


class OrderInput(BaseModel):
    model_config = _FROZEN

    order: Order
    policy: OrderPolicy = OrderPolicy()


class ValidateInput(BaseModel):
    model_config = _FROZEN

    order: Order
    warehouse: str
    hold_payment_statuses: tuple[str, ...]


class ValidationResult(BaseModel):
    model_config = _FROZEN

    holds: tuple[HoldReason, ...] = ()


class ReserveInput(BaseModel):
    model_config = _FROZEN

    order: Order
    warehouse: str
    reservation_key: str


class ReleaseInput(BaseModel):
    model_config = _FROZEN

    warehouse: str
    reservation_key: str


class ShipmentInput(BaseModel):
    model_config = _FROZEN

    order: Order
    warehouse: str
    reservation_key: str
    shipment: Shipment


class PickOutcome(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    short_skus: tuple[str, ...] = ()
    route_length_m: float | None = None


class LabelInput(BaseModel):
    model_config = _FROZEN

    order: Order
    shipment: Shipment
    idempotency_key: str
    warehouse: str = "embedded"
    """The warehouse plugin, asked for HS codes and origins when the parcel needs customs."""


class VoidInput(BaseModel):
    model_config = _FROZEN

    label: Label


class ConfirmInput(BaseModel):
    model_config = _FROZEN

    order: Order
    shipment: Shipment


class TrackInput(BaseModel):
    model_config = _FROZEN

    carrier: str
    tracking_number: str


class NoticeInput(BaseModel):
    model_config = _FROZEN

    notice: CustomerNotice


# ----------------------------------------------------------------- order workflow messages


class FixAddress(BaseModel):
    model_config = _FROZEN

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    name: str | None = None


class FixSku(BaseModel):
    model_config = _FROZEN

    line_id: str
    sku: str = Field(min_length=1)


class CancelRequest(BaseModel):
    model_config = _FROZEN

    reason: str = "cancelled"
    requested_by: str = "operator"


class StageTiming(BaseModel):
    model_config = _FROZEN

    stage: OrderStage
    entered_at: datetime


class OrderState(BaseModel):
    """What the `status` query returns and the workflow returns at the end."""

    order: Order
    stage: OrderStage = OrderStage.RECEIVED
    payment: PaymentStatus
    hold: HoldReason | None = None
    details: str = ""
    shipments: list[Shipment] = Field(default_factory=list)
    stage_log: list[StageTiming] = Field(default_factory=list)
    cancel_reason: str | None = None
    notices_sent: list[str] = Field(default_factory=list)
    notices_failed: list[str] = Field(default_factory=list)
    """Notices the notifier refused for good (e.g. no email address), with its reason."""


# ----------------------------------------------------------------- tracking workflow


class TrackingInput(BaseModel):
    model_config = _FROZEN

    order_key: str
    marketplace: str
    recipient: Contact
    shipment_id: str
    carrier: str
    tracking_number: str
    promised_by: datetime | None
    promise_from_carrier: bool = False
    """True when `promised_by` is the carrier's quote, not the customer's deliver-by: the
    carrier's own first ETA at handover then becomes the promise a delay is measured against."""
    poll_seconds: float
    history_limit: int
    parcel_number: int = 1
    parcel_count: int = 1
    """Which of the shipment's parcels this is: each parcel has its own tracking number and is
    followed on its own (a shipment is delivered when all its parcels are)."""
    # Carried across continue-as-new:
    status: TrackingStatus = TrackingStatus.UNKNOWN
    seen_event_keys: tuple[str, ...] = ()
    notices_sent: tuple[str, ...] = ()
    last_event: TrackingEvent | None = None


class TrackingResult(BaseModel):
    model_config = _FROZEN

    shipment_id: str
    status: TrackingStatus
    delivered_at: datetime | None
    last_event: TrackingEvent | None
    delayed: bool
    tracking_number: str | None = None
    """The parcel this result is for (None in results of histories from before per-parcel
    tracking)."""


class TrackingPush(BaseModel):
    """Tracking events pushed by a carrier webhook, signalled into the tracking workflow."""

    model_config = _FROZEN

    events: tuple[TrackingEvent, ...]


def tracking_workflow_id(carrier: str, tracking_number: str) -> str:
    return f"track:{carrier}:{tracking_number}"


__all__ = [
    "Activity",
    "CancelRequest",
    "CarrierChoice",
    "ConfirmInput",
    "ErrorType",
    "FixAddress",
    "FixSku",
    "LabelInput",
    "NoticeInput",
    "OrderInput",
    "OrderState",
    "PackagingChoice",
    "PickOutcome",
    "ReleaseInput",
    "ReserveInput",
    "ShipmentInput",
    "TrackInput",
    "TrackingInput",
    "TrackingPush",
    "TrackingResult",
    "ValidateInput",
    "ValidationResult",
    "VoidInput",
    "tracking_workflow_id",
]

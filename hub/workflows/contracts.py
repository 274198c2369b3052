"""Names and payloads shared by the workflows and the activities that serve them.

Workflows call activities by name (they must not import `hub.activities`, which reaches plugins).
Every activity takes one model so fields can be added without breaking running orders.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.domain.address import Contact
from hub.domain.holds import HoldReason
from hub.domain.messages import CustomerNotice
from hub.domain.order import Order
from hub.domain.shipment import CarrierChoice, Label, PackagingChoice, Shipment, ShipmentLine
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
    """Give stock back: what is reserved and not picked, and picked units not handed over.

    Without `lines`, the whole reservation is released and picked units of every shipment
    not in `kept_shipments` are put back on the shelf (a cancel after picking). With `lines`,
    only those unpicked units are released (a short line shipped without them); `release_id`
    makes that partial release happen once, whatever retries.
    """

    model_config = _FROZEN

    warehouse: str
    reservation_key: str
    kept_shipments: tuple[str, ...] = ()
    """Shipments handed to a carrier: their picked units left the building."""
    lines: tuple[ShipmentLine, ...] = ()
    release_id: str | None = None

    @model_validator(mode="after")
    def _partial_needs_an_id(self) -> ReleaseInput:
        if self.lines and not self.release_id:
            raise ValueError("a partial release (lines) needs a release_id, so it happens once")
        return self


class ShipmentInput(BaseModel):
    model_config = _FROZEN

    order: Order
    warehouse: str
    reservation_key: str
    shipment: Shipment
    pick_attempt: int = 1
    """1 for the first pick; each re-pick after a short pick (restock, fix) asks again for
    what is still missing. A retry of the same attempt gets the same answer."""


class PickOutcome(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    short_skus: tuple[str, ...] = ()
    route_length_m: float | None = None
    short_lines: tuple[ShipmentLine, ...] = ()
    """Per order line, the units still missing after this attempt (empty: complete)."""


class ReleaseOutcome(BaseModel):
    model_config = _FROZEN

    released_units: int = 0
    """Reserved, unpicked units given back."""
    put_back_units: int = 0
    """Picked units returned to the shelf."""


class LabelInput(BaseModel):
    model_config = _FROZEN

    order: Order
    shipment: Shipment
    idempotency_key: str
    warehouse: str = "embedded"
    """The warehouse plugin, asked for HS codes and origins when the parcel needs customs."""
    resumed: bool = False
    """A purchase carried on after an earlier activity gave up: as for a retry, a carrier that
    can neither dedupe nor look labels up must not be asked to buy again."""


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


class Resolution(StrEnum):
    """How a person settles a parcel that was not delivered."""

    RESHIP = "reship"
    """Send the undelivered shipment's lines again, as a new shipment."""
    CLOSE = "close"
    """End the order here (the seller settles with the customer, e.g. a refund)."""


class ResolveUndelivered(BaseModel):
    model_config = _FROZEN

    resolution: Resolution
    note: str = ""
    """Why, for the record (no personal data)."""


class AddressDecision(BaseModel):
    model_config = _FROZEN

    relabel: bool
    """True: void the label and buy one to the new address; False: keep the label's address."""


class ReleaseDate(BaseModel):
    model_config = _FROZEN

    release_at: datetime | None
    """None: release now."""


class AfterSalesNote(BaseModel):
    """Something that arrived too late to change the shipment, kept for after-sales."""

    model_config = _FROZEN

    kind: str
    """`cancel_after_shipping` (a return request), `refund_after_shipping`, `address_changed`..."""
    detail: str
    at: datetime


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
    outage: str | None = None
    """A call that keeps failing (set after the stage's attention time), with its error."""
    after_sales: list[AfterSalesNote] = Field(default_factory=list)
    short_shipped: list[ShipmentLine] = Field(default_factory=list)
    """Units an operator chose to ship without (short pick): released, not sent."""
    reservation_keys: list[str] = Field(default_factory=list)
    """Every reservation made for the order (the first, then one per reship)."""
    resolution_note: str | None = None


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
    "AddressDecision",
    "AfterSalesNote",
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
    "ReleaseDate",
    "ReleaseInput",
    "ReleaseOutcome",
    "ReserveInput",
    "Resolution",
    "ResolveUndelivered",
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

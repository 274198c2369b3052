"""Typed inputs and outputs of the plugin hooks, grouped by family in lifecycle order.

Everything here is a pydantic model so a bad plugin answer fails loudly at the boundary.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.domain.address import Address, Contact
from hub.domain.customs import Customs
from hub.domain.money import Money
from hub.domain.order import Order
from hub.domain.shipment import Dimensions, DocumentKind, LabelFormat, Parcel, ShipmentLine
from hub.domain.tracking import TrackingEvent

_FROZEN = ConfigDict(frozen=True)

# --------------------------------------------------------------------------- marketplaces


class WebhookRequest(BaseModel):
    """A webhook exactly as received: the raw body is what signatures are computed over."""

    model_config = _FROZEN

    plugin: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    received_at: datetime


class ChannelEventKind(StrEnum):
    ORDER_UPSERTED = "order_upserted"
    ORDER_CANCELLED = "order_cancelled"
    PAYMENT_CAPTURED = "payment_captured"
    RETURN_REQUESTED = "return_requested"
    IGNORED = "ignored"
    """A delivery the hub acknowledges but does not act on (pings, unrelated topics)."""


class MappingProblem(BaseModel):
    """Why a channel payload could not become an Order: the field and the reason."""

    model_config = _FROZEN

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ChannelEvent(BaseModel):
    model_config = _FROZEN

    kind: ChannelEventKind
    marketplace: str
    account: str = "default"
    external_id: str
    dedupe_key: str
    """Stable across redeliveries of the same event (e.g. Shopify X-Shopify-Event-Id)."""
    occurred_at: datetime
    order: Order | None = None
    problem: MappingProblem | None = None
    reason: str | None = None


class FetchRequest(BaseModel):
    """Orders changed in [updated_after, updated_before), one page at a time."""

    model_config = _FROZEN

    account: str = "default"
    updated_after: datetime
    updated_before: datetime
    page_token: str | None = None
    page_size: int = Field(default=50, gt=0, le=200)

    @field_validator("updated_after", "updated_before")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # A naive bound means a different window per server time zone.
        if value.tzinfo is None:
            raise ValueError("window bounds must carry a timezone")
        return value


class OrderPage(BaseModel):
    model_config = _FROZEN

    events: tuple[ChannelEvent, ...]
    next_page_token: str | None = None


class ShipmentConfirmation(BaseModel):
    model_config = _FROZEN

    marketplace: str
    account: str
    external_id: str
    shipment_id: str
    carrier: str
    carrier_name: str
    service_code: str
    tracking_number: str
    tracking_url: str | None = None
    shipped_at: datetime
    lines: tuple[ShipmentLine, ...]
    notify_customer: bool = True


class ConfirmationReceipt(BaseModel):
    model_config = _FROZEN

    channel_reference: str
    """The channel's id for the fulfilment it recorded (e.g. Shopify Fulfillment GID)."""
    already_confirmed: bool = False


# --------------------------------------------------------------------------- warehouses


class ItemSpec(BaseModel):
    """What the warehouse knows of a SKU: weight and size for packing and rating."""

    model_config = _FROZEN

    sku: str
    name: str
    weight_grams: int = Field(gt=0)
    dimensions: Dimensions
    hs_code: str | None = None
    country_of_origin: str | None = None


class ReservationRequest(BaseModel):
    model_config = _FROZEN

    reservation_key: str
    """Idempotency key: reserving the same key twice reserves once."""
    lines: tuple[ShipmentLine, ...]
    destination_country: str


class Allocation(BaseModel):
    """The part of an order one warehouse will ship."""

    model_config = _FROZEN

    warehouse: str
    ship_from: Address
    lines: tuple[ShipmentLine, ...]


class Shortage(BaseModel):
    model_config = _FROZEN

    sku: str
    requested: int
    available: int


class Reservation(BaseModel):
    model_config = _FROZEN

    reservation_key: str
    allocations: tuple[Allocation, ...] = ()
    shortages: tuple[Shortage, ...] = ()
    """Non-empty means nothing was reserved (all-or-nothing)."""

    @property
    def complete(self) -> bool:
        return not self.shortages and bool(self.allocations)


class PickListRequest(BaseModel):
    model_config = _FROZEN

    reservation_key: str
    shipment_id: str
    warehouse: str
    lines: tuple[ShipmentLine, ...]


class PickItem(BaseModel):
    model_config = _FROZEN

    sku: str
    quantity: int
    location: str
    barcode: str


class PickList(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    warehouse: str
    shipment_id: str
    items: tuple[PickItem, ...]
    """In walking order."""
    route_length_m: float | None = None


class PickedItem(BaseModel):
    model_config = _FROZEN

    sku: str
    quantity: int
    short: int = 0


class PickResult(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    items: tuple[PickedItem, ...]

    @property
    def short_skus(self) -> list[str]:
        return [i.sku for i in self.items if i.short]


class PackConfirmation(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    shipment_id: str
    warehouse: str
    parcels: tuple[Parcel, ...]
    packaging_option_id: str
    inserts: tuple[str, ...]


class PackResult(BaseModel):
    model_config = _FROZEN

    shipment_id: str
    verified: bool
    message: str = ""


# --------------------------------------------------------------------------- packing


class PackagingRequest(BaseModel):
    model_config = _FROZEN

    shipment_id: str
    items: tuple[tuple[ItemSpec, int], ...]
    """(item, quantity) pairs."""
    destination_country: str
    minimal_packaging: bool = False
    insert_weight_grams: int = 0


class PackagingOption(BaseModel):
    model_config = _FROZEN

    option_id: str
    box_name: str
    parcels: tuple[Parcel, ...]
    materials_kg: dict[str, float]
    """Material name -> kg used (board, paper fill, LDPE...)."""
    co2e_grams: int
    cost: Money
    eco: bool = False
    minimal: bool = False


class InsertRequest(BaseModel):
    model_config = _FROZEN

    order_key: str
    marketplace: str
    destination_country: str
    order_total: Money
    is_gift: bool
    tags: tuple[str, ...] = ()


class Insert(BaseModel):
    model_config = _FROZEN

    insert_id: str
    name: str
    weight_grams: int = Field(ge=0)
    reason: str


# --------------------------------------------------------------------------- carriers


class RateRequest(BaseModel):
    model_config = _FROZEN

    shipment_id: str
    ship_from: Address
    ship_to: Address
    parcels: tuple[Parcel, ...]
    service_level: str
    ship_date: datetime
    deliver_by: datetime | None = None
    declared_value: Money


class Quote(BaseModel):
    model_config = _FROZEN

    carrier: str
    service_code: str
    service_name: str
    price: Money
    estimated_delivery: datetime | None
    billable_weight_grams: int
    eco_options: tuple[str, ...] = ()
    co2e_grams: int | None = None


class LabelRequest(BaseModel):
    model_config = _FROZEN

    idempotency_key: str
    """Stable across retries and crashes; carriers that support one receive it."""
    shipment_id: str
    order_reference: str
    service_code: str
    ship_from: Address
    ship_to: Address
    recipient: Contact
    parcels: tuple[Parcel, ...]
    label_format: LabelFormat = LabelFormat.PDF
    declared_value: Money
    ship_date: datetime
    customs: Customs | None = None
    """Required by carriers when ship_from and ship_to are in different customs territories."""
    eco_option: str | None = None
    """One of the chosen quote's `eco_options` (e.g. DHL GoGreen Plus), if the seller opted in."""


class LabelDocument(BaseModel):
    model_config = _FROZEN

    label_format: LabelFormat
    content: bytes


class PaperDocument(BaseModel):
    """A document the carrier made besides the label (customs declaration, invoice)."""

    model_config = _FROZEN

    kind: DocumentKind
    label_format: LabelFormat
    content: bytes


class PurchasedLabel(BaseModel):
    """What a carrier hands back: the label bytes go to the document store, not history."""

    model_config = _FROZEN

    label_id: str
    service_code: str
    tracking_numbers: tuple[str, ...] = Field(min_length=1)
    price: Money
    document: LabelDocument
    tracking_url: str | None = None
    created_at: datetime
    papers: tuple[PaperDocument, ...] = ()
    """To print with the label: the parcel does not travel without them."""


class LabelLookup(BaseModel):
    model_config = _FROZEN

    idempotency_key: str
    shipment_id: str


class VoidRequest(BaseModel):
    model_config = _FROZEN

    label_id: str
    tracking_numbers: tuple[str, ...]


class VoidResult(BaseModel):
    model_config = _FROZEN

    voided: bool
    message: str = ""


class TrackRequest(BaseModel):
    model_config = _FROZEN

    tracking_number: str


class TrackingUpdate(BaseModel):
    model_config = _FROZEN

    events: tuple[TrackingEvent, ...]


# --------------------------------------------------------------------------- notifiers


class NoticeKind(StrEnum):
    ORDER_ON_HOLD = "order_on_hold"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELAYED = "delayed"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    REVIEW_INVITATION = "review_invitation"
    CANCELLED = "cancelled"


class CustomerNotice(BaseModel):
    model_config = _FROZEN

    notice_key: str
    """Idempotency key: one notice per (order, event), whatever retries happen."""
    kind: NoticeKind
    order_key: str
    marketplace: str
    recipient: Contact
    facts: dict[str, str] = Field(default_factory=dict)


class NoticeReceipt(BaseModel):
    model_config = _FROZEN

    notifier: str
    notice_key: str
    duplicate: bool = False

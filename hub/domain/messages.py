"""Typed inputs and outputs of the plugin hooks, grouped by family in lifecycle order.

Everything here is a pydantic model so a bad plugin answer fails loudly at the boundary.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    replaces: str | None = None
    """The shipment this one reships (lost or returned): the channel already counts these lines
    as shipped, so a channel that can should update that fulfilment's tracking rather than
    count them twice; one that cannot refuses, and a person updates it by hand."""


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


class ReleaseRequest(BaseModel):
    """Give stock back under a reservation key.

    Without `lines` (a cancel): release every reserved, unpicked unit and put the picked
    units of every shipment not in `kept_shipments` back on the shelf; once per key.
    With `lines` (ship what is available after a short pick): release exactly those unpicked
    units, once per `release_id`; the shipment is then due only what was picked.
    """

    model_config = _FROZEN

    reservation_key: str
    kept_shipments: tuple[str, ...] = ()
    """Shipments handed to a carrier: their picked units left the building."""
    lines: tuple[ShipmentLine, ...] = ()
    release_id: str | None = None
    """Required with `lines`: a retry under the same id moves nothing."""

    @model_validator(mode="after")
    def _partial_release_has_an_id(self) -> ReleaseRequest:
        if self.lines and not self.release_id:
            raise ValueError("a partial release (lines) needs a release_id")
        return self


class ReleaseResult(BaseModel):
    model_config = _FROZEN

    released_units: int = Field(default=0, ge=0)
    """Reserved, unpicked units given back."""
    put_back_units: int = Field(default=0, ge=0)
    """Picked units returned to the shelf."""


class PickListRequest(BaseModel):
    model_config = _FROZEN

    reservation_key: str
    shipment_id: str
    warehouse: str
    lines: tuple[ShipmentLine, ...]
    attempt: int = Field(default=1, ge=1)
    """1 for the first pick; a later attempt (after a short pick) lists only what is still
    missing, from the shelf as it is now. The same attempt again returns the same list."""


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
    """In walking order; on a re-pick, only the units still missing."""
    route_length_m: float | None = None
    attempt: int = Field(default=1, ge=1)


class PickedItem(BaseModel):
    model_config = _FROZEN

    sku: str
    quantity: int
    """Picked for the shipment so far, over every attempt."""
    short: int = 0
    """Still missing after this attempt."""


class PickResult(BaseModel):
    model_config = _FROZEN

    pick_list_id: str
    items: tuple[PickedItem, ...]
    """Every SKU of the shipment, cumulative over attempts."""
    attempt: int = Field(default=1, ge=1)
    short_lines: tuple[ShipmentLine, ...] = ()
    """Per order line, the units still missing (empty when the pick is complete)."""

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
    """The goods in this shipment (`hub.domain.shipment.goods_value`), not the whole order."""


class Quote(BaseModel):
    model_config = _FROZEN

    carrier: str
    service_code: str
    service_name: str
    price: Money
    estimated_delivery: datetime | None
    billable_weight_grams: int
    eco_options: tuple[str, ...] = ()
    """Eco options the label of this service can be bought with (`LabelRequest.eco_option`)."""
    co2e_grams: int | None = None
    label_formats: tuple[LabelFormat, ...] = ()
    """The formats this service's label can be bought in for the request's parcels: a label
    asked for in one of them succeeds (the carrier contract suite checks it). A carrier that
    cannot label the parcels in any format does not quote the service. Empty: the carrier did
    not say, and is asked for the hub's configured format."""


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
    """One of the chosen quote's `label_formats`."""
    declared_value: Money
    """The goods in this shipment, as in its `RateRequest`."""
    ship_date: datetime
    customs: Customs | None = None
    """Required by carriers when ship_from and ship_to are in different customs territories."""
    eco_option: str | None = None
    """One of the chosen quote's `eco_options` (e.g. DHL GoGreen Plus), if the seller opted in
    (`[carrier_choice] prefer_eco_within_percent`); the carrier must apply it or refuse."""


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
    SHIP_DATE = "ship_date"
    """A presale order: the date it ships from (again when the date moves)."""
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

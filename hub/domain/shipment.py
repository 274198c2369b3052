"""Parcels, packaging, labels and shipments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.address import Address
from hub.domain.money import Money
from hub.domain.order import Order
from hub.domain.status import FulfilmentStatus
from hub.domain.tracking import TrackingEvent, TrackingStatus


class Dimensions(BaseModel):
    model_config = ConfigDict(frozen=True)

    length_mm: int = Field(gt=0)
    width_mm: int = Field(gt=0)
    height_mm: int = Field(gt=0)

    @property
    def volume_cm3(self) -> float:
        return self.length_mm * self.width_mm * self.height_mm / 1000

    def fits_inside(self, other: Dimensions) -> bool:
        """True if this box fits in `other` in some axis-aligned orientation."""
        mine = sorted((self.length_mm, self.width_mm, self.height_mm))
        theirs = sorted((other.length_mm, other.width_mm, other.height_mm))
        return all(a <= b for a, b in zip(mine, theirs, strict=True))


class Parcel(BaseModel):
    model_config = ConfigDict(frozen=True)

    weight_grams: int = Field(gt=0)
    dimensions: Dimensions
    packaging_id: str | None = None

    def dimensional_weight_grams(self, divisor_cm3_per_kg: int = 5000) -> int:
        """Carriers bill max(actual, L*W*H/divisor); 5000 cm3/kg is the usual international one."""
        return round(self.dimensions.volume_cm3 / divisor_cm3_per_kg * 1000)

    def billable_weight_grams(self, divisor_cm3_per_kg: int = 5000) -> int:
        return max(self.weight_grams, self.dimensional_weight_grams(divisor_cm3_per_kg))


class ShipmentLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int = Field(gt=0)


class LabelFormat(StrEnum):
    PDF = "PDF"
    ZPL = "ZPL"
    PNG = "PNG"


class DocumentKind(StrEnum):
    """Papers that travel with a parcel besides its label."""

    CUSTOMS_DECLARATION = "customs_declaration"
    """CN22/CN23 or the carrier's own customs form."""
    COMMERCIAL_INVOICE = "commercial_invoice"


class DocumentRef(BaseModel):
    """Where a stored document lives. Documents never travel in workflow history (2 MB limit)."""

    model_config = ConfigDict(frozen=True)

    uri: str
    media_type: str
    sha256: str
    size_bytes: int


class ShippingPaper(BaseModel):
    """A stored document other than the label itself, and what it is."""

    model_config = ConfigDict(frozen=True)

    kind: DocumentKind
    document: DocumentRef


class Label(BaseModel):
    model_config = ConfigDict(frozen=True)

    carrier: str
    service_code: str
    label_id: str
    tracking_numbers: tuple[str, ...] = Field(min_length=1)
    """One per parcel; the first is the master tracking number."""
    idempotency_key: str
    price: Money
    document: DocumentRef
    label_format: LabelFormat
    created_at: datetime
    tracking_url: str | None = None
    papers: tuple[ShippingPaper, ...] = ()
    """Documents to print and attach besides the label (e.g. a CN23 for customs)."""

    @property
    def tracking_number(self) -> str:
        return self.tracking_numbers[0]


class CarrierChoice(BaseModel):
    """Which carrier service was chosen, and why, in words: what the label is bought as."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    service_code: str
    service_name: str
    price: Money
    estimated_delivery: datetime | None
    reason: str
    eco_options: tuple[str, ...] = ()
    """What the quote offered."""
    co2e_grams: int | None = None
    eco_option: str | None = None
    """The one of `eco_options` the rules chose: the label is bought with it."""
    label_format: LabelFormat | None = None
    """The format the label is bought in, one the quote said the carrier can make for these
    parcels. None for choices made before quotes named formats: the configured one."""


class PackagingChoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    option_id: str
    box_name: str
    parcels: tuple[Parcel, ...]
    co2e_grams: int
    inserts: tuple[str, ...] = ()
    reason: str


class Shipment(BaseModel):
    """One parcel group leaving one warehouse. Immutable: the workflow replaces it on change."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    warehouse: str
    ship_from: Address
    lines: tuple[ShipmentLine, ...]
    status: FulfilmentStatus = FulfilmentStatus.ALLOCATED
    pick_list_id: str | None = None
    packaging: PackagingChoice | None = None
    carrier: CarrierChoice | None = None
    label: Label | None = None
    tracking_status: TrackingStatus = TrackingStatus.UNKNOWN
    last_tracking_event: TrackingEvent | None = None
    delivered_at: datetime | None = None
    replaces: str | None = None
    """The shipment this one reships (it was lost or came back)."""
    reservation_key: str | None = None
    """The reservation its stock is held under (None: the order's first, `order:{key}`)."""


def goods_value(order: Order, shipment: Shipment) -> Money:
    """What the goods in `shipment` are worth, at the prices of `order`'s lines: the value a
    shipment declares when it is rated, labelled and cleared through customs. A split order's
    shipments each declare their own lines, never the whole order."""
    prices = {line.line_id: line.unit_price for line in order.lines}
    value = Money.zero(order.currency)
    for line in shipment.lines:
        price = prices.get(line.line_id)
        if price is None:
            raise ValueError(f"shipment {shipment.shipment_id}: no order line {line.line_id}")
        value = value + price * line.quantity
    return value

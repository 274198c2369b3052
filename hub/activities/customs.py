"""The customs declaration of a cross-border parcel, from the order and the warehouse's
item data (HS code, country of origin, weight)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from temporalio.exceptions import ApplicationError

from hub.domain.customs import ContentsType, Customs, CustomsItem, Incoterm, needs_customs
from hub.domain.messages import ItemSpec
from hub.domain.money import Money
from hub.domain.order import Order
from hub.domain.shipment import Shipment, goods_value
from hub.workflows.contracts import ErrorType


def declaration(
    order: Order,
    shipment: Shipment,
    specs: Sequence[ItemSpec],
    *,
    incoterm: Incoterm,
    contents: ContentsType,
) -> Customs | None:
    """None inside one customs territory; else every line declared, or a hold naming the
    SKUs whose HS code or origin is missing (a person completes the item data)."""
    if not needs_customs(shipment.ship_from.country, order.shipping_address.country):
        return None
    by_sku = {spec.sku: spec for spec in specs}
    lines = {line.line_id: line for line in order.lines}
    missing = sorted(
        {
            line.sku
            for line in shipment.lines
            if (spec := by_sku.get(line.sku)) is None
            or not spec.hs_code
            or not spec.country_of_origin
        }
    )
    if missing:
        raise ApplicationError(
            f"customs: no HS code or country of origin for {', '.join(missing)}; "
            "complete the item data in the warehouse, then retry",
            type=ErrorType.CUSTOMS_DATA_MISSING.value,
            non_retryable=True,
        )
    items = []
    for line in shipment.lines:
        spec = by_sku[line.sku]
        ordered = lines[line.line_id]
        assert spec.hs_code and spec.country_of_origin  # checked above
        items.append(
            CustomsItem(
                sku=line.sku,
                description=(ordered.title or spec.name)[:256],
                hs_code=spec.hs_code,
                origin_country=spec.country_of_origin,
                quantity=line.quantity,
                unit_value=ordered.unit_price,
                unit_weight_grams=spec.weight_grams,
            )
        )
    customs = Customs(
        contents=ContentsType.GIFT if order.is_gift else contents,
        incoterm=incoterm,
        items=tuple(items),
        invoice_number=order.external_id,
    )
    charges = shipping_share(order, goods_value(order, shipment))
    return customs.model_copy(update={"shipping_charges": charges})


def shipping_share(order: Order, goods: Money) -> Money | None:
    """The part of what the buyer paid for shipping that this parcel carries: all of it for a
    one-parcel order, else in proportion to the goods' value (a split order ships in several
    parcels, each declared on its own)."""
    paid = order.shipping_paid
    if paid is None or paid.amount <= 0:
        return None
    if paid.currency != goods.currency:
        return None  # a declaration is in one currency; the hub does not convert
    ordered = order.total.amount
    if ordered <= 0:
        return None
    share = paid.amount * goods.amount / ordered
    rounded = share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Money(amount=min(rounded, paid.amount), currency=paid.currency)

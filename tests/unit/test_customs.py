"""Customs declarations: who needs one, and what goes in it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from hub.activities.customs import declaration
from hub.domain.address import Address, Contact
from hub.domain.customs import ContentsType, Customs, Incoterm, needs_customs
from hub.domain.messages import ItemSpec
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.shipment import Dimensions, Shipment, ShipmentLine
from hub.workflows.contracts import ErrorType

STOCKHOLM = Address(
    name="Hub AB", line1="Lagervagen 1", city="Stockholm", postal_code="11455", country="SE"
)
OSLO = Address(
    name="Kari Nordmann", line1="Karl Johans gate 1", city="Oslo", postal_code="0154", country="NO"
)


def order(to: Address, gift: bool = False) -> Order:
    return Order(
        marketplace="sandbox",
        external_id="1001",
        placed_at=datetime(2026, 11, 20, tzinfo=UTC),
        currency="EUR",
        lines=(
            OrderLine(
                line_id="L1",
                sku="TEE",
                quantity=2,
                unit_price=Money(amount=Decimal("24.00"), currency="EUR"),
                title="T-shirt",
            ),
            OrderLine(
                line_id="L2",
                sku="MUG",
                quantity=1,
                unit_price=Money(amount=Decimal("16.00"), currency="EUR"),
            ),
        ),
        customer=Contact(name="Kari Nordmann"),
        shipping_address=to,
        is_gift=gift,
    )


SHIPMENT = Shipment(
    shipment_id="1001-1",
    warehouse="sto",
    ship_from=STOCKHOLM,
    lines=(
        ShipmentLine(line_id="L1", sku="TEE", quantity=2),
        ShipmentLine(line_id="L2", sku="MUG", quantity=1),
    ),
)
BOX = Dimensions(length_mm=100, width_mm=100, height_mm=100)
SPECS = [
    ItemSpec(
        sku="TEE",
        name="Tee",
        weight_grams=180,
        dimensions=BOX,
        hs_code="610910",
        country_of_origin="PT",
    ),
    ItemSpec(
        sku="MUG",
        name="Ceramic mug",
        weight_grams=350,
        dimensions=BOX,
        hs_code="691200",
        country_of_origin="SE",
    ),
]


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        ("SE", "SE", False),
        ("SE", "DE", False),
        ("SE", "NO", True),
        ("DE", "GB", True),
        ("US", "US", False),
    ],
)
def test_customs_borders(origin: str, destination: str, expected: bool) -> None:
    assert needs_customs(origin, destination) is expected


def test_inside_the_customs_union_nothing_is_declared() -> None:
    de = OSLO.model_copy(update={"country": "DE", "postal_code": "10115"})
    assert (
        declaration(
            order(de), SHIPMENT, SPECS, incoterm=Incoterm.DAP, contents=ContentsType.MERCHANDISE
        )
        is None
    )


def test_every_line_is_declared_with_value_origin_and_hs_code() -> None:
    customs = declaration(
        order(OSLO, gift=True),
        SHIPMENT,
        SPECS,
        incoterm=Incoterm.DDP,
        contents=ContentsType.MERCHANDISE,
    )
    assert customs is not None
    assert customs.incoterm is Incoterm.DDP and customs.contents is ContentsType.GIFT
    tee, mug = customs.items
    assert (tee.hs_code, tee.origin_country, tee.quantity, tee.description) == (
        "610910",
        "PT",
        2,
        "T-shirt",
    )
    assert tee.total_value.amount == Decimal("48.00")
    assert (mug.description, mug.unit_weight_grams) == ("Ceramic mug", 350)


def test_missing_item_data_holds_naming_the_skus() -> None:
    no_hs = [SPECS[0], SPECS[1].model_copy(update={"hs_code": None})]
    with pytest.raises(ApplicationError) as caught:
        declaration(
            order(OSLO), SHIPMENT, no_hs, incoterm=Incoterm.DAP, contents=ContentsType.MERCHANDISE
        )
    assert caught.value.type == ErrorType.CUSTOMS_DATA_MISSING.value
    assert "MUG" in caught.value.message and "TEE" not in caught.value.message


def _declared(order_: Order, shipment: Shipment = SHIPMENT) -> Customs:
    customs = declaration(
        order_, shipment, SPECS, incoterm=Incoterm.DAP, contents=ContentsType.MERCHANDISE
    )
    assert customs is not None
    return customs


def test_what_the_buyer_paid_for_shipping_is_declared() -> None:
    paid = order(OSLO).model_copy(
        update={"shipping_paid": Money(amount=Decimal("9.90"), currency="EUR")}
    )
    assert _declared(paid).shipping_charges == Money(amount=Decimal("9.90"), currency="EUR")
    assert _declared(order(OSLO)).shipping_charges is None  # nothing charged: nothing declared


def test_a_split_order_declares_each_parcels_share_of_shipping() -> None:
    paid = order(OSLO).model_copy(
        update={"shipping_paid": Money(amount=Decimal("10.00"), currency="EUR")}
    )
    tees = SHIPMENT.model_copy(update={"lines": (SHIPMENT.lines[0],)})
    mug = SHIPMENT.model_copy(update={"shipment_id": "1001-2", "lines": (SHIPMENT.lines[1],)})
    # Goods: 48.00 of T-shirts and 16.00 of mug out of 64.00.
    assert _declared(paid, tees).shipping_charges == Money(amount=Decimal("7.50"), currency="EUR")
    assert _declared(paid, mug).shipping_charges == Money(amount=Decimal("2.50"), currency="EUR")


def test_shipping_paid_in_another_currency_is_not_converted() -> None:
    paid = order(OSLO).model_copy(
        update={"shipping_paid": Money(amount=Decimal("99"), currency="NOK")}
    )
    assert _declared(paid).shipping_charges is None


def test_a_declaration_is_in_one_currency() -> None:
    """Carriers declare one currency per parcel: the model refuses any other declaration."""
    fields = _declared(order(OSLO)).model_dump()
    with pytest.raises(ValueError, match="one currency"):
        Customs.model_validate(fields | {"shipping_charges": {"amount": "1", "currency": "SEK"}})
    tee, mug = fields["items"]
    mug["unit_value"]["currency"] = "SEK"
    with pytest.raises(ValueError, match="one currency"):
        Customs.model_validate(fields | {"items": [tee, mug]})

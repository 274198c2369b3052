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
from hub.domain.shipment import Dimensions, Shipment, ShipmentLine, goods_value
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


def _eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def test_each_shipment_of_a_split_order_declares_its_own_goods() -> None:
    """One value per shipment, the same for rating, the label and the customs declaration."""
    split = order(OSLO).model_copy(
        update={
            "lines": (
                *order(OSLO).lines,
                OrderLine(
                    line_id="L3",
                    sku="CAP",
                    quantity=3,
                    unit_price=Money(amount=Decimal("5.50"), currency="EUR"),
                ),
            )
        }
    )
    tees = SHIPMENT.model_copy(update={"lines": (SHIPMENT.lines[0],)})
    rest = SHIPMENT.model_copy(
        update={
            "shipment_id": "1001-2",
            "lines": (SHIPMENT.lines[1], ShipmentLine(line_id="L3", sku="CAP", quantity=2)),
        }
    )
    assert goods_value(split, tees) == _eur("48.00")
    assert goods_value(split, rest) == _eur("27.00")  # 16.00 + 2 of the 3 caps ordered
    assert split.total == _eur("80.50")
    cap = ItemSpec(
        sku="CAP",
        name="Cap",
        weight_grams=90,
        dimensions=BOX,
        hs_code="650500",
        country_of_origin="SE",
    )
    for shipment in (tees, rest):
        customs = declaration(
            split, shipment, [*SPECS, cap], incoterm=Incoterm.DAP, contents=ContentsType.MERCHANDISE
        )
        assert customs is not None and customs.total_value == goods_value(split, shipment)


def test_a_shipment_line_the_order_does_not_have_is_an_error() -> None:
    stray = SHIPMENT.model_copy(
        update={"lines": (ShipmentLine(line_id="L9", sku="X", quantity=1),)}
    )
    with pytest.raises(ValueError, match="no order line L9"):
        goods_value(order(OSLO), stray)


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

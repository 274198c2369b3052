from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.domain.address import Address, Contact, address_problems, contact_problems
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.shipment import Dimensions, Parcel
from hub.domain.tracking import PROGRESS_RANK, TrackingEvent, TrackingStatus, advance

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def address(**kw):
    base = {
        "name": "Ada L",
        "line1": "Storgatan 1",
        "city": "Stockholm",
        "postal_code": "114 55",
        "country": "se",
    }
    return Address(**{**base, **kw})


def test_money_is_decimal_and_iso_currency():
    total = Money(amount=Decimal("19.90"), currency="eur") * 3 + Money(
        amount=Decimal("0.30"), currency="EUR"
    )
    assert total == Money(amount=Decimal("60.00"), currency="EUR")
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money(amount=Decimal(1), currency="XXY")
    with pytest.raises(ValueError, match="cannot add"):
        _ = Money(amount=Decimal(1), currency="EUR") + Money(amount=Decimal(1), currency="SEK")


def test_country_is_iso_alpha2():
    assert address().country == "SE"
    with pytest.raises(ValidationError, match="ISO 3166"):
        address(country="XX")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"postal_code": "1234"}, "shape of a SE postal code"),
        ({"postal_code": None}, "postal code is missing"),
        ({"line1": ""}, "street line"),
        ({"country": "US", "postal_code": "10001"}, "state/province is required"),
    ],
)
def test_address_problems(changes, problem):
    problems = address_problems(address(**changes))
    assert any(problem in p for p in problems), problems


def test_valid_addresses_have_no_problems():
    assert address_problems(address()) == []
    assert address_problems(address(country="GB", postal_code="SW1A 1AA")) == []
    assert address_problems(address(country="US", postal_code="10001-1234", region="NY")) == []
    assert address_problems(address(country="IE", postal_code=None)) == []


def test_phone_checked_with_phonenumbers():
    assert contact_problems(Contact(name="A", phone="+46 70 123 45 67"), "SE") == []
    assert contact_problems(Contact(name="A", phone="12"), "SE")


def test_order_key_and_total():
    line = OrderLine(
        line_id="1", sku="A", quantity=2, unit_price=Money(amount=Decimal("5.5"), currency="EUR")
    )
    order = Order(
        marketplace="sandbox",
        external_id="1001",
        placed_at=T0,
        currency="EUR",
        lines=(line,),
        customer=Contact(name="Ada"),
        shipping_address=address(),
    )
    assert order.workflow_id == "order:sandbox:1001"
    assert order.total.amount == Decimal("11.0")
    with pytest.raises(ValidationError, match="priced in SEK"):
        Order(
            marketplace="sandbox",
            external_id="1",
            placed_at=T0,
            currency="EUR",
            lines=(
                line.model_copy(update={"unit_price": Money(amount=Decimal(1), currency="SEK")}),
            ),
            customer=Contact(name="Ada"),
            shipping_address=address(),
        )
    with pytest.raises(ValidationError, match="timezone"):
        Order(
            marketplace="sandbox",
            external_id="1",
            placed_at=datetime(2026, 1, 1),
            currency="EUR",
            lines=(line,),
            customer=Contact(name="Ada"),
            shipping_address=address(),
        )


def test_dimensional_weight():
    parcel = Parcel(
        weight_grams=500, dimensions=Dimensions(length_mm=400, width_mm=300, height_mm=200)
    )
    assert parcel.dimensional_weight_grams() == 4800  # 24,000 cm3 / 5000
    assert parcel.billable_weight_grams() == 4800


def event(status, minutes):
    return TrackingEvent(
        tracking_number="T1",
        status=status,
        carrier_code=status.value,
        occurred_at=T0 + timedelta(minutes=minutes),
    )


def test_tracking_never_moves_backwards():
    status = TrackingStatus.UNKNOWN
    for e in [
        event(TrackingStatus.OUT_FOR_DELIVERY, 30),
        event(TrackingStatus.IN_TRANSIT, 10),
        event(TrackingStatus.PRE_TRANSIT, 0),
    ]:
        status = advance(status, e)
    assert status is TrackingStatus.OUT_FOR_DELIVERY
    status = advance(status, event(TrackingStatus.DELIVERED, 40))
    assert advance(status, event(TrackingStatus.EXCEPTION, 50)) is TrackingStatus.DELIVERED


@given(
    st.lists(
        st.tuples(st.sampled_from(list(TrackingStatus)), st.integers(min_value=0, max_value=500)),
        max_size=30,
    )
)
def test_tracking_status_only_moves_forward_whatever_arrives(arrivals):
    """Duplicates, late and out-of-order events: the rank never drops, a final status stays."""
    status = TrackingStatus.UNKNOWN
    for kind, minutes in arrivals:
        before = status
        status = advance(status, event(kind, minutes))
        assert PROGRESS_RANK[status] >= PROGRESS_RANK[before]
        if before.is_final:
            assert status is before

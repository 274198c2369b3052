"""Late channel versions: what each change means at each point of the order's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hub.domain.address import Address, Contact
from hub.domain.changes import Outcome, Phase, changes
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.status import PaymentStatus

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def order(**overrides: object) -> Order:
    base = Order(
        marketplace="sandbox",
        external_id="1001",
        placed_at=T0,
        updated_at=T0,
        currency="EUR",
        lines=(
            OrderLine(
                line_id="1",
                sku="MUG",
                quantity=1,
                unit_price=Money(amount=Decimal(9), currency="EUR"),
            ),
        ),
        customer=Contact(name="A B", email="a@example.com"),
        shipping_address=Address(
            name="A B", line1="Storgatan 1", city="Stockholm", postal_code="114 55", country="SE"
        ),
    )
    return base.model_copy(update={"updated_at": T0 + timedelta(minutes=1), **overrides})


NEW_ADDRESS = Address(
    name="A B", line1="Drottninggatan 2", city="Stockholm", postal_code="111 51", country="SE"
)


def outcomes(old: Order, new: Order, phase: Phase) -> list[Outcome]:
    return [c.outcome for c in changes(old, new, phase)]


def test_before_reservation_everything_is_taken_in():
    old = order()
    new = order(
        shipping_address=NEW_ADDRESS, lines=(old.lines[0].model_copy(update={"quantity": 2}),)
    )
    assert outcomes(old, new, Phase.BEFORE_RESERVATION) == [Outcome.TAKE_IN]


def test_a_repeat_of_the_same_version_changes_nothing():
    assert outcomes(order(), order(), Phase.BEFORE_LABEL) == []


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.BEFORE_RESERVATION, Outcome.TAKE_IN),
        (Phase.BEFORE_LABEL, Outcome.APPLY_ADDRESS),
        (Phase.LABELLED, Outcome.HOLD_ADDRESS),
        (Phase.SHIPPED, Outcome.RECORD),
    ],
)
def test_an_address_edit_depends_on_how_far_the_order_got(phase, expected):
    assert outcomes(order(), order(shipping_address=NEW_ADDRESS), phase) == [expected]


@pytest.mark.parametrize("status", [PaymentStatus.REFUNDED, PaymentStatus.VOIDED])
@pytest.mark.parametrize("phase", [Phase.BEFORE_RESERVATION, Phase.BEFORE_LABEL, Phase.LABELLED])
def test_a_refund_or_void_before_shipping_stops_the_order(status, phase):
    old = order(
        payment_status=PaymentStatus.PAID
        if status is PaymentStatus.REFUNDED
        else PaymentStatus.AUTHORIZED
    )
    assert outcomes(old, order(payment_status=status), phase) == [Outcome.STOP]


def test_a_refund_after_shipping_is_recorded_for_after_sales():
    old = order(payment_status=PaymentStatus.PAID)
    assert outcomes(old, order(payment_status=PaymentStatus.REFUNDED), Phase.SHIPPED) == [
        Outcome.RECORD
    ]


def test_payment_moves_follow_the_transition_table():
    pending = order(payment_status=PaymentStatus.PENDING)
    assert outcomes(
        pending, order(payment_status=PaymentStatus.PAID), Phase.BEFORE_RESERVATION
    ) == [Outcome.APPLY_PAYMENT]
    refunded = order(payment_status=PaymentStatus.REFUNDED)
    backwards = changes(refunded, order(payment_status=PaymentStatus.PAID), Phase.BEFORE_LABEL)
    assert [c.outcome for c in backwards] == [Outcome.RECORD]
    assert "not a valid move" in backwards[0].what


def test_lines_changed_after_reservation_hold_for_a_person():
    old = order()
    more = (old.lines[0].model_copy(update={"quantity": 3}),)
    assert outcomes(old, order(lines=more), Phase.BEFORE_LABEL) == [Outcome.HOLD_LINES]
    assert outcomes(old, order(lines=more), Phase.SHIPPED) == [Outcome.RECORD]

import pytest

from hub.domain.status import (
    FULFILMENT_TRANSITIONS,
    ORDER_STAGE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    FulfilmentStatus,
    IllegalTransitionError,
    OrderStage,
    PaymentStatus,
    transition,
)


@pytest.mark.parametrize(
    "table", [ORDER_STAGE_TRANSITIONS, PAYMENT_TRANSITIONS, FULFILMENT_TRANSITIONS]
)
def test_every_status_has_a_row(table):
    enum = type(next(iter(table)))
    assert set(table) == set(enum)


def test_happy_path_stages_are_legal():
    path = [
        OrderStage.RECEIVED,
        OrderStage.VALIDATING,
        OrderStage.RESERVING,
        OrderStage.PICKING,
        OrderStage.PACKING,
        OrderStage.LABELLING,
        OrderStage.CONFIRMING,
        OrderStage.IN_TRANSIT,
        OrderStage.DELIVERED,
        OrderStage.COMPLETED,
    ]
    current = path[0]
    for nxt in path[1:]:
        current = transition(current, nxt)
    assert current is OrderStage.COMPLETED


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (OrderStage.COMPLETED, OrderStage.PICKING),
        (OrderStage.IN_TRANSIT, OrderStage.CANCELLED),
        (OrderStage.CANCELLED, OrderStage.VALIDATING),
        (PaymentStatus.REFUNDED, PaymentStatus.PAID),
        (FulfilmentStatus.DELIVERED, FulfilmentStatus.SHIPPED),
        (FulfilmentStatus.SHIPPED, FulfilmentStatus.CANCELLED),
    ],
)
def test_illegal_moves_are_refused(current, new):
    with pytest.raises(IllegalTransitionError, match="is not allowed"):
        transition(current, new)


def test_hold_returns_to_the_stage_that_raised_it():
    for stage in (OrderStage.VALIDATING, OrderStage.RESERVING, OrderStage.LABELLING):
        assert transition(transition(stage, OrderStage.ON_HOLD), stage) is stage

"""Order status as separate dimensions, each with an explicit forward-only transition table.

Modelled on Apache OFBiz's StatusValidChange: a move not in the table is illegal and raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class IllegalTransitionError(ValueError):
    """A status change that the dimension's transition table does not allow."""


class OrderStage(StrEnum):
    """Where the order is in its lifecycle; also the `OrderStage` search attribute."""

    RECEIVED = "received"
    VALIDATING = "validating"
    ON_HOLD = "on_hold"
    AWAITING_RELEASE = "awaiting_release"
    """A presale order waiting for its release date (a durable timer)."""
    RESERVING = "reserving"
    PICKING = "picking"
    PACKING = "packing"
    LABELLING = "labelling"
    CONFIRMING = "confirming"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    """Stopped before anything left the warehouse: stock released, labels voided."""
    CLOSED = "closed"
    """Ended by a person after a parcel was not delivered (e.g. the customer was refunded)."""

    @property
    def is_terminal(self) -> bool:
        return not ORDER_STAGE_TRANSITIONS[self]


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class FulfilmentStatus(StrEnum):
    """Per shipment."""

    ALLOCATED = "allocated"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    LABELLED = "labelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    FAILED = "failed"
    RETURNED = "returned"
    CANCELLED = "cancelled"


_S = OrderStage
_ACTIVE = {
    _S.VALIDATING,
    _S.AWAITING_RELEASE,
    _S.RESERVING,
    _S.PICKING,
    _S.PACKING,
    _S.LABELLING,
    _S.CONFIRMING,
}

ORDER_STAGE_TRANSITIONS: Mapping[OrderStage, frozenset[OrderStage]] = {
    _S.RECEIVED: frozenset({_S.VALIDATING, _S.ON_HOLD, _S.CANCELLED}),
    _S.VALIDATING: frozenset({_S.AWAITING_RELEASE, _S.RESERVING, _S.ON_HOLD, _S.CANCELLED}),
    _S.AWAITING_RELEASE: frozenset({_S.VALIDATING, _S.RESERVING, _S.ON_HOLD, _S.CANCELLED}),
    # A fixed hold goes back to the stage that raised it (or re-validates); a hold after
    # shipping ends delivered (a reship arrived) or closed (a person settled it).
    _S.ON_HOLD: frozenset(_ACTIVE | {_S.IN_TRANSIT, _S.DELIVERED, _S.CANCELLED, _S.CLOSED}),
    _S.RESERVING: frozenset({_S.PICKING, _S.ON_HOLD, _S.CANCELLED}),
    _S.PICKING: frozenset({_S.PACKING, _S.ON_HOLD, _S.CANCELLED}),
    _S.PACKING: frozenset({_S.LABELLING, _S.ON_HOLD, _S.CANCELLED}),
    _S.LABELLING: frozenset({_S.CONFIRMING, _S.ON_HOLD, _S.CANCELLED}),
    # Once a label exists, cancellation voids it; after handover the parcel is in transit.
    # A split order goes back to picking (or packing, after a relabel) for its next shipment.
    _S.CONFIRMING: frozenset(
        {_S.PICKING, _S.PACKING, _S.LABELLING, _S.IN_TRANSIT, _S.ON_HOLD, _S.CANCELLED}
    ),
    # A parcel that does not arrive is held for a person (who may reship it).
    _S.IN_TRANSIT: frozenset({_S.DELIVERED, _S.ON_HOLD}),
    _S.DELIVERED: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.CLOSED: frozenset(),
}

_P = PaymentStatus
PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    _P.PENDING: frozenset({_P.AUTHORIZED, _P.PAID, _P.VOIDED}),
    _P.AUTHORIZED: frozenset({_P.PAID, _P.VOIDED}),
    _P.PAID: frozenset({_P.PARTIALLY_REFUNDED, _P.REFUNDED}),
    _P.PARTIALLY_REFUNDED: frozenset({_P.PARTIALLY_REFUNDED, _P.REFUNDED}),
    _P.REFUNDED: frozenset(),
    _P.VOIDED: frozenset(),
}

_F = FulfilmentStatus
FULFILMENT_TRANSITIONS: Mapping[FulfilmentStatus, frozenset[FulfilmentStatus]] = {
    _F.ALLOCATED: frozenset({_F.PICKING, _F.CANCELLED}),
    _F.PICKING: frozenset({_F.PICKED, _F.CANCELLED}),
    _F.PICKED: frozenset({_F.PACKED, _F.CANCELLED}),
    # A packed shipment whose label is voided (address changed) goes back to be labelled.
    _F.PACKED: frozenset({_F.LABELLED, _F.CANCELLED}),
    _F.LABELLED: frozenset({_F.PACKED, _F.SHIPPED, _F.CANCELLED}),
    # FAILED: the carrier lost it or could not deliver it for good; RETURNED: coming back.
    # Both are final for the parcel: a reship is a new shipment.
    _F.SHIPPED: frozenset({_F.DELIVERED, _F.FAILED, _F.RETURNED}),
    _F.FAILED: frozenset(),
    _F.DELIVERED: frozenset({_F.RETURNED}),
    _F.RETURNED: frozenset(),
    _F.CANCELLED: frozenset(),
}

StatusT = TypeVar("StatusT", OrderStage, PaymentStatus, FulfilmentStatus)

_TABLES: dict[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    OrderStage: ORDER_STAGE_TRANSITIONS,  # type: ignore[dict-item]
    PaymentStatus: PAYMENT_TRANSITIONS,  # type: ignore[dict-item]
    FulfilmentStatus: FULFILMENT_TRANSITIONS,  # type: ignore[dict-item]
}


def can_transition(current: StatusT, new: StatusT) -> bool:
    return new in _TABLES[type(current)][current]


def transition(current: StatusT, new: StatusT) -> StatusT:
    """Return `new` if the move from `current` is allowed; raise IllegalTransitionError if not."""
    if not can_transition(current, new):
        dimension = type(current).__name__
        raise IllegalTransitionError(f"{dimension}: {current.value} -> {new.value} is not allowed")
    return new

"""What a newer version of an order from its channel means at each point of its life.

Channels send new versions at any time: payment captured or refunded, address edited, lines
changed, a presale date moved. What the hub may do with each depends on how far the order got:
before stock is reserved anything can be taken in and re-validated; once a label is bought an
address change needs a person; once a parcel left, changes are after-sales matters. Pure.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from hub.domain.order import Order
from hub.domain.status import PaymentStatus, can_transition


class Phase(StrEnum):
    """How far the order got, as far as a channel change is concerned."""

    BEFORE_RESERVATION = "before_reservation"
    BEFORE_LABEL = "before_label"
    LABELLED = "labelled"
    """A label is bought for a shipment that has not left yet."""
    SHIPPED = "shipped"
    """Every remaining shipment has left (in transit, delivered, or settled)."""


class Outcome(StrEnum):
    TAKE_IN = "take_in"
    """Adopt the new version; the order re-validates."""
    APPLY_ADDRESS = "apply_address"
    """Adopt the new address after re-validating it; shipments not yet labelled are re-quoted."""
    HOLD_ADDRESS = "hold_address"
    """A label exists for the old address: a person relabels or keeps the old address."""
    HOLD_LINES = "hold_lines"
    """Stock is reserved for the old lines: a person keeps them (retry) or cancels."""
    APPLY_PAYMENT = "apply_payment"
    STOP = "stop"
    """Refunded or voided before anything shipped: cancel, release stock, tell the customer."""
    APPLY_RELEASE_DATE = "apply_release_date"
    RECORD = "record"
    """Too late to act on: kept on the order for after-sales (and shown to operators)."""


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    what: str
    """Operator-facing, no personal data."""


STOPPING_PAYMENTS = frozenset({PaymentStatus.REFUNDED, PaymentStatus.VOIDED})


def changes(old: Order, new: Order, phase: Phase) -> list[Change]:
    """The outcomes of receiving `new` when the order holds `old`, in the order to apply them.

    Before reservation the whole version is taken in (validation re-runs on it), so the
    other outcomes only arise later."""
    found: list[Change] = []
    if new.payment_status is not old.payment_status:
        payment = _payment(old.payment_status, new.payment_status, phase)
        if payment.outcome is Outcome.STOP:
            return [payment]
        found.append(payment)
    if phase is Phase.BEFORE_RESERVATION:
        if _differs(old, new):
            found.append(Change(outcome=Outcome.TAKE_IN, what="new version taken in"))
        return found
    if new.shipping_address != old.shipping_address:
        found.append(_address(phase))
    if line_signature(new) != line_signature(old):
        found.append(
            Change(outcome=Outcome.RECORD, what="lines changed after shipping")
            if phase is Phase.SHIPPED
            else Change(
                outcome=Outcome.HOLD_LINES,
                what="the channel changed the lines after stock was reserved: retry ships the "
                "lines as reserved; cancel stops the order",
            )
        )
    if new.release_at != old.release_at:
        found.append(Change(outcome=Outcome.RECORD, what="presale date changed after reservation"))
    return found


def _payment(old: PaymentStatus, new: PaymentStatus, phase: Phase) -> Change:
    if not can_transition(old, new):
        return Change(
            outcome=Outcome.RECORD,
            what=f"payment {new.value} after {old.value} is not a valid move; ignored",
        )
    if new in STOPPING_PAYMENTS:
        if phase is Phase.SHIPPED:
            return Change(outcome=Outcome.RECORD, what=f"payment {new.value} after shipping")
        return Change(outcome=Outcome.STOP, what=f"payment {new.value} at the channel")
    return Change(outcome=Outcome.APPLY_PAYMENT, what=f"payment {new.value}")


def _address(phase: Phase) -> Change:
    if phase is Phase.BEFORE_LABEL:
        return Change(outcome=Outcome.APPLY_ADDRESS, what="address changed; re-validated")
    if phase is Phase.LABELLED:
        return Change(
            outcome=Outcome.HOLD_ADDRESS,
            what="the channel changed the address after the label was bought: relabel voids it "
            "and buys one to the new address; keep-address ships to the address on the label",
        )
    return Change(outcome=Outcome.RECORD, what="address changed after shipping")


def line_signature(order: Order) -> tuple[tuple[str, str, int], ...]:
    """What was ordered, line by line: equal signatures mean the same goods."""
    return tuple(sorted((line.line_id, line.sku, line.quantity) for line in order.lines))


def _differs(old: Order, new: Order) -> bool:
    ignore = {"updated_at", "payment_status"}
    return old.model_dump(exclude=ignore) != new.model_dump(exclude=ignore)

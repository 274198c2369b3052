"""Why an order waits for a person, in words an operator can act on, and what resolves it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class HoldCode(StrEnum):
    """Machine-readable hold reason; also the `Attention` search attribute. Never personal data."""

    INVALID_ADDRESS = "invalid_address"
    UNKNOWN_SKU = "unknown_sku"
    UNPAID = "unpaid"
    OUT_OF_STOCK = "out_of_stock"
    """Not enough stock to reserve; re-checked on a timer, so a restock resumes the order."""
    SHORT_PICK = "short_pick"
    """The shelf held fewer units than reserved; re-picked on a timer after a restock."""
    WAREHOUSE_REJECTED = "warehouse_rejected"
    """The warehouse refused a request (no packaging fits, a stale reservation...)."""
    NO_CARRIER = "no_carrier"
    LABEL_UNCERTAIN = "label_uncertain"
    """A purchase may have gone through: a person checks the carrier account before retrying."""
    LABEL_REFUSED = "label_refused"
    """The carrier refused the label request (address, service, weight...)."""
    CUSTOMS_DATA_MISSING = "customs_data_missing"
    """A cross-border parcel holds a SKU without HS code or country of origin."""
    MARKETPLACE_REJECTED = "marketplace_rejected"
    TRACKING_EXCEPTION = "tracking_exception"
    """A parcel was not delivered (returned, refused, cancelled by the carrier)."""
    ADDRESS_CHANGED = "address_changed"
    """The channel changed the address after the label was bought."""
    ORDER_CHANGED = "order_changed"
    """The channel changed the lines after stock was reserved."""
    HUB_ERROR = "hub_error"
    """The hub met a state its rules do not allow: a bug to report; the order waits safely."""


class OutageCode(StrEnum):
    """`Attention` while a call keeps failing for longer than the stage allows. Not a hold:
    the order keeps retrying in its stage and the code clears when the call succeeds."""

    WAREHOUSE_UNREACHABLE = "warehouse_unreachable"
    CARRIER_UNREACHABLE = "carrier_unreachable"
    CHANNEL_UNREACHABLE = "channel_unreachable"
    NOTIFIER_UNREACHABLE = "notifier_unreachable"


class Action(StrEnum):
    """What a person (or the channel) can do about a hold; the `hub orders` sub-command."""

    FIX_ADDRESS = "fix-address"
    FIX_SKU = "fix-sku"
    RETRY = "retry"
    SHIP_AVAILABLE = "ship-available"
    RELABEL = "relabel"
    KEEP_ADDRESS = "keep-address"
    MARK_CONFIRMED = "mark-confirmed"
    """The channel was told by hand (e.g. a reship's tracking): the parcel goes on."""
    RESHIP = "reship"
    CLOSE = "close"
    CANCEL = "cancel"
    CHANNEL_UPDATE = "channel update"
    """A newer version of the order from the channel (paid, address or SKU corrected)."""
    RESTOCK = "restock"
    """Stock arriving in the warehouse: re-checked on a timer, no command needed."""

    @property
    def is_command(self) -> bool:
        """True for what a person runs as `hub orders <action>`; the rest happen outside."""
        return self not in {Action.CHANNEL_UPDATE, Action.RESTOCK}

    def how(self) -> str:
        """The action as an operator reads it."""
        if self is Action.CHANNEL_UPDATE:
            return "a corrected order from the channel"
        if self is Action.RESTOCK:
            return "a restock (re-checked on its own)"
        return f"hub orders {self.value}"


_A = Action
RESOLUTIONS: dict[HoldCode, tuple[Action, ...]] = {
    HoldCode.INVALID_ADDRESS: (_A.FIX_ADDRESS, _A.CHANNEL_UPDATE, _A.CANCEL),
    HoldCode.UNKNOWN_SKU: (_A.FIX_SKU, _A.CHANNEL_UPDATE, _A.CANCEL),
    HoldCode.UNPAID: (_A.CHANNEL_UPDATE, _A.RETRY, _A.CANCEL),
    HoldCode.OUT_OF_STOCK: (_A.RESTOCK, _A.RETRY, _A.CANCEL),
    HoldCode.SHORT_PICK: (_A.RESTOCK, _A.RETRY, _A.SHIP_AVAILABLE, _A.CANCEL),
    HoldCode.WAREHOUSE_REJECTED: (_A.RETRY, _A.CANCEL),
    HoldCode.NO_CARRIER: (_A.RETRY, _A.CANCEL),
    HoldCode.LABEL_UNCERTAIN: (_A.RETRY, _A.CANCEL),
    HoldCode.LABEL_REFUSED: (_A.FIX_ADDRESS, _A.RETRY, _A.CANCEL),
    HoldCode.CUSTOMS_DATA_MISSING: (_A.RETRY, _A.CANCEL),
    HoldCode.MARKETPLACE_REJECTED: (_A.RETRY, _A.MARK_CONFIRMED, _A.CANCEL),
    HoldCode.TRACKING_EXCEPTION: (_A.RESHIP, _A.CLOSE),
    HoldCode.ADDRESS_CHANGED: (_A.RELABEL, _A.KEEP_ADDRESS, _A.CANCEL),
    HoldCode.ORDER_CHANGED: (_A.RETRY, _A.CANCEL),
    HoldCode.HUB_ERROR: (_A.RETRY, _A.CANCEL),
}
"""Every hold has at least one action that ends it; `retry` re-runs the step that held."""

CUSTOMER_NOTICE_HOLDS = frozenset(
    {HoldCode.INVALID_ADDRESS, HoldCode.UNPAID, HoldCode.OUT_OF_STOCK, HoldCode.SHORT_PICK}
)
"""Holds the customer hears about (once per code): their order waits, and they may help."""

CUSTOMER_HOLD_REASONS: dict[HoldCode, str] = {
    HoldCode.INVALID_ADDRESS: "we could not verify your delivery address",
    HoldCode.UNPAID: "we have not yet received your payment",
    HoldCode.OUT_OF_STOCK: "an item is out of stock; we ship as soon as it arrives",
    HoldCode.SHORT_PICK: "an item is out of stock; we ship as soon as it arrives",
}
"""What the customer is told: never the operator's message (it may name suppliers or SKUs)."""


class HoldReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: HoldCode
    message: str
    """One line an operator can act on; safe to show in the Temporal UI (no personal data)."""

    @property
    def actions(self) -> tuple[Action, ...]:
        return RESOLUTIONS[self.code]

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

    def describe(self) -> str:
        """The hold with what resolves it, for the workflow's current details."""
        return f"{self.message} (resolve: {', '.join(a.value for a in self.actions)})"

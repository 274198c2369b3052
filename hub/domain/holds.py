"""Why an order waits for a person, in words an operator can act on."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class HoldCode(StrEnum):
    """Machine-readable hold reason; also the `Attention` search attribute. Never personal data."""

    INVALID_ADDRESS = "invalid_address"
    UNKNOWN_SKU = "unknown_sku"
    UNPAID = "unpaid"
    OUT_OF_STOCK = "out_of_stock"
    NO_CARRIER = "no_carrier"
    LABEL_UNCERTAIN = "label_uncertain"
    """A purchase may have gone through: a person checks the carrier account before retrying."""
    LABEL_REFUSED = "label_refused"
    """The carrier refused the label request (address, service, weight...)."""
    CUSTOMS_DATA_MISSING = "customs_data_missing"
    """A cross-border parcel holds a SKU without HS code or country of origin."""
    MARKETPLACE_REJECTED = "marketplace_rejected"
    TRACKING_EXCEPTION = "tracking_exception"


class HoldReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: HoldCode
    message: str
    """One line an operator can act on; safe to show in the Temporal UI (no personal data)."""

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

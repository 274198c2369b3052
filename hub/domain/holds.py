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
    MARKETPLACE_REJECTED = "marketplace_rejected"
    TRACKING_EXCEPTION = "tracking_exception"


class HoldReason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: HoldCode
    message: str
    """One line an operator can act on; safe to show in the Temporal UI (no personal data)."""

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"

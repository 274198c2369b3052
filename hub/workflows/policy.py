"""Knobs the order workflow needs, passed in its input (workflows never read settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OrderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    warehouse: str = "embedded"
    """Warehouse plugin that holds the stock."""
    tracking_poll_seconds: float = Field(default=3600, gt=0)
    """How often to ask the carrier when no tracking push arrives."""
    tracking_history_limit: int = Field(default=2000, gt=100)
    """Continue the tracking workflow as new after this many history events."""
    review_invitation: bool = True
    hold_payment_statuses: tuple[str, ...] = ("pending", "voided")
    """Orders in these payment states wait for payment (Attention=unpaid)."""

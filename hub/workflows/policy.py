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
    attention_after_seconds: float = Field(default=600, gt=0)
    """A call failing for longer than this sets Attention (e.g. channel_unreachable)."""
    attention_after_seconds_by_stage: dict[str, float] = Field(default_factory=dict)
    """Per-stage overrides of `attention_after_seconds`, keyed by stage (`confirming`...)."""
    outage_retry_max_seconds: float = Field(default=60, gt=0)
    """Longest wait between two attempts of a failing call (server-side retries: no history)."""
    stock_recheck_seconds: float = Field(default=900, gt=0)
    """First re-check of an out-of-stock or short-pick hold; doubles up to the maximum."""
    stock_recheck_max_seconds: float = Field(default=6 * 3600, gt=0)
    notify_customer_of_holds: bool = True
    """Tell the customer once when their order waits on them or on stock."""

    def attention_after(self, stage: str) -> float:
        return self.attention_after_seconds_by_stage.get(stage, self.attention_after_seconds)

"""Payloads of the channel poller workflow and its activity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

POLL_PAGE_ACTIVITY = "poll_channel_page"

_FROZEN = ConfigDict(frozen=True)


class PollWindow(BaseModel):
    """Orders changed in [updated_after, updated_before), read page by page."""

    model_config = _FROZEN

    updated_after: datetime
    updated_before: datetime
    page_token: str | None = None
    pages_read: int = 0


class PollerConfig(BaseModel):
    model_config = _FROZEN

    interval_seconds: float = Field(default=300, gt=0)
    """Time between two polls of the channel."""
    overlap_seconds: float = Field(default=600, ge=0)
    """Each window starts this far before the last one ended: clocks drift and channels index
    late. Orders seen twice fold into their workflow; an order never seen would be lost."""
    settle_seconds: float = Field(default=120, ge=0)
    """A window ends this far in the past (Amazon: lastUpdatedBefore at least 2 minutes ago)."""
    initial_lookback_seconds: float = Field(default=86400, gt=0)
    """How far back the very first poll of an account reaches."""
    page_size: int = Field(default=50, gt=0, le=200)
    rounds_per_run: int = Field(default=100, gt=0)
    """Continue-as-new after this many windows, to keep history bounded."""


class PollerInput(BaseModel):
    model_config = _FROZEN

    marketplace: str
    account: str = "default"
    config: PollerConfig = PollerConfig()
    # Carried across continue-as-new:
    cursor: datetime | None = None
    """End of the last window read to the end: everything changed before it has been taken in."""
    window: PollWindow | None = None
    """The window being read, with the next page's token: a restart resumes here."""
    taken_in: int = 0


class PollPageInput(BaseModel):
    model_config = _FROZEN

    marketplace: str
    account: str
    window: PollWindow
    page_size: int


class PollPageResult(BaseModel):
    model_config = _FROZEN

    next_page_token: str | None
    events: int
    outcomes: dict[str, int] = Field(default_factory=dict)
    """Intake outcome -> count (started, updated, unchanged, recorded_problem...)."""


class PollerStatus(BaseModel):
    marketplace: str
    account: str
    cursor: datetime | None
    window: PollWindow | None
    taken_in: int
    last_error: str | None


def poller_workflow_id(marketplace: str, account: str) -> str:
    return f"poll:{marketplace}:{account}"

"""Polling is the truth: one long-running workflow per channel account reads every order changed
since its durable cursor and hands each to the intake, which starts or updates order workflows
idempotently. Webhooks are only a faster hint.

The cursor and the page being read live in workflow state, so a worker restart resumes on the
same page: nothing is skipped, and a page read twice only folds into the same workflows.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from hub.workflows.failures import ACTIVITY_FAILURES, describe
    from hub.workflows.polling_contracts import (
        POLL_PAGE_ACTIVITY,
        PollerInput,
        PollerStatus,
        PollPageInput,
        PollPageResult,
        PollWindow,
    )

PAGE_OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(minutes=2),
    "heartbeat_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=5,  # then the poller waits for its next round and says why
        non_retryable_error_types=["PermanentError"],
    ),
}


@workflow.defn(name="ChannelPoller")
class ChannelPollerWorkflow:
    @workflow.init
    def __init__(self, input: PollerInput) -> None:
        self._input = input
        self._cursor = input.cursor
        self._window = input.window
        self._taken_in = input.taken_in
        self._last_error: str | None = None
        self._poll_now = False

    @workflow.query(name="status")
    def status(self) -> PollerStatus:
        return PollerStatus(
            marketplace=self._input.marketplace,
            account=self._input.account,
            cursor=self._cursor,
            window=self._window,
            taken_in=self._taken_in,
            last_error=self._last_error,
        )

    @workflow.signal(name="poll_now")
    def poll_now(self) -> None:
        """Read the channel now instead of at the next interval (ops, tests)."""
        self._poll_now = True

    @workflow.run
    async def run(self, input: PollerInput) -> None:
        config = input.config
        for _ in range(config.rounds_per_run):
            window = self._window or self._next_window()
            if window is not None:
                self._window = window
                await self._read(window)
            self._poll_now = False
            with contextlib.suppress(TimeoutError):  # timing out means: time to poll again
                await workflow.wait_condition(
                    lambda: self._poll_now, timeout=timedelta(seconds=config.interval_seconds)
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            input.model_copy(
                update={"cursor": self._cursor, "window": self._window, "taken_in": self._taken_in}
            )
        )

    def _next_window(self) -> PollWindow | None:
        config = self._input.config
        now = workflow.now()
        end = now - timedelta(seconds=config.settle_seconds)
        if self._cursor is None:
            start = now - timedelta(seconds=config.initial_lookback_seconds)
        else:
            start = self._cursor - timedelta(seconds=config.overlap_seconds)
        if end <= start or (self._cursor is not None and end <= self._cursor):
            return None
        return PollWindow(updated_after=start, updated_before=end)

    async def _read(self, window: PollWindow) -> None:
        """Read the window page by page; the page token is saved after every page."""
        while True:
            workflow.set_current_details(
                f"reading changes {window.updated_after:%Y-%m-%d %H:%M:%S} to "
                f"{window.updated_before:%H:%M:%S} UTC, page {window.pages_read + 1}"
            )
            try:
                page = await workflow.execute_activity(
                    POLL_PAGE_ACTIVITY,
                    PollPageInput(
                        marketplace=self._input.marketplace,
                        account=self._input.account,
                        window=window,
                        page_size=self._input.config.page_size,
                    ),
                    result_type=PollPageResult,
                    **PAGE_OPTIONS,
                )
            except ACTIVITY_FAILURES as err:
                self._last_error = describe(err)
                if window.page_token is not None:
                    # Page tokens expire (Amazon: 24 h). Re-reading the window from its start
                    # is safe: the intake folds what it has already seen.
                    self._window = window.model_copy(update={"page_token": None, "pages_read": 0})
                workflow.set_current_details(f"last poll failed, retrying: {self._last_error}")
                return
            self._last_error = None
            self._taken_in += page.outcomes.get("started", 0)
            if page.next_page_token is None:
                self._cursor = window.updated_before
                self._window = None
                workflow.set_current_details(
                    f"up to date to {window.updated_before:%Y-%m-%d %H:%M:%S} UTC; "
                    f"{self._taken_in} orders taken in"
                )
                return
            window = window.model_copy(
                update={"page_token": page.next_page_token, "pages_read": window.pages_read + 1}
            )
            self._window = window

"""The poller's one activity: read a page of changed orders and hand each to the intake."""

from __future__ import annotations

import logging
from collections import Counter

from temporalio import activity

from hub.activities.errors import plugin_errors
from hub.activities.heartbeat import heartbeating
from hub.domain.messages import FetchRequest
from hub.host import PluginHost
from hub.intake import Intake
from hub.workflows.polling_contracts import POLL_PAGE_ACTIVITY, PollPageInput, PollPageResult

log = logging.getLogger(__name__)


class PollingActivities:
    def __init__(self, host: PluginHost, intake: Intake) -> None:
        self._host = host
        self._intake = intake

    def all(self) -> list[object]:
        return [self.poll_channel_page]

    @activity.defn(name=POLL_PAGE_ACTIVITY)
    async def poll_channel_page(self, input: PollPageInput) -> PollPageResult:
        window = input.window
        request = FetchRequest(
            account=input.account,
            updated_after=window.updated_after,
            updated_before=window.updated_before,
            page_token=window.page_token,
            page_size=input.page_size,
        )
        with plugin_errors(f"fetch orders from {input.marketplace}"):
            async with heartbeating():
                page = await self._host.fetch_orders(input.marketplace, request)
        outcomes: Counter[str] = Counter()
        async with heartbeating():
            for event in page.events:
                outcome = await self._intake.handle_event(event, ask_first=True)
                outcomes[outcome.value] += 1
        if outcomes:
            log.info(
                "polled %s/%s: %s",
                input.marketplace,
                input.account,
                ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())),
            )
        return PollPageResult(
            next_page_token=page.next_page_token, events=len(page.events), outcomes=dict(outcomes)
        )

"""Tracks one parcel until it is delivered or comes back, for as long as that takes.

One runs per tracking number (a shipment of several parcels has one per parcel), with id
``track:{carrier}:{tracking number}``, which is how carrier pushes find it.

A child of the order workflow. It polls the carrier on a timer, and wakes early when a carrier
webhook signals events in. Status only moves forward (duplicates and late arrivals are ignored);
the customer is told once per milestone; a parcel whose estimate slips past the promise raises
a delay notice. Weeks in transit stay within bounded history through continue-as-new.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from hub.domain.messages import CustomerNotice, NoticeKind, TrackingUpdate
    from hub.domain.tracking import TrackingEvent, TrackingStatus, advance
    from hub.workflows.contracts import (
        Activity,
        NoticeInput,
        TrackingInput,
        TrackingPush,
        TrackingResult,
        TrackInput,
    )
    from hub.workflows.failures import (
        ACTIVITY_FAILURES,
        describe,
        is_permanent,
    )
    from hub.workflows.options import QUICK

# Notices sent when a parcel reaches these statuses.
MILESTONE_NOTICES: dict[TrackingStatus, NoticeKind] = {
    TrackingStatus.OUT_FOR_DELIVERY: NoticeKind.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERY_FAILED: NoticeKind.DELIVERY_FAILED,
    TrackingStatus.DELIVERED: NoticeKind.DELIVERED,
}
# How many event keys to remember across continue-as-new (enough to drop redeliveries).
SEEN_KEYS_KEPT = 200


@workflow.defn(name="ShipmentTracking")
class ShipmentTrackingWorkflow:
    @workflow.init
    def __init__(self, input: TrackingInput) -> None:
        self._input = input
        self._status = input.status
        self._seen = set(input.seen_event_keys)
        self._seen_order = list(input.seen_event_keys)
        self._notices = list(input.notices_sent)
        self._last = input.last_event
        self._pushed: list[TrackingEvent] = []
        self._retry_notices: dict[str, tuple[NoticeKind, TrackingEvent]] = {}
        self._promised = input.promised_by
        self._promise_open = input.promise_from_carrier

    @workflow.signal(name="tracking_events")
    def tracking_events(self, push: TrackingPush) -> None:
        self._pushed.extend(push.events)

    @workflow.query(name="status")
    def status(self) -> TrackingResult:
        return self._result()

    @workflow.run
    async def run(self, input: TrackingInput) -> TrackingResult:
        poll = timedelta(seconds=input.poll_seconds)
        while True:
            await self._apply([*await self._poll(), *self._drain()])
            if self._status.is_final:
                return self._result()
            if self._history_full():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carry_over())
            with contextlib.suppress(TimeoutError):  # timing out means: time to poll again
                await workflow.wait_condition(lambda: bool(self._pushed), timeout=poll)
            if self._pushed:
                await self._apply(self._drain())
                if self._status.is_final:
                    return self._result()

    async def _poll(self) -> list[TrackingEvent]:
        """The carrier's events; none if it cannot answer now (the next poll asks again, so an
        outage costs one marker per poll, never a growing retry loop)."""
        try:
            update = await workflow.execute_local_activity(
                Activity.TRACK.value,
                TrackInput(
                    carrier=self._input.carrier, tracking_number=self._input.tracking_number
                ),
                result_type=TrackingUpdate,
                **QUICK,
            )
        except ACTIVITY_FAILURES as err:
            workflow.set_current_details(f"carrier not answering: {describe(err)}")
            return []
        return list(update.events)

    async def _apply(self, events: list[TrackingEvent]) -> None:
        for pending, earlier in list(self._retry_notices.values()):
            await self._notify(pending, earlier)
        for event in sorted(events, key=lambda e: e.occurred_at):
            if event.dedupe_key in self._seen:
                continue
            self._remember(event.dedupe_key)
            before = self._status
            self._status = advance(self._status, event)
            if self._last is None or event.occurred_at >= self._last.occurred_at:
                self._last = event
            if self._status is not before:
                workflow.set_current_details(f"{self._status.value}: {event.description}")
                kind = MILESTONE_NOTICES.get(self._status)
                if kind is not None:
                    await self._notify(kind, event)
            if not self._adopt_carrier_promise(event) and self._late(event):
                await self._notify(NoticeKind.DELAYED, event)

    def _adopt_carrier_promise(self, event: TrackingEvent) -> bool:
        """The carrier's first ETA after handover is its commitment: a quote made minutes
        earlier does not count against it. True if this event set the promise."""
        if not self._promise_open or event.estimated_delivery is None:
            return False
        self._promised = max(filter(None, (self._promised, event.estimated_delivery)))
        self._promise_open = False
        return True

    def _late(self, event: TrackingEvent) -> bool:
        promised = self._promised
        if promised is None or self._status.is_final:
            return False
        estimate = event.estimated_delivery
        return (estimate is not None and estimate > promised) or event.occurred_at > promised

    async def _notify(self, kind: NoticeKind, event: TrackingEvent) -> None:
        key = f"{self._input.order_key}:{kind.value}:{self._input.tracking_number}"
        if key in self._notices:
            return
        facts = {
            "carrier": self._input.carrier,
            "tracking_number": self._input.tracking_number,
            "status": event.status.value,
            "description": event.description,
        }
        if self._input.parcel_count > 1:
            facts["parcel"] = f"{self._input.parcel_number} of {self._input.parcel_count}"
        if event.estimated_delivery is not None:
            facts["eta"] = event.estimated_delivery.isoformat()
        notice = CustomerNotice(
            notice_key=key,
            kind=kind,
            order_key=self._input.order_key,
            marketplace=self._input.marketplace,
            recipient=self._input.recipient,
            facts=facts,
        )
        try:
            await workflow.execute_local_activity(
                Activity.NOTIFY.value,
                NoticeInput(notice=notice),
                **QUICK,
            )
        except ACTIVITY_FAILURES as err:
            # An unreachable customer must not stop tracking the parcel: a refused notice is
            # given up, one the notifier could not take now is tried again at the next poll.
            workflow.logger.warning("notice %s not sent: %s", key, describe(err))
            if not is_permanent(err):
                self._retry_notices[key] = (kind, event)
            return
        self._retry_notices.pop(key, None)
        self._notices.append(key)

    def _drain(self) -> list[TrackingEvent]:
        pushed, self._pushed = self._pushed, []
        return pushed

    def _remember(self, key: str) -> None:
        self._seen.add(key)
        self._seen_order.append(key)

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.get_current_history_length() >= self._input.history_limit
            or info.is_continue_as_new_suggested()
        )

    def _carry_over(self) -> TrackingInput:
        return self._input.model_copy(
            update={
                "status": self._status,
                "seen_event_keys": tuple(self._seen_order[-SEEN_KEYS_KEPT:]),
                "notices_sent": tuple(self._notices),
                "last_event": self._last,
                "promised_by": self._promised,
                "promise_from_carrier": self._promise_open,
            }
        )

    def _result(self) -> TrackingResult:
        delivered = self._status is TrackingStatus.DELIVERED
        return TrackingResult(
            shipment_id=self._input.shipment_id,
            tracking_number=self._input.tracking_number,
            status=self._status,
            delivered_at=self._last.occurred_at if delivered and self._last else None,
            last_event=self._last,
            delayed=any(":delayed:" in key for key in self._notices),
        )

"""`track_shipment` hands in buffered pushes with the carrier's events, and only claims them
once nothing can fail: a failed or replayed call loses none."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from hub.activities.orders import OrderActivities
from hub.documents import LocalDocumentStore
from hub.domain.carrier_choice import CarrierRules
from hub.domain.messages import TrackingUpdate, TrackRequest
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.errors import TransientError
from hub.pushes import PushBuffer
from hub.settings import PackingRules
from hub.workflows.contracts import TrackInput

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NUMBER = "SBX0001"


def event(code: str, status: TrackingStatus, minutes: int) -> TrackingEvent:
    return TrackingEvent(
        tracking_number=NUMBER,
        status=status,
        carrier_code=code,
        description=code,
        occurred_at=T0 + timedelta(minutes=minutes),
    )


POLLED = event("IT", TrackingStatus.IN_TRANSIT, 0)
PUSHED = event("DL", TrackingStatus.DELIVERED, 5)


class Host:
    """A carrier whose tracking API answers POLLED, or fails while `down`."""

    def __init__(self) -> None:
        self.down = False

    async def track(self, carrier: str, request: TrackRequest) -> TrackingUpdate:
        if self.down:
            raise TransientError("carrier API unavailable")
        return TrackingUpdate(events=(POLLED,))


@pytest.fixture
def setup(tmp_path):
    host = Host()
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    activities = OrderActivities(
        host=host,  # type: ignore[arg-type]
        documents=LocalDocumentStore(tmp_path / "documents"),
        carrier_rules=CarrierRules(),
        packing_rules=PackingRules(),
        pushes=buffer,
    )
    return host, buffer, activities


def call(activities: OrderActivities, activity_id: str, run_id: str = "run-1"):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        workflow_id="track:sandbox:SBX0001",
        workflow_run_id=run_id,
        activity_id=activity_id,
    )
    return env.run(activities.track_shipment, TrackInput(carrier="sandbox", tracking_number=NUMBER))


async def test_buffered_pushes_come_with_the_polled_events_once(setup):
    _, buffer, activities = setup
    buffer.store("sandbox", NUMBER, [PUSHED])
    buffer.store("sandbox", "SBX0002", [PUSHED.model_copy(update={"tracking_number": "SBX0002"})])
    first = await call(activities, "1")
    assert first.events == (POLLED, PUSHED)
    # Its result never reached history (the worker died): the replay of this call gets it again.
    assert (await call(activities, "1")).events == (POLLED, PUSHED)
    # The next poll, or the next run after continue-as-new, does not.
    assert (await call(activities, "2")).events == (POLLED,)
    assert (await call(activities, "1", run_id="run-2")).events == (POLLED,)
    assert buffer.pending() == 1  # the other parcel's push is still waiting


async def test_a_failed_carrier_poll_leaves_the_pushes_for_the_retry(setup):
    host, buffer, activities = setup
    buffer.store("sandbox", NUMBER, [PUSHED])
    host.down = True
    with pytest.raises(ApplicationError, match="carrier API unavailable"):
        await call(activities, "1")
    assert buffer.pending() == 1
    host.down = False
    # A retry after backoff may run under a new activity id: the events were never claimed.
    assert (await call(activities, "3")).events == (POLLED, PUSHED)


async def test_without_a_buffer_only_the_polled_events(tmp_path):
    activities = OrderActivities(
        host=Host(),  # type: ignore[arg-type]
        documents=LocalDocumentStore(tmp_path / "documents"),
        carrier_rules=CarrierRules(),
        packing_rules=PackingRules(),
    )
    assert (await call(activities, "1")).events == (POLLED,)

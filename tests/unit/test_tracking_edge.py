"""The carrier push route's answer per parcel, against a scripted Temporal: what happens when the
tracking workflow does not exist, has ended, or starts while the push is being buffered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from hub.domain.messages import TrackingUpdate
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.plugin import Family
from hub.pushes import PushBuffer
from hub.webhooks import create_app

NUMBER = "SBX0001"
EVENT = TrackingEvent(
    tracking_number=NUMBER,
    status=TrackingStatus.DELIVERED,
    carrier_code="DL",
    description="delivered to the front door",
    occurred_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
)


def _rpc(status: RPCStatusCode) -> RPCError:
    return RPCError(status.name.lower(), status, b"")


class Handle:
    """A tracking workflow handle whose signals answer from a script, in order."""

    def __init__(self, signals: list[RPCError | None], status: WorkflowExecutionStatus | None):
        self.signals = signals
        self.signalled: list[Any] = []
        self.status = status

    async def signal(self, name: str, push: Any) -> None:
        outcome = self.signals.pop(0)
        if outcome is not None:
            raise outcome
        self.signalled.append(push)

    async def describe(self) -> Any:
        if self.status is None:
            raise _rpc(RPCStatusCode.NOT_FOUND)
        return SimpleNamespace(status=self.status)


class Host:
    """Only a sandbox carrier enabled, whose parser reads one delivered event from any push."""

    def names(self, family: Family) -> list[str]:
        return ["sandbox"] if family is Family.CARRIERS else []

    def describe(self) -> list[dict[str, str]]:
        return []

    async def parse_tracking_webhook(self, carrier: str, request: Any) -> TrackingUpdate:
        return TrackingUpdate(events=(EVENT,))


async def _push(handle: Handle, buffer: PushBuffer, tmp_path: Path) -> httpx.Response:
    client = SimpleNamespace(get_workflow_handle=lambda workflow_id: handle)
    app = create_app(Host(), SimpleNamespace(client=client), tmp_path / "rejects.jsonl", buffer)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        return await http.post("/webhooks/carriers/sandbox", content=b"{}")


NOT_FOUND = _rpc(RPCStatusCode.NOT_FOUND)


async def test_a_push_before_tracking_exists_is_buffered(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    handle = Handle([NOT_FOUND, NOT_FOUND], status=None)
    answer = await _push(handle, buffer, tmp_path)
    assert answer.json() == {"parcels": {NUMBER: "buffered"}}
    assert buffer.take("sandbox", NUMBER, "run/1") == [EVENT]


async def test_tracking_that_starts_while_buffering_gets_the_push_by_signal(tmp_path):
    # Its first poll may have looked at the buffer before the push was stored in it.
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    handle = Handle([NOT_FOUND, None], status=None)
    answer = await _push(handle, buffer, tmp_path)
    assert answer.json() == {"parcels": {NUMBER: "signalled"}}
    assert [push.events for push in handle.signalled] == [(EVENT,)]
    assert buffer.pending() == 1  # also kept: its next poll hands it in again, deduped


async def test_a_push_for_a_parcel_whose_tracking_ended_is_not_kept(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    handle = Handle([NOT_FOUND], status=WorkflowExecutionStatus.COMPLETED)
    answer = await _push(handle, buffer, tmp_path)
    assert answer.json() == {"parcels": {NUMBER: "not_tracked"}}
    assert buffer.pending() == 0


async def test_a_push_past_the_buffer_bound_is_acknowledged_as_dropped(tmp_path):
    buffer = PushBuffer(tmp_path / "pushes.sqlite", max_per_parcel=0)
    handle = Handle([NOT_FOUND, NOT_FOUND], status=None)
    answer = await _push(handle, buffer, tmp_path)
    assert answer.json() == {"parcels": {NUMBER: "dropped"}}
    assert buffer.drops_file.exists()


@pytest.mark.parametrize("second", [_rpc(RPCStatusCode.UNAVAILABLE), None])
async def test_temporal_down_answers_503_so_the_carrier_retries(tmp_path, second):
    buffer = PushBuffer(tmp_path / "pushes.sqlite")
    signals = [_rpc(RPCStatusCode.UNAVAILABLE)] if second is None else [NOT_FOUND, second]
    answer = await _push(Handle(signals, status=None), buffer, tmp_path)
    assert answer.status_code == 503

"""Carrier tracking pushes through the real ASGI app into the parcel's tracking workflow."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from hub.domain.holds import HoldCode
from hub.domain.messages import ConfirmationReceipt
from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.intake import IntakeOutcome
from hub.plugin import Family
from hub.pushes import PushBuffer
from hub.temporal import WORKFLOWS, build_activities
from hub.webhooks import create_app
from hub.workflows.contracts import Activity, ConfirmInput, tracking_workflow_id
from hub.workflows.order import OrderWorkflow
from plugins.carriers.sandbox import SandboxCarrier
from tests.conftest import ROOT, hub_runtime
from tests.integration.helpers import edge_client, wait_for, wait_for_state
from tests.integration.test_durability import VALID_ONLY

pytestmark = pytest.mark.integration


async def test_signed_push_delivers_the_parcel_and_a_forged_one_is_refused(hub_settings, tmp_path):
    # A slow carrier clock and hourly polls: only the push can move the parcel in this test.
    settings = hub_settings(
        **VALID_ONLY,
        orders={"tracking_poll_seconds": 3600},
        carriers={"sandbox": {"clock_speed": 1}},
    )
    async with hub_runtime(settings) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        assert isinstance(carrier, SandboxCarrier)
        app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
        (wid,) = await rt.place(1)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.IN_TRANSIT)
        numbers = [n for s in state.shipments if s.label for n in s.label.tracking_numbers]
        # IN_TRANSIT is entered just before the children start: wait for them, so this test
        # proves the signal path (the early path is the next tests').
        await _tracking_running(rt.client, numbers)
        now = datetime.now(UTC)
        events = [
            TrackingEvent(
                tracking_number=number,
                status=status,
                carrier_code=code,
                description=text,
                occurred_at=now.replace(microsecond=step),
            )
            for number in numbers
            for step, (status, code, text) in enumerate(
                [
                    (TrackingStatus.DELIVERED, "DL", "delivered to the front door"),
                    (TrackingStatus.IN_TRANSIT, "IT", "late scan that must not move it back"),
                ]
            )
        ]
        headers, body = carrier.signed_tracking_webhook(events)

        async with edge_client(app) as http:
            forged = await http.post(
                "/webhooks/carriers/sandbox", content=body, headers={**headers, **_bad(headers)}
            )
            assert forged.status_code == 401
            unknown = await http.post("/webhooks/carriers/nope", content=body, headers=headers)
            assert unknown.status_code == 404
            pushed = await http.post("/webhooks/carriers/sandbox", content=body, headers=headers)
            assert pushed.status_code == 200, pushed.text
            assert set(pushed.json()["parcels"].values()) == {"signalled"}

        final = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()
        assert final.stage is OrderStage.COMPLETED
        assert all(s.tracking_status is TrackingStatus.DELIVERED for s in final.shipments)


def _bad(headers: dict[str, str]) -> dict[str, str]:
    return {name: "0" * 64 for name in headers if "signature" in name}


async def _tracking_running(client: Client, numbers: Iterable[str]) -> None:
    """Wait until each parcel's tracking workflow has started."""
    for number in numbers:
        handle = client.get_workflow_handle(tracking_workflow_id("sandbox", number))

        async def running(handle: WorkflowHandle[Any, Any] = handle) -> bool:
            try:
                return (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    return False
                raise

        await wait_for(running, what=f"tracking workflow of {number}", every=0.05)


async def test_a_push_before_tracking_starts_is_kept_and_delivered_when_it_starts(hub_settings):
    """Deterministically early: each push is sent from inside the shipment's confirmation,
    which the order finishes before it starts any tracking workflow."""
    settings = hub_settings(
        **VALID_ONLY,
        orders={"tracking_poll_seconds": 3600},
        carriers={"sandbox": {"clock_speed": 1}},
    )
    async with hub_runtime(settings, worker=False) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        assert isinstance(carrier, SandboxCarrier)
        app = create_app(rt.host, rt.intake, Path(settings.data_dir) / "rejects.jsonl")
        orders = build_activities(settings, rt.host)
        answers: dict[str, str] = {}

        @activity.defn(name=Activity.CONFIRM_SHIPMENT.value)
        async def push_then_confirm(input: ConfirmInput) -> ConfirmationReceipt:
            label = input.shipment.label
            assert label is not None
            events = [
                TrackingEvent(
                    tracking_number=number,
                    status=TrackingStatus.DELIVERED,
                    carrier_code="DL",
                    description="delivered to the front door",
                    occurred_at=datetime.now(UTC),
                )
                for number in label.tracking_numbers
            ]
            headers, body = carrier.signed_tracking_webhook(events)
            async with edge_client(app) as http:
                pushed = await http.post(
                    "/webhooks/carriers/sandbox", content=body, headers=headers
                )
            answers.update(pushed.json()["parcels"])
            return await orders.confirm_shipment(input)

        activities = [a for a in orders.all() if a != orders.confirm_shipment]
        async with Worker(
            rt.client,
            task_queue=settings.temporal.task_queue,
            workflows=list(WORKFLOWS),
            activities=[*activities, push_then_confirm],  # type: ignore[list-item]
        ):
            (wid,) = await rt.place(1)
            final = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.COMPLETED)

        numbers = {n for s in final.shipments if s.label for n in s.label.tracking_numbers}
        assert answers == dict.fromkeys(numbers, "buffered")
        # Hourly polls and a real-time carrier clock: only the kept pushes delivered them.
        assert all(s.tracking_status is TrackingStatus.DELIVERED for s in final.shipments)
        assert PushBuffer.in_dir(Path(settings.data_dir)).pending() == 0


# One box that takes at most 1.4 kg (the heaviest single item): heavier orders ship in parcels.
ONE_ITEM_BOXES = {
    "standard": {
        "boxes": [
            {
                "id": "box-one",
                "name": "One-item box",
                "inner_mm": [450, 350, 300],
                "outer_mm": [456, 356, 312],
                "tare_grams": 300,
                "material_kg": 0.28,
                "max_load_grams": 1400,
                "cost": "0.70",
            }
        ]
    }
}


async def _heavy_order(rt) -> str:
    """A sandbox order over 1.4 kg, placed through the intake: its shipment needs 2+ parcels."""
    weights = {
        p["sku"]: p["weight_grams"]
        for p in tomllib.loads((ROOT / "config" / "catalog.toml").read_text())["products"]
    }
    for _ in range(200):
        (request,) = await rt.host.simulate_orders("sandbox", 1)
        (event,) = await rt.host.parse_webhook("sandbox", request)
        order = event.order
        if order is None or not all(line.sku in weights for line in order.lines):
            continue
        if sum(weights[line.sku] * line.quantity for line in order.lines) > 1400:
            assert await rt.intake.submit(order) is IntakeOutcome.STARTED
            return order.workflow_id
    raise AssertionError("no sandbox order over 1.4 kg in 200 tries")


async def test_every_parcel_is_tracked_and_one_returned_holds_the_order(hub_settings):
    """Each parcel of a shipment has its own tracking workflow: the order is delivered only
    when all are, and one coming back holds it for a person, naming that parcel."""
    settings = hub_settings(
        **VALID_ONLY,
        orders={"tracking_poll_seconds": 3600},
        carriers={"sandbox": {"clock_speed": 1}},
        packaging=ONE_ITEM_BOXES,
    )
    async with hub_runtime(settings) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        assert isinstance(carrier, SandboxCarrier)
        app = create_app(rt.host, rt.intake, Path(settings.data_dir) / "rejects.jsonl")
        wid = await _heavy_order(rt)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.IN_TRANSIT)
        labels = [s.label for s in state.shipments if s.label]
        parcels = [n for label in labels for n in label.tracking_numbers]
        assert len(parcels) > len(labels)  # some shipment has several parcels
        returned = parcels[-1]
        now = datetime.now(UTC)
        async with edge_client(app) as http:
            for number in parcels:
                status, code, text = (
                    (TrackingStatus.RETURN_TO_SENDER, "RS", "returned to sender")
                    if number == returned
                    else (TrackingStatus.DELIVERED, "DL", "delivered to the front door")
                )
                event = TrackingEvent(
                    tracking_number=number,
                    status=status,
                    carrier_code=code,
                    description=text,
                    occurred_at=now,
                )
                headers, body = carrier.signed_tracking_webhook([event])
                pushed = await http.post(
                    "/webhooks/carriers/sandbox", content=body, headers=headers
                )
                # IN_TRANSIT comes just before the children start: a push may beat its child
                # (buffered, handed in by the child's first poll) or not (signalled).
                answer = pushed.json()["parcels"]
                assert answer.keys() == {number}, pushed.text
                assert answer[number] in {"signalled", "buffered"}, pushed.text

        held = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        assert held.hold is not None and held.hold.code is HoldCode.TRACKING_EXCEPTION
        assert f"({returned}) return_to_sender" in held.hold.message
        (shipment,) = [
            s for s in held.shipments if s.label and returned in s.label.tracking_numbers
        ]
        assert shipment.tracking_status is TrackingStatus.RETURN_TO_SENDER
        for other in held.shipments:
            if other is not shipment:
                assert other.tracking_status is TrackingStatus.DELIVERED

"""Carrier tracking pushes through the real ASGI app into the parcel's tracking workflow."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.plugin import Family
from hub.webhooks import create_app
from hub.workflows.order import OrderWorkflow
from plugins.carriers.sandbox import SandboxCarrier
from tests.conftest import hub_runtime
from tests.integration.helpers import wait_for_state
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

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as http:
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

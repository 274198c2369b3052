"""UPS Track Alert end to end: each package of the label is subscribed, then UPS's pushes
(its documented delivered event, one per package) through the hub's real ASGI edge deliver
the shipment on a real Temporal server. Polls are an hour apart and UPS's tracking answers
"out for delivery", so only the pushes can complete the order. Every package is tracked: the
order completes only once each one's push has arrived."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
import respx

from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingStatus
from hub.plugin import Family
from hub.webhooks import create_app
from hub.workflows.order import OrderWorkflow
from tests.conftest import hub_runtime
from tests.e2e.carriers import UPS
from tests.e2e.orders import place_order
from tests.integration.helpers import edge_client, wait_for_state
from tests.integration.test_durability import VALID_ONLY
from tests.plugins import test_ups as ups
from tests.plugins import test_ups_track_alert as alert

pytestmark = pytest.mark.integration


def delivered_push(tracking_number: str) -> bytes:
    """UPS's documented delivered event for this package, dated now."""
    now = datetime.now(UTC)
    event = alert.EVENTS["delivered"] | {
        "trackingNumber": tracking_number,
        "gmtActivityDate": now.strftime("%Y%m%d"),
        "gmtActivityTime": now.strftime("%H%M%S"),
        "actualDeliveryDate": now.strftime("%Y%m%d"),
    }
    return json.dumps(event).encode()


async def test_ups_track_alert_pushes_deliver_the_order(hub_settings, tmp_path):
    settings = hub_settings(
        **VALID_ONLY,
        orders={"tracking_poll_seconds": 3600},
        carriers={
            "ups": UPS
            | {"track_alert_url": alert.HOOK_URL, "track_alert_credential": alert.CREDENTIAL},
            "sandbox": {"enabled": False},
        },
    )
    with respx.mock(base_url=ups.BASE, assert_all_called=False) as api:
        api.post(ups.TOKEN).respond(200, json=ups.load("token.json"))
        api.post(ups.SHOP).respond(200, json=ups.load("rate_shop.json"))
        api.post(ups.SHIP).respond(200, json=ups.load("ship_gif_two_packages.json"))
        api.get(url__regex=r"/api/track/v1/details/.+").respond(
            200, json=ups.load("track_out_for_delivery.json")
        )
        subscribe = api.post("/api/track/v1/subscription/standard/package").mock(
            side_effect=lambda request: httpx.Response(
                200,
                json={"validTrackingNumbers": json.loads(request.content)["trackingNumberList"]},
            )
        )
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["ups"]
            workflow_id = await place_order(rt)
            state = await wait_for_state(
                rt.client, workflow_id, lambda s: s.stage is OrderStage.IN_TRANSIT
            )
            numbers = [n for s in state.shipments if s.label for n in s.label.tracking_numbers]
            subscribed = [
                n
                for call in subscribe.calls
                for n in json.loads(call.request.content)["trackingNumberList"]
            ]
            assert sorted(subscribed) == sorted(numbers)

            app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
            async with edge_client(app) as http:
                forged = await http.post(
                    "/webhooks/carriers/ups",
                    content=delivered_push(numbers[0]),
                    headers={"content-type": "application/json", "credential": "guess"},
                )
                assert forged.status_code == 401
                for number in numbers:
                    answer = await http.post(
                        "/webhooks/carriers/ups",
                        content=delivered_push(number),
                        headers={
                            "content-type": "application/json",
                            "credential": alert.CREDENTIAL,
                        },
                    )
                    # A push may beat the parcel's tracking workflow: it is then kept and handed
                    # in by the first poll, so both answers deliver it.
                    assert answer.json()["parcels"][number] in {"signalled", "buffered"}, (
                        answer.text
                    )

            handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
            final = await asyncio.wait_for(handle.result(), timeout=60)

    assert final.stage is OrderStage.COMPLETED, final.details
    assert all(s.tracking_status is TrackingStatus.DELIVERED for s in final.shipments)

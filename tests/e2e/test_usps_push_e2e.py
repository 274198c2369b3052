"""USPS tracking pushed end to end: the label subscribes the MID, then a signed USPS push
through the hub's real ASGI edge delivers the parcel on a real Temporal server (the hub polls
hourly here, so only the push can move it)."""

from __future__ import annotations

import asyncio

import pytest
import respx

from hub.domain.address import Contact
from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingStatus
from hub.webhooks import create_app
from hub.workflows.order import OrderWorkflow
from plugins.carriers.usps.subscriptions import SUBSCRIPTIONS_PATH
from tests.conftest import hub_runtime
from tests.e2e.carriers import BROOKLYN, USPS, only_carrier
from tests.e2e.orders import place_order
from tests.integration.helpers import edge_client, wait_for_state
from tests.plugins import test_usps as usps
from tests.plugins import test_usps_push as push

pytestmark = pytest.mark.integration


async def test_a_signed_usps_push_delivers_the_parcel(hub_settings, tmp_path):
    settings = only_carrier(
        hub_settings,
        tmp_path,
        "usps",
        USPS | push.PUSHING,
        BROOKLYN,
        orders={"tracking_poll_seconds": 3600},
    )
    nick = Contact(name="Nick Fury", email="nick@example.com", phone="+1 314 555 0100")
    with respx.mock(base_url=usps.BASE, assert_all_called=False) as api:
        api.post("/oauth2/v3/token").respond(json=usps.fixture("oauth_token.json"))
        api.post("/payments/v3/payment-authorization").respond(
            json=usps.fixture("payment_authorization.json")
        )
        api.post("/prices/v3/total-rates/search").respond(json=usps.fixture("total_rates.json"))
        api.post("/labels/v3/label").mock(side_effect=lambda _: usps.pdf_label())
        subscribe = api.post(SUBSCRIPTIONS_PATH).respond(
            201, json=usps.fixture("subscription_created.json")
        )
        api.get(f"/tracking/v3/tracking/{usps.TRACKING_NUMBER}").respond(
            json=usps.fixture("tracking_in_transit.json")
        )
        async with hub_runtime(settings) as rt:
            workflow_id = await place_order(rt, to=usps.customer(), customer=nick)
            await wait_for_state(rt.client, workflow_id, lambda s: s.stage is OrderStage.IN_TRANSIT)
            assert subscribe.call_count == 1

            app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
            delivered = push.signed(usps.fixture("push_delivered.json"))
            async with edge_client(app) as http:
                forged = await http.post(
                    "/webhooks/carriers/usps",
                    content=delivered.body,
                    headers={**delivered.headers, "x-hmac": "Zm9yZ2Vk"},
                )
                assert forged.status_code == 401
                answer = await http.post(
                    "/webhooks/carriers/usps", content=delivered.body, headers=delivered.headers
                )
                assert answer.status_code == 200, answer.text
                # A push may beat the tracking workflow: kept and handed in by its first poll.
                assert answer.json()["parcels"][usps.TRACKING_NUMBER] in {"signalled", "buffered"}

            handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
            final = await asyncio.wait_for(handle.result(), timeout=60)

    assert final.stage is OrderStage.COMPLETED, final.details
    (shipment,) = final.shipments
    assert shipment.tracking_status is TrackingStatus.DELIVERED

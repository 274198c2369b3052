"""DHL Shipment Tracking - Unified - Push end to end, on a real Temporal server: the label's
shipment is subscribed, DHL's validate message activates the subscription, and the pushed
delivery completes the order through the hub's real ASGI app. Polls are an hour apart, so only
the push can deliver the parcel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from hub.domain.address import Contact
from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingStatus
from hub.plugin import Family
from hub.webhooks import create_app
from hub.workflows.order import OrderWorkflow
from tests.conftest import hub_runtime
from tests.e2e.carriers import BERLIN, DHL, only_carrier
from tests.e2e.orders import place_order
from tests.integration.helpers import edge_client, wait_for_state, wait_until
from tests.plugins import test_dhl as dhl

pytestmark = pytest.mark.integration

PUSH_API = "https://api-eu.dhl.com/tracking/push/v1"
HOOK_URL = "https://hub.example.com/webhooks/carriers/dhl"
PUSH_TOKEN = "hub-test-push-token-4f9c2a7e1b8d6053"
SUBSCRIPTION = "3f1c9a2e-7b4d-4e8a-9c61-52d0a8e4b7f3"


def fixture_body(name: str) -> bytes:
    return json.dumps(dhl.fixture(name)).encode()


async def test_dhl_push_activates_and_delivers_a_german_order(hub_settings, tmp_path: Path):
    pushing = DHL | {"push_url": HOOK_URL, "push_token": PUSH_TOKEN}
    settings = only_carrier(
        hub_settings, tmp_path, "dhl", pushing, BERLIN, orders={"tracking_poll_seconds": 3600}
    )
    erika = Contact(name="Erika Mustermann", email="erika@example.com", phone="+49 221 1234567")
    headers = {"content-type": "application/json", "DHL-Push-Token": PUSH_TOKEN}
    with respx.mock(base_url=dhl.BASE, assert_all_called=False) as api:
        api.post(dhl.TOKEN).respond(json=dhl.fixture("oauth_token.json"))
        api.post(dhl.ORDERS, params={"validate": "true"}).mock(side_effect=dhl.all_valid)
        api.post(dhl.ORDERS).respond(json=dhl.fixture("create_pdf.json"))
        track = api.get(dhl.TRACK_URL).respond(json=dhl.fixture("track_pre_transit_only.json"))
        subscribe = api.post(f"{PUSH_API}/subscription").respond(201, json={"id": SUBSCRIPTION})
        activate = api.post(f"{PUSH_API}/subscription/{SUBSCRIPTION}").respond(204)
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["dhl"]
            app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
            wid = await place_order(rt, to=dhl.customer(), customer=erika)
            await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.IN_TRANSIT)
            # The first poll means the parcel's tracking workflow runs and can take signals.
            await wait_until(lambda: track.called, what="first DHL tracking poll")
            assert json.loads(subscribe.calls.last.request.content)["shipmentIDs"] == [dhl.NUMBER]

            async with edge_client(app) as http:
                forged = await http.post(
                    "/webhooks/carriers/dhl",
                    content=fixture_body("push_delivered.json"),
                    headers={**headers, "DHL-Push-Token": "0" * len(PUSH_TOKEN)},
                )
                assert forged.status_code == 401

                validated = await http.post(
                    "/webhooks/carriers/dhl",
                    content=fixture_body("push_validate.json"),
                    headers=headers,
                )
                assert validated.status_code == 200, validated.text
                assert validated.json() == {"parcels": {}}
                secret = dhl.fixture("push_validate.json")["secret"]
                assert activate.calls.last.request.headers["dhl-api-hook-secret"] == secret

                pushed = await http.post(
                    "/webhooks/carriers/dhl",
                    content=fixture_body("push_delivered.json"),
                    headers=headers,
                )
                assert pushed.status_code == 200, pushed.text
                assert pushed.json() == {"parcels": {dhl.NUMBER: "signalled"}}

            handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
            final = await handle.result()

    assert final.stage is OrderStage.COMPLETED, final.details
    (shipment,) = final.shipments
    assert shipment.tracking_status is TrackingStatus.DELIVERED
    assert track.call_count == 1  # delivered by the push, not by a poll
    assert not (tmp_path / "rejects.jsonl").exists()

"""Each marketplace adapter end to end on a real Temporal server: the channel's documented
order comes in, the hub fulfils it with the embedded WMS and sandbox carrier, and the
tracking goes back to the channel, all against the platform's request and response shapes
(respx fakes from the adapter's own tests)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest
import respx
from temporalio.service import RPCError

from hub.domain.order import order_workflow_id
from hub.domain.status import OrderStage
from hub.feed import deliver_webhook
from hub.intake import IntakeOutcome
from hub.temporal import ensure_pollers
from hub.workflows.order import OrderWorkflow
from tests.conftest import hub_runtime
from tests.e2e.catalog import catalog_file
from tests.plugins import test_amazon as amazon
from tests.plugins import test_shopify as shopify

pytestmark = pytest.mark.integration


async def test_shopify_order_in_fulfilment_and_tracking_back(hub_settings, tmp_path):
    order = shopify.load("webhook_orders_create.json")
    skus = [line["sku"] for line in order["line_items"] if line.get("sku")]
    settings = hub_settings(
        marketplaces={
            "shopify": {
                "shop_domain": shopify.SHOP,
                "access_token": "shpat_0123456789abcdef0123456789abcdef",
                "client_secret": shopify.SECRET,
            }
        },
        warehouses={"embedded": {"catalog_file": str(catalog_file(tmp_path, skus))}},
    )
    fake = shopify.FakeShopify()
    with respx.mock(assert_all_called=False) as api:
        api.post(shopify.GRAPHQL).mock(side_effect=fake)
        async with hub_runtime(settings) as rt:
            webhook = shopify.delivery("orders/create", json.dumps(order).encode())
            ((wid, outcome),) = await deliver_webhook(rt.host, rt.intake, "shopify", webhook)
            assert outcome is IntakeOutcome.STARTED
            state = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()

    assert state.stage is OrderStage.COMPLETED, state.details
    numbers = {n for s in state.shipments if s.label for n in s.label.tracking_numbers}
    pushed = {
        number
        for fulfillment in fake.fulfillments
        for info in fulfillment["trackingInfo"]
        for number in ([info["number"]] if "number" in info else info.get("numbers", []))
    }
    assert numbers and numbers <= pushed, (numbers, fake.fulfillments)
    assert "HubFulfillmentCreate" in fake.ops()


async def test_amazon_order_polled_in_fulfilled_and_confirmed(hub_settings, tmp_path):
    """Amazon pushes no signed HTTP webhooks: its orders come in through the poller."""
    page = amazon.load("search_orders_example.json")
    order = page["orders"][0]
    order["fulfillment"]["fulfillmentStatus"] = "UNSHIPPED"  # the example is already shipped
    order["lastUpdatedTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = {**page, "orders": [order], "pagination": {}}
    skus = [item["product"]["sellerSku"] for item in order["orderItems"]]
    marketplace_id = order["salesChannel"]["marketplaceId"]
    settings = hub_settings(
        marketplaces={
            "amazon": {
                "endpoint": amazon.BASE,
                "marketplace_ids": [marketplace_id],
                "refresh_token": amazon.REFRESH_TOKEN,
                "lwa_client_id": "amzn1.application-oa2-client.fixture",
                "lwa_client_secret": amazon.CLIENT_SECRET,
                "account": "e2e",
            }
        },
        warehouses={"embedded": {"catalog_file": str(catalog_file(tmp_path, skus))}},
        polling={"settle_seconds": 0, "interval_seconds": 3600},
    )
    confirm_url = f"{amazon.BASE}/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    with respx.mock(assert_all_called=False) as api:
        api.post(amazon.LWA).mock(return_value=amazon.lwa("Atza|e2e"))
        search = api.get(url__startswith=amazon.SEARCH).respond(200, json=page)
        confirm = api.post(confirm_url).respond(204)
        async with hub_runtime(settings) as rt:
            await ensure_pollers(rt.client, rt.settings, rt.host)
            wid = order_workflow_id("amazon", order["orderId"])
            state = await _result_when_started(rt.client, wid)

    assert search.called
    assert state.stage is OrderStage.COMPLETED, state.details
    (shipment,) = state.shipments
    assert shipment.label is not None
    sent = [json.loads(call.request.content) for call in confirm.calls]
    assert sent and sent[0]["marketplaceId"] == marketplace_id
    assert sent[0]["packageDetail"]["trackingNumber"] == shipment.label.tracking_number
    assert {i["orderItemId"] for i in sent[0]["packageDetail"]["orderItems"]} == {
        item["orderItemId"] for item in order["orderItems"]
    }


async def _result_when_started(client, workflow_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.get_workflow_handle_for(OrderWorkflow.run, workflow_id).result()
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)

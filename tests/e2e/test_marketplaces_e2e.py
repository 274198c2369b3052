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
from hub.webhooks import create_app
from hub.workflows.order import OrderWorkflow
from tests.conftest import hub_runtime
from tests.e2e.catalog import catalog_file
from tests.integration.helpers import edge_client
from tests.plugins import test_amazon as amazon
from tests.plugins import test_ebay as ebay
from tests.plugins import test_shopify as shopify
from tests.plugins import test_woocommerce as woo

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
                "take_test_orders": True,  # Shopify's sample payload is a test order
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
    """The order's final state, once a poller has started it; fails with where it got stuck."""
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncio.wait_for(handle.result(), timeout=deadline - time.monotonic())
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
        except TimeoutError:
            state = await handle.query(OrderWorkflow.status)
            raise AssertionError(f"{workflow_id} stuck at {state.stage}: {state.details}") from None


async def test_woocommerce_signed_webhook_in_fulfilment_and_tracking_back(hub_settings, tmp_path):
    """Through the real ASGI app: the shop's signed `order.created`, then the hub's tracking
    item on the Shipment Tracking extension and the order marked completed."""
    shop = woo.FakeWoo()
    order = shop.orders[1021]
    skus = [line["sku"] for line in order["line_items"]]
    settings = hub_settings(
        marketplaces={
            "woocommerce": {
                "store_url": woo.STORE,
                "consumer_key": woo.CONSUMER_KEY,
                "consumer_secret": woo.CONSUMER_SECRET,
                "webhook_secret": woo.WEBHOOK_SECRET,
            }
        },
        warehouses={"embedded": {"catalog_file": str(catalog_file(tmp_path, skus))}},
    )
    with respx.mock(assert_all_called=False) as api:
        api.route(host=woo.HOST).mock(side_effect=shop)
        api.route(host="hub").pass_through()
        async with hub_runtime(settings) as rt:
            app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
            webhook = woo.delivery("order.created", order)
            async with edge_client(app) as http:
                forged = await http.post(
                    "/webhooks/woocommerce",
                    content=webhook.body,
                    headers={**webhook.headers, "x-wc-webhook-signature": "AAAA"},
                )
                answer = await http.post(
                    "/webhooks/woocommerce", content=webhook.body, headers=webhook.headers
                )
            assert forged.status_code == 401
            assert answer.status_code == 200 and answer.json()["accepted"] == ["started"]
            wid = order_workflow_id("woocommerce", "1021")
            state = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()

    assert state.stage is OrderStage.COMPLETED, state.details
    sent = {item["tracking_number"] for item in shop.trackings.get(1021, [])}
    assert sent == {s.label.tracking_number for s in state.shipments if s.label}
    assert shop.orders[1021]["status"] == "completed"


async def test_ebay_order_polled_in_fulfilled_and_shipping_fulfillment_created(
    hub_settings, tmp_path
):
    """eBay sends no signed order webhooks: getOrders through the poller is the way in."""
    seller = ebay.FakeEbay()
    pages = [seller.pages[0], seller.pages[2]]
    skus = sorted(
        {
            line["sku"]
            for page in pages
            for o in page["orders"]
            for line in o["lineItems"]
            if "sku" in line
        }
    )
    settings = hub_settings(
        marketplaces={
            "ebay": {
                "client_id": ebay.CLIENT_ID,
                "client_secret": ebay.CLIENT_SECRET,
                "refresh_token": ebay.REFRESH_TOKEN,
                "account": "e2e-seller",
                "carrier_codes": {"sandbox": "Other"},  # eBay's code for unlisted carriers
            }
        },
        warehouses={"embedded": {"catalog_file": str(catalog_file(tmp_path, skus))}},
        polling={"settle_seconds": 0, "interval_seconds": 3600},
    )
    with respx.mock(assert_all_called=False) as api:
        api.route(host="api.ebay.com").mock(side_effect=seller)
        async with hub_runtime(settings) as rt:
            await ensure_pollers(rt.client, rt.settings, rt.host)
            state = await _result_when_started(rt.client, order_workflow_id("ebay", ebay.A))

    assert state.stage is OrderStage.COMPLETED, state.details
    created = seller.fulfillments.get(ebay.A, [])
    assert {f["shipmentTrackingNumber"] for f in created} == {
        s.label.tracking_number for s in state.shipments if s.label
    }
    shipped_lines = {line["lineItemId"] for f in created for line in f["lineItems"]}
    assert shipped_lines == {line.line_id for s in state.shipments for line in s.lines}

"""The Shopify channel: pure mapping over the documented payload shapes, then the plugin against a
respx-mocked Admin GraphQL API (a small stateful fake that keeps fulfilments between calls)."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.messages import (
    ChannelEventKind,
    FetchRequest,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.domain.order import Order
from hub.domain.shipment import ShipmentLine
from hub.domain.status import PaymentStatus
from hub.errors import PermanentError, TransientError
from hub.host import PluginHost
from hub.http import RateLimiter
from hub.plugin import PluginRuntime
from plugins.marketplaces.shopify import ShopifyMarketplace, ShopifySettings
from plugins.marketplaces.shopify.events import (
    NOTHING_TO_SHIP,
    TEST_ORDER,
    graphql_order_event,
    rest_order_event,
)
from plugins.marketplaces.shopify.mapping import (
    MappingError,
    order_from_graphql,
    order_from_rest,
)
from plugins.marketplaces.shopify.plugin import orders_search
from plugins.marketplaces.shopify.webhooks import sign
from tests.contract.marketplace import MarketplaceContract
from tests.contract.payloads import JSON, mutated

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
SHOP = "jsmith.myshopify.com"
BASE = f"https://{SHOP}"
GRAPHQL = f"{BASE}/admin/api/2025-10/graphql.json"
TOKEN_URL = f"{BASE}/admin/oauth/access_token"
SECRET = "0c8d1f2e3b4a5968778695a4b3c2d1e0"
ORDER_ID = "820982911946154508"
SUNGLASSES, LOUNGER, TABLE = "487817672276298554", "976318377106520349", "315789986012684393"
RECEIVED = datetime(2025, 10, 14, 15, 2, 40, tzinfo=UTC)

pytestmark = pytest.mark.respx(assert_all_called=False)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def shop_settings(**overrides: Any) -> ShopifySettings:
    values: dict[str, Any] = {
        "shop_domain": SHOP,
        "access_token": "shpat_0123456789abcdef0123456789abcdef",
        "client_secret": SECRET,
    }
    values.update(overrides)
    return ShopifySettings(**values)


# Shopify's documented sample payloads are test orders (``"test": true``): take them.
SETTINGS = shop_settings(take_test_orders=True)


def delivery(
    topic: str,
    payload: dict[str, Any] | bytes,
    *,
    event_id: str = "7e0ae8ab-e6e7-4d33-b1f4-1e5e1e0d5e45",
    secret: str = SECRET,
    **extra_headers: str,
) -> WebhookRequest:
    """A delivery as Shopify sends it: signed raw body and the documented headers."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": sign(secret, body),
        "x-shopify-shop-domain": SHOP,
        "x-shopify-api-version": "2025-10",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-event-id": event_id,
        "x-shopify-triggered-at": "2025-10-14T15:02:35.123456789Z",
    }
    headers.update(extra_headers)
    return WebhookRequest(plugin="shopify", headers=headers, body=body, received_at=RECEIVED)


def confirmation(*line_ids: str, tracking: str = "1Z999AA10123456784") -> ShipmentConfirmation:
    skus = {SUNGLASSES: "SKU2006-001", LOUNGER: "SKU2006-020", TABLE: "SKU2006-035"}
    return ShipmentConfirmation(
        marketplace="shopify",
        account=SHOP,
        external_id=ORDER_ID,
        shipment_id="shp-820982911946154508-1",
        carrier="ups",
        carrier_name="UPS Ground",
        service_code="03",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?tracknum={tracking}",
        shipped_at=RECEIVED,
        lines=tuple(ShipmentLine(line_id=i, sku=skus[i], quantity=1) for i in line_ids),
    )


class FakeShopify:
    """The Admin GraphQL endpoint for one shop, answering from the fixtures and remembering
    the fulfilments created, as Shopify does (remaining quantities go down, tracking shows)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], httpx.Headers]] = []
        self.fulfillments: list[dict[str, Any]] = []
        self.state = load("graphql_fulfillment_state.json")
        self.throttle_next = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        match = re.match(r"\s*(?:query|mutation)\s+(\w+)", body["query"])
        assert match, body["query"]
        operation = match.group(1)
        self.calls.append((operation, body["variables"], request.headers))
        if self.throttle_next:
            self.throttle_next = False
            return httpx.Response(200, json=load("graphql_throttled.json"))
        return httpx.Response(200, json=getattr(self, operation)(body["variables"]))

    def ops(self) -> list[str]:
        return [op for op, _, _ in self.calls]

    def HubOrders(self, variables: dict[str, Any]) -> Any:
        if variables["after"] is None:
            return load("graphql_orders_page1.json")
        assert (
            variables["after"]
            == load("graphql_orders_page1.json")["data"]["orders"]["pageInfo"]["endCursor"]
        )
        return load("graphql_orders_page2.json")

    def HubOrder(self, variables: dict[str, Any]) -> Any:
        assert variables == {"id": f"gid://shopify/Order/{ORDER_ID}"}
        return load("graphql_order.json")

    def HubFulfillmentState(self, variables: dict[str, Any]) -> Any:
        assert variables == {"id": f"gid://shopify/Order/{ORDER_ID}"}
        answer = copy.deepcopy(self.state)
        answer["data"]["order"]["fulfillments"] = [
            {k: f[k] for k in ("id", "status", "trackingInfo")} for f in self.fulfillments
        ]
        return answer

    def HubFulfillmentLines(self, variables: dict[str, Any]) -> Any:
        by_id = {f["id"]: f for f in self.fulfillments}
        nodes = [
            {
                "id": i,
                "fulfillmentLineItems": {
                    "nodes": by_id[i]["lines"],
                    "pageInfo": {"hasNextPage": False},
                },
            }
            for i in variables["ids"]
        ]
        return {"data": {"nodes": nodes}}

    def HubFulfillmentCreate(self, variables: dict[str, Any]) -> Any:
        spec = variables["fulfillment"]
        fo_lines = {
            line["id"]: (fo, line)
            for fo in self.state["data"]["order"]["fulfillmentOrders"]["nodes"]
            for line in fo["lineItems"]["nodes"]
        }
        locations = set()
        lines = []
        for group in spec["lineItemsByFulfillmentOrder"]:
            for item in group["fulfillmentOrderLineItems"]:
                fo, line = fo_lines[item["id"]]
                assert fo["id"] == group["fulfillmentOrderId"]
                assert line["remainingQuantity"] >= item["quantity"]
                line["remainingQuantity"] -= item["quantity"]
                locations.add(fo["assignedLocation"]["location"]["id"])
                lines.append({"quantity": item["quantity"], "lineItem": line["lineItem"]})
        assert len(locations) == 1, "Shopify takes one location per fulfillmentCreate"
        new_id = f"gid://shopify/Fulfillment/{1069019866 + len(self.fulfillments)}"
        self.fulfillments.append(
            {
                "id": new_id,
                "status": "SUCCESS",
                "trackingInfo": [spec["trackingInfo"]],
                "lines": lines,
            }
        )
        answer = load("graphql_fulfillment_create.json")
        answer["data"]["fulfillmentCreate"]["fulfillment"]["id"] = new_id
        return answer


@pytest.fixture
async def plugin(tmp_path: Path) -> AsyncIterator[ShopifyMarketplace]:
    built = ShopifyMarketplace(SETTINGS, PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    yield built
    await built.aclose()


@pytest.fixture
def fake(respx_mock: respx.MockRouter) -> FakeShopify:
    server = FakeShopify()
    respx_mock.post(GRAPHQL).mock(side_effect=server)
    return server


def host_for(plugin: ShopifyMarketplace) -> PluginHost:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="marketplaces.shopify")
    pm.check_pending()
    return PluginHost(pm, {"marketplaces.shopify": plugin})


# =========================================================================== settings


def test_settings_need_a_way_to_authenticate_and_hide_secrets():
    with pytest.raises(ValidationError, match="access_token, or client_id"):
        ShopifySettings(shop_domain=SHOP, client_secret=SECRET)
    with pytest.raises(ValidationError, match="extra"):
        shop_settings(api_key="nope")
    normal = shop_settings(shop_domain="https://JSmith.myshopify.com/", location_id="24826418")
    assert normal.shop_domain == SHOP and normal.account_name == SHOP
    assert normal.location_number == "24826418"
    assert shop_settings(location_id="gid://shopify/Location/24826418").location_number == (
        "24826418"
    )
    assert SECRET not in repr(normal) and "shpat_" not in repr(normal)
    with pytest.raises(ValidationError, match="quarterly"):
        shop_settings(api_version="2025-11")


# =========================================================================== webhooks


async def test_webhook_signature_good_bad_and_missing(plugin: ShopifyMarketplace):
    good = delivery("orders/create", load("webhook_orders_create.json"))
    assert plugin.marketplace_verify_webhook(good)
    tampered = good.model_copy(update={"body": good.body.replace(b"89.99", b"0.99")})
    assert not plugin.marketplace_verify_webhook(tampered)
    wrong_key = delivery("orders/create", good.body, secret="another-apps-secret")
    assert not plugin.marketplace_verify_webhook(wrong_key)
    unsigned = good.model_copy(
        update={"headers": {k: v for k, v in good.headers.items() if k != "x-shopify-hmac-sha256"}}
    )
    assert not plugin.marketplace_verify_webhook(unsigned)


async def test_orders_create_maps_the_documented_sample(plugin: ShopifyMarketplace):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("orders/create", load("webhook_orders_create.json"))
    )
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.problem is None
    assert event.dedupe_key == "7e0ae8ab-e6e7-4d33-b1f4-1e5e1e0d5e45"
    assert event.occurred_at == datetime(2025, 10, 14, 15, 2, 35, 123456, tzinfo=UTC)
    order = event.order
    assert order is not None
    assert (order.marketplace, order.account, order.external_id) == ("shopify", SHOP, ORDER_ID)
    assert order.currency == "USD" and order.payment_status is PaymentStatus.PAID
    # The gift card needs no shipping: three lines reach the warehouse.
    assert [(line.line_id, line.sku, line.quantity) for line in order.lines] == [
        (SUNGLASSES, "SKU2006-001", 1),
        (LOUNGER, "SKU2006-020", 1),
        (TABLE, "SKU2006-035", 1),
    ]
    assert order.lines[0].unit_price.amount == Decimal("89.99")
    assert order.total.amount == Decimal("369.97")
    address = order.shipping_address
    assert (address.country, address.region, address.postal_code) == ("US", "KY", "40003")
    assert (address.line1, address.city, address.company) == (
        "123 Shipping Street",
        "Shippington",
        "Shipping Company",
    )
    assert order.customer.name == "John Smith" and order.customer.email == "jon@example.com"
    assert order.shipping_paid is not None and order.shipping_paid.amount == Decimal("10.00")
    assert order.service_level == "standard"
    assert order.is_gift and order.gift_message == "Happy birthday, Sam!"
    assert order.tags == ("gift", "vip")


async def test_a_redelivery_keeps_its_dedupe_key(plugin: ShopifyMarketplace):
    payload = load("webhook_orders_create.json")
    first = await plugin.marketplace_parse_webhook(delivery("orders/create", payload))
    # Shopify's retry carries the same event id (and a new triggered-at).
    again = await plugin.marketplace_parse_webhook(
        delivery("orders/create", payload, **{"x-shopify-triggered-at": "2025-10-14T15:07:00Z"})
    )
    assert [e.dedupe_key for e in first] == [e.dedupe_key for e in again]
    assert first[0].order == again[0].order


async def test_without_an_event_id_the_webhook_id_is_the_key(plugin: ShopifyMarketplace):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("orders/create", load("webhook_orders_create.json"), event_id="")
    )
    assert event.dedupe_key == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


async def test_an_edit_without_its_order_is_malformed(plugin: ShopifyMarketplace):
    with pytest.raises(PermanentError, match="order_edit"):
        await plugin.marketplace_parse_webhook(delivery("orders/edited", {"id": 78912328}))
    with pytest.raises(PermanentError, match="order_id"):
        await plugin.marketplace_parse_webhook(
            delivery("refunds/create", {"id": 890088186047892319})
        )


async def test_updated_before_create_both_map(plugin: ShopifyMarketplace):
    created = load("webhook_orders_create.json")
    updated = {**created, "updated_at": "2025-10-14T11:30:00-04:00", "tags": "gift, vip, rush"}
    updated_events = await plugin.marketplace_parse_webhook(
        delivery("orders/updated", updated, event_id="9b1c2d3e-0000-4000-8000-000000000002")
    )
    created_events = await plugin.marketplace_parse_webhook(
        delivery("orders/create", created, event_id="9b1c2d3e-0000-4000-8000-000000000001")
    )
    assert [e.kind for e in updated_events + created_events] == [
        ChannelEventKind.ORDER_UPSERTED,
        ChannelEventKind.ORDER_UPSERTED,
    ]
    late, early = updated_events[0].order, created_events[0].order
    assert late is not None and early is not None
    assert late.key == early.key and late.tags == ("gift", "vip", "rush")
    assert updated_events[0].dedupe_key != created_events[0].dedupe_key


async def test_each_order_topic_means_its_event(plugin: ShopifyMarketplace):
    order = load("webhook_orders_create.json")
    cancelled = {
        **order,
        "cancelled_at": "2025-10-14T13:00:00-04:00",
        "cancel_reason": "customer",
        "financial_status": "voided",
    }
    cases = [
        ("orders/paid", order, ChannelEventKind.PAYMENT_CAPTURED),
        ("orders/fulfilled", order, ChannelEventKind.ORDER_UPSERTED),
        ("orders/partially_fulfilled", order, ChannelEventKind.ORDER_UPSERTED),
        ("orders/cancelled", cancelled, ChannelEventKind.ORDER_CANCELLED),
        ("orders/updated", cancelled, ChannelEventKind.ORDER_CANCELLED),
        ("products/update", {"id": 788032119674292922}, ChannelEventKind.IGNORED),
    ]
    for topic, payload, kind in cases:
        (event,) = await plugin.marketplace_parse_webhook(delivery(topic, payload))
        assert event.kind is kind, topic
    (paid,) = await plugin.marketplace_parse_webhook(delivery("orders/paid", order))
    assert paid.order is not None
    (gone,) = await plugin.marketplace_parse_webhook(delivery("orders/cancelled", cancelled))
    assert gone.external_id == ORDER_ID and gone.reason == "cancelled on Shopify (customer)"
    (other_shop,) = await plugin.marketplace_parse_webhook(
        delivery("orders/create", order, **{"x-shopify-shop-domain": "other.myshopify.com"})
    )
    assert other_shop.kind is ChannelEventKind.IGNORED
    assert other_shop.reason == "shop not configured: other.myshopify.com"
    (unknown,) = await plugin.marketplace_parse_webhook(
        delivery("products/update", {"id": 788032119674292922})
    )
    assert unknown.reason == "topic products/update is not handled"


async def test_test_orders_are_ignored_unless_the_shop_takes_them(tmp_path: Path):
    default = ShopifyMarketplace(shop_settings(), PluginRuntime(tmp_path, tmp_path))
    taking = ShopifyMarketplace(SETTINGS, PluginRuntime(tmp_path, tmp_path))
    sample = load("webhook_orders_create.json")
    assert sample["test"] is True
    (ignored,) = await default.marketplace_parse_webhook(delivery("orders/create", sample))
    assert ignored.kind is ChannelEventKind.IGNORED and ignored.reason == TEST_ORDER
    assert ignored.external_id == ORDER_ID and ignored.order is None
    (taken,) = await taking.marketplace_parse_webhook(delivery("orders/create", sample))
    assert taken.kind is ChannelEventKind.ORDER_UPSERTED and taken.order is not None
    real = {**sample, "test": False}
    (real_order,) = await default.marketplace_parse_webhook(delivery("orders/create", real))
    assert real_order.order is not None
    node = {**load("graphql_orders_page1.json")["data"]["orders"]["nodes"][0], "test": True}
    assert graphql_order_event(node, shop_settings()).reason == TEST_ORDER
    assert graphql_order_event(node, SETTINGS).order is not None
    await default.aclose()
    await taking.aclose()


async def test_an_order_whose_lines_were_all_removed_is_a_problem(plugin: ShopifyMarketplace):
    """Quantity 0 is a line removed by an edit: dropped. With none left, ops must see it."""
    payload = load("webhook_orders_create.json")
    for line in payload["line_items"]:
        line["current_quantity"] = 0
    (event,) = await plugin.marketplace_parse_webhook(delivery("orders/create", payload))
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem is not None and event.problem.field == "line_items"
    assert "quantity 0" in event.problem.message
    removed, *_, gift_card = load("webhook_orders_create.json")["line_items"]
    removed["current_quantity"] = 0
    only_gift_card_left = {**payload, "line_items": [removed, gift_card]}
    (digital,) = await plugin.marketplace_parse_webhook(
        delivery("orders/create", only_gift_card_left)
    )
    assert digital.kind is ChannelEventKind.IGNORED and digital.reason == NOTHING_TO_SHIP
    node = load("graphql_orders_page1.json")["data"]["orders"]["nodes"][0]
    for item in node["lineItems"]["nodes"]:
        item["currentQuantity"] = 0
    polled = graphql_order_event(node, SETTINGS)
    assert polled.problem is not None and polled.problem.field == "lineItems"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda o: o["shipping_address"].update(country_code=None),
            "shipping_address.country_code",
        ),
        (
            lambda o: o["shipping_address"].update(country_code="XX"),
            "shipping_address.country_code",
        ),
        (lambda o: o["line_items"][1].update(sku=None), "line_items[1].sku"),
        (
            lambda o: o["line_items"][0].update(quantity="two", current_quantity=None),
            "line_items[0].quantity",
        ),
        (lambda o: o.update(financial_status="disputed"), "financial_status"),
        (lambda o: o.update(shipping_address=None), "shipping_address"),
        (lambda o: o.update(line_items=[]), "line_items"),
        (lambda o: o.update(processed_at="2025-10-14T11:02:34", created_at=None), "processed_at"),
        (
            lambda o: o["line_items"][0]["price_set"]["shop_money"].update(currency_code="EUR"),
            "currency",
        ),
    ],
)
async def test_unmappable_orders_are_problems_naming_the_field(
    plugin: ShopifyMarketplace, change: Callable[[dict[str, Any]], None], field: str
):
    payload = load("webhook_orders_create.json")
    change(payload)
    (event,) = await plugin.marketplace_parse_webhook(delivery("orders/create", payload))
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem is not None and event.problem.field == field, event.problem


async def test_digital_only_orders_are_ignored_with_the_reason(plugin: ShopifyMarketplace):
    payload = load("webhook_orders_create.json")
    payload["line_items"] = payload["line_items"][3:]  # the gift card only
    (event,) = await plugin.marketplace_parse_webhook(delivery("orders/create", payload))
    assert event.kind is ChannelEventKind.IGNORED and "needs shipping" in str(event.reason)


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"<html>not json</html>", {}, "not JSON"),
        (b"[1, 2]", {}, "not a JSON object"),
        (json.dumps({"email": "jon@example.com"}).encode(), {}, "id"),
        (json.dumps({"id": "#9999"}).encode(), {}, "id"),
        (b"{}", {"x-shopify-topic": ""}, "X-Shopify-Topic"),
        (b"{}", {"x-shopify-event-id": "", "x-shopify-webhook-id": ""}, "X-Shopify-Event-Id"),
    ],
)
async def test_malformed_deliveries_are_permanent_errors(
    plugin: ShopifyMarketplace, body: bytes, headers: dict[str, str], message: str
):
    with pytest.raises(PermanentError, match=message):
        await plugin.marketplace_parse_webhook(delivery("orders/create", body, **headers))


async def test_orders_edited_reads_the_order_as_it_now_is(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("orders/edited", load("webhook_orders_edited.json"), event_id="edit-evt-1")
    )
    assert fake.ops() == ["HubOrder"]
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is not None
    assert event.dedupe_key == "edit-evt-1" and event.reason == "order edit 78912328"
    # The edit removed the coffee table (currentQuantity 0).
    assert [line.line_id for line in event.order.lines] == [SUNGLASSES, LOUNGER]


async def test_refunds_are_seen_through_the_reread_order(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("refunds/create", load("webhook_refunds_create.json"), event_id="refund-evt-1")
    )
    assert fake.ops() == ["HubOrder"]
    assert event.external_id == ORDER_ID and event.dedupe_key == "refund-evt-1"
    assert event.reason == "refund 890088186047892319 created" and event.order is not None


async def test_a_reread_order_that_is_gone_is_ignored(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).respond(200, json={"data": {"order": None}})
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("refunds/create", load("webhook_refunds_create.json"))
    )
    assert event.kind is ChannelEventKind.IGNORED and "not readable" in str(event.reason)
    # One cause for every refund of a gone order: no refund id in the reason.
    assert str(event.reason).startswith("refunds/create:") and "890088" not in str(event.reason)


# =========================================================================== the two shapes


def test_webhook_and_poll_shapes_map_to_the_same_order():
    rest = order_from_rest(load("webhook_orders_create.json"), SETTINGS)
    node = load("graphql_orders_page1.json")["data"]["orders"]["nodes"][0]
    assert rest is not None and rest == order_from_graphql(node, SETTINGS)


@pytest.mark.parametrize(
    ("title", "code", "level"),
    [
        ("Generic Shipping", None, "standard"),
        ("Express Shipping", None, "express"),
        ("UPS Next Day Air", "01", "express"),
        ("Economy (5-8 business days)", None, "economy"),
        ("Free shipping", None, "standard"),
        ("Hemleverans", None, "express"),  # configured below
    ],
)
def test_shipping_lines_become_service_levels(title: str, code: str | None, level: str):
    from plugins.marketplaces.shopify.mapping import service_level

    configured = shop_settings(service_levels={"HEMLEVERANS": "express"})
    assert service_level(title, code, configured) == level


def test_financial_statuses_map_to_payment_statuses():
    from plugins.marketplaces.shopify.mapping import payment_status

    assert payment_status("AUTHORIZED", "f") is PaymentStatus.AUTHORIZED
    assert payment_status("partially_refunded", "f") is PaymentStatus.PARTIALLY_REFUNDED
    assert payment_status("PARTIALLY_PAID", "f") is PaymentStatus.PENDING
    assert payment_status("EXPIRED", "f") is PaymentStatus.VOIDED
    assert payment_status(None, "f") is PaymentStatus.PENDING
    with pytest.raises(MappingError, match="disputed"):
        payment_status("disputed", "f")


# =========================================================================== polling


async def test_fetch_pages_over_two_graphql_pages(plugin: ShopifyMarketplace, fake: FakeShopify):
    window = FetchRequest(
        account=SHOP,
        updated_after=datetime(2025, 10, 14, 15, 0, tzinfo=UTC),
        updated_before=datetime(2025, 10, 14, 16, 30, 15, 500000, tzinfo=UTC),
    )
    first = await plugin.marketplace_fetch_orders(window)
    assert first.next_page_token
    second = await plugin.marketplace_fetch_orders(
        window.model_copy(update={"page_token": first.next_page_token})
    )
    assert second.next_page_token is None
    (_, vars1, headers), (_, vars2, _) = fake.calls
    assert vars1 == {
        "first": 10,  # page_size 50 asked; one query may cost at most 1,000 points
        "after": None,
        "query": "updated_at:>='2025-10-14T15:00:00Z' AND updated_at:<'2025-10-14T16:30:15Z'",
    }
    assert vars2["after"] == first.next_page_token
    assert headers["x-shopify-access-token"] == "shpat_0123456789abcdef0123456789abcdef"

    upserted, cancelled = first.events
    assert upserted.kind is ChannelEventKind.ORDER_UPSERTED and upserted.order is not None
    assert upserted.dedupe_key == f"{ORDER_ID}@2025-10-14T11:02:34-04:00"
    assert cancelled.kind is ChannelEventKind.ORDER_CANCELLED
    assert cancelled.external_id == "450789469" and cancelled.reason == (
        "cancelled on Shopify (customer)"
    )
    no_sku, digital = second.events
    assert no_sku.problem is not None and no_sku.problem.field == "lineItems.nodes[0].sku"
    assert digital.kind is ChannelEventKind.IGNORED


async def test_fetch_reads_the_rest_of_a_long_order(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    page = load("graphql_orders_page1.json")
    page["data"]["orders"]["nodes"] = page["data"]["orders"]["nodes"][:1]
    page["data"]["orders"]["pageInfo"] = {"hasNextPage": False, "endCursor": None}
    first_lines = page["data"]["orders"]["nodes"][0]["lineItems"]
    rest_of_lines = {"nodes": first_lines["nodes"][2:], "pageInfo": {"hasNextPage": False}}
    first_lines["nodes"] = first_lines["nodes"][:2]
    first_lines["pageInfo"] = {"hasNextPage": True, "endCursor": "cursor-after-2"}
    route = respx_mock.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json=page),
            httpx.Response(200, json={"data": {"order": {"lineItems": rest_of_lines}}}),
        ]
    )
    result = await plugin.marketplace_fetch_orders(
        FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
    )
    follow_up = json.loads(route.calls[1].request.content)
    assert follow_up["variables"] == {
        "id": f"gid://shopify/Order/{ORDER_ID}",
        "after": "cursor-after-2",
    }
    (event,) = result.events
    assert event.order is not None and len(event.order.lines) == 3


async def test_fetch_refuses_another_account(plugin: ShopifyMarketplace):
    with pytest.raises(PermanentError, match="serves account"):
        await plugin.marketplace_fetch_orders(
            FetchRequest(
                account="other.myshopify.com", updated_after=RECEIVED, updated_before=RECEIVED
            )
        )


def test_orders_search_uses_utc_and_a_half_open_window():
    from datetime import timedelta, timezone

    stockholm = timezone(timedelta(hours=2))
    assert (
        orders_search(
            datetime(2025, 10, 14, 17, 0, tzinfo=stockholm),
            datetime(2025, 10, 14, 18, 0, tzinfo=UTC),
        )
        == "updated_at:>='2025-10-14T15:00:00Z' AND updated_at:<'2025-10-14T18:00:00Z'"
    )


# =========================================================================== push-back


async def test_confirm_shipment_sends_one_fulfillment_and_is_idempotent(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    shipped = confirmation(SUNGLASSES, LOUNGER)
    receipt = await plugin.marketplace_confirm_shipment(shipped)
    assert fake.ops() == ["HubFulfillmentState", "HubFulfillmentCreate"]
    sent = fake.calls[1][1]
    assert sent == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000778",
                    "fulfillmentOrderLineItems": [
                        {"id": "gid://shopify/FulfillmentOrderLineItem/1072503282", "quantity": 1},
                        {"id": "gid://shopify/FulfillmentOrderLineItem/1072503283", "quantity": 1},
                    ],
                }
            ],
            "trackingInfo": {
                "company": "UPS",
                "number": "1Z999AA10123456784",
                "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            },
            "notifyCustomer": True,
        }
    }
    assert receipt.channel_reference == "gid://shopify/Fulfillment/1069019866"
    assert not receipt.already_confirmed

    again = await plugin.marketplace_confirm_shipment(shipped)
    assert again.already_confirmed and again.channel_reference == receipt.channel_reference
    assert fake.ops()[2:] == ["HubFulfillmentState", "HubFulfillmentLines"]
    assert len(fake.fulfillments) == 1


async def test_confirm_shipment_makes_one_call_per_location(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    receipt = await plugin.marketplace_confirm_shipment(
        confirmation(SUNGLASSES, LOUNGER, TABLE).model_copy(update={"notify_customer": False})
    )
    creates = [v for op, v, _ in fake.calls if op == "HubFulfillmentCreate"]
    assert [
        [g["fulfillmentOrderId"] for g in v["fulfillment"]["lineItemsByFulfillmentOrder"]]
        for v in creates
    ] == [
        ["gid://shopify/FulfillmentOrder/1046000778"],
        ["gid://shopify/FulfillmentOrder/1046000779"],
    ]
    assert all(v["fulfillment"]["notifyCustomer"] is False for v in creates)
    assert receipt.channel_reference == (
        "gid://shopify/Fulfillment/1069019866,gid://shopify/Fulfillment/1069019867"
    )
    again = await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES, LOUNGER, TABLE))
    assert again.already_confirmed and again.channel_reference == receipt.channel_reference


async def test_a_half_done_confirmation_creates_only_the_rest(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    """The first location's fulfilment was created, then the answer for the second was lost."""
    await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES, LOUNGER))
    receipt = await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES, LOUNGER, TABLE))
    creates = [v for op, v, _ in fake.calls if op == "HubFulfillmentCreate"]
    assert len(creates) == 2
    assert creates[1]["fulfillment"]["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1046000779",
            "fulfillmentOrderLineItems": [
                {"id": "gid://shopify/FulfillmentOrderLineItem/1072503284", "quantity": 1}
            ],
        }
    ]
    assert not receipt.already_confirmed
    assert receipt.channel_reference.count("gid://shopify/Fulfillment/") == 2


async def test_a_location_setting_keeps_to_that_location(tmp_path: Path, fake: FakeShopify):
    located = ShopifyMarketplace(
        shop_settings(location_id="487838322"), PluginRuntime(tmp_path, tmp_path)
    )
    try:
        with pytest.raises(PermanentError, match=f"line {SUNGLASSES}.*location 487838322"):
            await located.marketplace_confirm_shipment(confirmation(SUNGLASSES))
        await located.marketplace_confirm_shipment(confirmation(TABLE))
    finally:
        await located.aclose()
    assert [op for op in fake.ops() if op == "HubFulfillmentCreate"] == ["HubFulfillmentCreate"]


async def test_lines_fulfilled_outside_the_hub_are_a_permanent_error(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    fake.state["data"]["order"]["fulfillmentOrders"]["nodes"][0]["status"] = "CLOSED"
    with pytest.raises(PermanentError, match=f"line {SUNGLASSES} .*not open for fulfilment"):
        await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))
    assert "HubFulfillmentCreate" not in fake.ops()


async def test_user_errors_are_permanent_with_their_messages(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json=load("graphql_fulfillment_state.json")),
            httpx.Response(200, json=load("graphql_fulfillment_create_user_errors.json")),
        ]
    )
    with pytest.raises(PermanentError, match="Fulfillment order does not exist"):
        await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))


async def test_a_lost_mutation_answer_is_retryable_because_confirm_looks_first(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json=load("graphql_fulfillment_state.json")),
            httpx.ReadTimeout("no answer"),
        ]
    )
    with pytest.raises(TransientError, match="ReadTimeout"):
        await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))


async def test_an_unknown_order_is_permanent(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).respond(200, json={"data": {"order": None}})
    with pytest.raises(PermanentError, match="not found on Shopify"):
        await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))


# =========================================================================== errors, limits


async def test_throttled_is_transient_with_a_wait_from_cost_and_restore_rate(
    plugin: ShopifyMarketplace, fake: FakeShopify
):
    fake.throttle_next = True
    with pytest.raises(TransientError, match="Throttled") as info:
        await plugin.marketplace_fetch_orders(
            FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
        )
    # (852 requested - 152 available) / 100 points per second
    assert info.value.retry_after == pytest.approx(7.0)


async def test_http_429_honours_retry_after(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).respond(
        429, headers={"Retry-After": "2.0"}, json={"errors": "Exceeded 2 calls per second"}
    )
    with pytest.raises(TransientError, match="Exceeded") as info:
        await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))
    assert info.value.retry_after == 2.0


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(503, text="Service Unavailable"), TransientError, "503"),
        (httpx.Response(401, json=load("error_401.json")), PermanentError, "Invalid API key"),
        (httpx.Response(402, json={"errors": "Unavailable Shop"}), PermanentError, "Unavailable"),
        (httpx.Response(200, json=load("graphql_access_denied.json")), PermanentError, "Access"),
        (
            httpx.Response(
                200,
                json={
                    "errors": [
                        {
                            "message": "Internal error. Looks like something went wrong.",
                            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                        }
                    ]
                },
            ),
            TransientError,
            "Internal error",
        ),
    ],
)
async def test_errors_map_to_hub_errors(
    plugin: ShopifyMarketplace,
    respx_mock: respx.MockRouter,
    response: httpx.Response,
    error: type[Exception],
    message: str,
):
    respx_mock.post(GRAPHQL).mock(return_value=response)
    with pytest.raises(error, match=message):
        await plugin.marketplace_fetch_orders(
            FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
        )


async def test_a_connect_timeout_is_transient(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(GRAPHQL).mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(TransientError, match="could not connect"):
        await plugin.marketplace_fetch_orders(
            FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
        )


async def test_client_credentials_token_is_refreshed_once_after_a_401(
    tmp_path: Path, respx_mock: respx.MockRouter
):
    granted = load("client_credentials_token.json")
    token_route = respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={**granted, "access_token": "shpat_revoked"}),
            httpx.Response(200, json=granted),
        ]
    )
    graphql = respx_mock.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(401, json=load("error_401.json")),
            httpx.Response(200, json=load("graphql_orders_page2.json")),
        ]
    )
    app = ShopifyMarketplace(
        shop_settings(access_token=None, client_id="3f1c2b9a7e6d5c4b3a29180716253443"),
        PluginRuntime(tmp_path, tmp_path),
    )
    try:
        page = await app.marketplace_fetch_orders(
            FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
        )
    finally:
        await app.aclose()
    assert len(page.events) == 2 and token_route.call_count == 2
    form = dict(httpx.QueryParams(token_route.calls[0].request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "3f1c2b9a7e6d5c4b3a29180716253443",
        "client_secret": SECRET,
    }
    used = [c.request.headers["x-shopify-access-token"] for c in graphql.calls]
    assert used == ["shpat_revoked", granted["access_token"]]


class RecordingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__({"*": (1000.0, 1000.0)})
        self.observed: list[tuple[str, float | None]] = []
        self.drained: list[str] = []

    def observe(self, account: str, operation: str, *, rate_per_second: float | None = None):
        self.observed.append((operation, rate_per_second))
        super().observe(account, operation, rate_per_second=rate_per_second)

    def drain(self, account: str, operation: str) -> None:
        self.drained.append(operation)
        super().drain(account, operation)


async def test_cost_reports_pace_the_limiter(
    plugin: ShopifyMarketplace, respx_mock: respx.MockRouter
):
    limiter = plugin.client.limiter = RecordingLimiter()
    low = load("graphql_orders_page2.json")
    low["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 300
    respx_mock.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json=load("graphql_orders_page2.json")),
            httpx.Response(200, json=low),
        ]
    )
    window = FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
    await plugin.marketplace_fetch_orders(window)
    # restoreRate 100 points/s over an actual cost of 24 points: about 4 such calls a second
    assert limiter.observed == [("orders", pytest.approx(100 / 24))]
    assert limiter.drained == []
    await plugin.marketplace_fetch_orders(window)
    assert limiter.drained == ["orders"]  # 300 left < 852 requested: wait for the refill


async def test_logs_carry_ids_not_personal_data(
    plugin: ShopifyMarketplace, fake: FakeShopify, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await plugin.marketplace_fetch_orders(
        FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
    )
    await plugin.marketplace_parse_webhook(
        delivery("orders/edited", load("webhook_orders_edited.json"))
    )
    await plugin.marketplace_confirm_shipment(confirmation(SUNGLASSES))
    for secret_or_personal in ("Steve", "Shipper", "jon@example.com", "Shipping Street", "shpat_"):
        assert secret_or_personal not in caplog.text


# =========================================================================== through the hub


async def test_the_hub_calls_it_through_pluggy(plugin: ShopifyMarketplace, fake: FakeShopify):
    host = host_for(plugin)
    webhook = delivery("orders/create", load("webhook_orders_create.json"))
    assert await host.verify_webhook("shopify", webhook)
    (event,) = await host.parse_webhook("shopify", webhook)
    assert event.order is not None and event.order.key == f"shopify:{ORDER_ID}"
    page = await host.fetch_orders(
        "shopify", FetchRequest(updated_after=RECEIVED, updated_before=RECEIVED)
    )
    assert len(page.events) == 2
    receipt = await host.confirm_shipment(confirmation(SUNGLASSES))
    assert receipt.channel_reference.startswith("gid://shopify/Fulfillment/")


class TestShopifyContract(MarketplaceContract):
    @pytest.fixture
    async def plugin(self, fake: FakeShopify, tmp_path: Path) -> AsyncIterator[ShopifyMarketplace]:
        built = ShopifyMarketplace(SETTINGS, PluginRuntime(tmp_path, tmp_path))
        yield built
        await built.aclose()

    @pytest.fixture
    def fetch_request(self) -> FetchRequest:
        return FetchRequest(
            account=SHOP,
            updated_after=datetime(2025, 10, 14, 15, 0, tzinfo=UTC),
            updated_before=datetime(2025, 10, 14, 17, 0, tzinfo=UTC),
        )

    @pytest.fixture
    def webhook(self) -> WebhookRequest:
        return delivery("orders/create", load("webhook_orders_create.json"))

    @pytest.fixture
    def confirmation(self, fake: FakeShopify) -> ShipmentConfirmation:
        return confirmation(SUNGLASSES, LOUNGER)


# =========================================================================== properties


REST_SAMPLE = load("webhook_orders_create.json")
GRAPHQL_SAMPLE = load("graphql_orders_page1.json")["data"]["orders"]["nodes"][0]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _maps_or_names_the_field(mapper: Callable[..., Order | None], payload: Any) -> None:
    try:
        result = mapper(payload, SETTINGS)
    except MappingError as exc:
        assert exc.problem.field and exc.problem.message
        return
    assert result is None or isinstance(result, Order)


@FAST
@given(st.one_of(mutated(REST_SAMPLE), st.dictionaries(st.text(max_size=12), JSON)))
def test_rest_mapping_never_crashes(payload: Any):
    _maps_or_names_the_field(order_from_rest, payload)


@FAST
@given(st.one_of(mutated(GRAPHQL_SAMPLE), st.dictionaries(st.text(max_size=12), JSON)))
def test_graphql_mapping_never_crashes(payload: Any):
    _maps_or_names_the_field(order_from_graphql, payload)


@FAST
@given(mutated(REST_SAMPLE), st.sampled_from(list(ChannelEventKind)))
def test_rest_events_are_events_or_permanent_errors(payload: Any, kind: ChannelEventKind):
    try:
        event = rest_order_event(
            payload, SETTINGS, kind=kind, dedupe_key="evt", occurred_at=RECEIVED
        )
    except PermanentError as exc:
        assert "id" in str(exc)
        return
    assert (event.order is None) or (event.problem is None)


@FAST
@given(mutated(GRAPHQL_SAMPLE))
def test_graphql_events_are_events_or_permanent_errors(payload: Any):
    try:
        event = graphql_order_event(payload, SETTINGS)
    except PermanentError as exc:
        assert "id" in str(exc) or "updatedAt" in str(exc)
        return
    assert event.dedupe_key.startswith(f"{event.external_id}@")

"""The WooCommerce channel: pure mapping over the documented order JSON, then the plugin against a
respx-mocked shop (a small stateful fake of the REST API v3 and the Shipment Tracking extension).

Fixtures (tests/plugins/fixtures/woocommerce/): ``order_docs_example.json`` is the "Retrieve an
order" JSON example of the wp-api-v3 docs as published; ``orders.json`` and ``order_*.json`` are
that example grown into a shop's orders with the fields current WooCommerce adds (shipping phone,
``payment_url``, ``needs_*``, line ``image``/``parent_name``, meta ``display_*``); the tracking
and error bodies follow the Shipment Tracking and REST API docs' examples.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import math
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
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
from hub.intake import IntakeOutcome
from hub.mapping import MappingError
from hub.plugin import PluginRuntime
from hub.webhooks import create_app
from plugins.marketplaces.woocommerce import WooCommerceMarketplace, WooCommerceSettings
from plugins.marketplaces.woocommerce.events import order_event
from plugins.marketplaces.woocommerce.mapping import order_from_wc, unit_price
from plugins.marketplaces.woocommerce.polling import (
    Cursor,
    decode_token,
    encode_token,
    has_more,
    orders_query,
)
from plugins.marketplaces.woocommerce.webhooks import sign
from tests.contract.marketplace import MarketplaceContract
from tests.contract.payloads import JSON, mutated

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
STORE = "https://shop.example.com"
HOST = "shop.example.com"
CONSUMER_KEY = "ck_4f2a9c1e7b3d5f6a8c0e2b4d6f8a0c2e4b6d8f0a"
CONSUMER_SECRET = "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
WEBHOOK_SECRET = "q$7;vZ@tR4m!Lp2x"
BASIC = "Basic " + base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
RECEIVED = datetime(2025, 10, 14, 15, 2, 11, tzinfo=UTC)
WINDOW = (
    datetime(2025, 10, 14, 15, 0, tzinfo=UTC),
    datetime(2025, 10, 14, 16, 30, 15, 500000, tzinfo=UTC),
)

pytestmark = pytest.mark.respx(assert_all_called=False)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def make_settings(**overrides: Any) -> WooCommerceSettings:
    values: dict[str, Any] = {
        "store_url": STORE,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    }
    values.update(overrides)
    return WooCommerceSettings(**values)


SETTINGS = make_settings()


def php_json(payload: Any) -> bytes:
    """The body as WooCommerce sends it: wp_json_encode escapes slashes and non-ASCII."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def delivery(
    topic: str,
    payload: Any,
    *,
    secret: str = WEBHOOK_SECRET,
    delivery_id: str = "2c8bb2d9c3a14c8b6ec1a2a0f7f6e0d1",
    **extra_headers: str,
) -> WebhookRequest:
    """A delivery as WC_Webhook::deliver() sends it: signed raw body, the documented headers."""
    body = payload if isinstance(payload, bytes) else php_json(payload)
    resource, _, event = topic.partition(".")
    headers = {
        "content-type": "application/json",
        "user-agent": "WooCommerce/9.3.3 Hookshot (WordPress/6.6.2)",
        "x-wc-webhook-source": f"{STORE}/",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-signature": sign(secret, body),
        "x-wc-webhook-id": "17",
        "x-wc-webhook-delivery-id": delivery_id,
    }
    headers.update(extra_headers)
    return WebhookRequest(plugin="woocommerce", headers=headers, body=body, received_at=RECEIVED)


def ping(body: bytes = b"webhook_id=17", **headers: str) -> WebhookRequest:
    """WC_Webhook::deliver_ping(): a form post, no webhook headers, no signature."""
    return WebhookRequest(
        plugin="woocommerce",
        headers={
            "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
            "user-agent": "WooCommerce/9.3.3 Hookshot (WordPress/6.6.2)",
            **headers,
        },
        body=body,
        received_at=RECEIVED,
    )


def order(order_id: int = 1021) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in load("orders.json") if o["id"] == order_id))


def confirmation(
    *lines: tuple[str, str, int],
    tracking: str = "1Z999AA10123456784",
    shipment_id: str = "shp-1021-1",
    carrier: str = "ups",
    carrier_name: str = "UPS Ground",
) -> ShipmentConfirmation:
    lines = lines or (("315", "woo-single-1", 2), ("316", "Bar3", 1))
    return ShipmentConfirmation(
        marketplace="woocommerce",
        account=HOST,
        external_id="1021",
        shipment_id=shipment_id,
        carrier=carrier,
        carrier_name=carrier_name,
        service_code="03",
        tracking_number=tracking,
        tracking_url=f"https://www.ups.com/track?loc=en_US&tracknum={tracking}",
        shipped_at=datetime(2025, 10, 15, 13, 30, tzinfo=UTC),
        lines=tuple(ShipmentLine(line_id=i, sku=s, quantity=q) for i, s, q in lines),
    )


def _gmt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class FakeWoo:
    """One shop's REST API as the plugin uses it, answering by WooCommerce's rules: exclusive
    ``modified_after/before`` in GMT, ``orderby=modified``, ``exclude``, ``X-WP-TotalPages``;
    order updates bump ``date_modified_gmt``; tracking items are kept per order."""

    def __init__(self) -> None:
        self.orders: dict[int, dict[str, Any]] = {o["id"]: o for o in load("orders.json")}
        self.trackings: dict[int, list[dict[str, Any]]] = {}
        self.providers = load("shipment_tracking_providers.json")
        self.requests: list[httpx.Request] = []
        self.clock = datetime(2025, 10, 15, 13, 31, 0)
        self.ignore_exclude = False
        self.lose_create_answer = False
        self.tracking_extension = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["authorization"] == BASIC
        path = request.url.path.removeprefix("/wp-json")
        method = request.method
        if method == "GET" and path == "/wc/v3/orders":
            return self.list_orders(request.url.params)
        if match := re.fullmatch(r"/wc/v3/orders/(\d+)", path):
            found = self.orders.get(int(match.group(1)))
            if found is None:
                return httpx.Response(404, json=load("error_invalid_id.json"))
            if method == "PUT":
                self.update(found, json.loads(request.content))
            return httpx.Response(200, json=found)
        tracking_path = r"/wc-shipment-tracking/v3/orders/(\d+)/shipment-trackings"
        if self.tracking_extension and (match := re.fullmatch(tracking_path, path)):
            items = self.trackings.setdefault(int(match.group(1)), [])
            if method == "POST":
                return self.create_tracking(items, json.loads(request.content))
            return httpx.Response(200, json=items)
        if (
            self.tracking_extension
            and path == "/wc-shipment-tracking/v3/shipment-trackings/providers"
        ):
            return httpx.Response(200, json=self.providers)
        return httpx.Response(404, json=load("error_no_route.json"))

    def ops(self) -> list[str]:
        return [f"{r.method} {r.url.path.removeprefix('/wp-json')}" for r in self.requests]

    def list_orders(self, params: httpx.QueryParams) -> httpx.Response:
        assert params["dates_are_gmt"] == "true"
        assert (params["orderby"], params["order"]) == ("modified", "asc")
        after, before = _gmt(params["modified_after"]), _gmt(params["modified_before"])
        excluded = set() if self.ignore_exclude else set(params.get("exclude", "").split(","))
        matching = sorted(
            (
                o
                for o in self.orders.values()
                if after < _gmt(o["date_modified_gmt"]) < before and str(o["id"]) not in excluded
            ),
            key=lambda o: (o["date_modified_gmt"], o["id"]),
        )
        per_page, page = int(params["per_page"]), int(params["page"])
        body = matching[(page - 1) * per_page : page * per_page]
        headers = {
            "X-WP-Total": str(len(matching)),
            "X-WP-TotalPages": str(math.ceil(len(matching) / per_page)),
        }
        return httpx.Response(200, json=body, headers=headers)

    def modify(self, found: dict[str, Any], **changes: Any) -> None:
        self.clock += timedelta(seconds=7)
        found.update(changes, date_modified_gmt=self.clock.isoformat())

    def update(self, found: dict[str, Any], body: dict[str, Any]) -> None:
        meta = found["meta_data"]
        for item in body.get("meta_data", []):
            same = [m for m in meta if m["id"] == item.get("id") or m["key"] == item["key"]]
            if same:
                same[0]["value"] = item["value"]
            else:
                meta.append({"id": 30000 + len(meta), "key": item["key"], "value": item["value"]})
        self.modify(found, **({"status": body["status"]} if "status" in body else {}))

    def create_tracking(self, items: list[dict[str, Any]], body: dict[str, Any]) -> httpx.Response:
        assert body["tracking_number"] and body["date_shipped"]
        provider = body.get("tracking_provider") or body["custom_tracking_provider"]
        formats = {name: url for group in self.providers.values() for name, url in group.items()}
        link = formats.get(provider, body.get("custom_tracking_link", "%1$s"))
        item = {
            "tracking_id": f"{0x7F4978C390EE633C6294AE0F258656F9 + len(items):032x}",
            "tracking_provider": provider,
            "tracking_link": link.replace("%1$s", body["tracking_number"]),
            "tracking_number": body["tracking_number"],
            "date_shipped": body["date_shipped"],
        }
        items.append(item)
        if self.lose_create_answer:
            self.lose_create_answer = False
            raise httpx.ReadTimeout("the shop took the request, the answer never came")
        return httpx.Response(201, json=item)


@pytest.fixture
async def plugin(tmp_path: Path) -> AsyncIterator[WooCommerceMarketplace]:
    built = WooCommerceMarketplace(SETTINGS, PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    yield built
    await built.aclose()


@pytest.fixture
def fake(respx_mock: respx.MockRouter) -> FakeWoo:
    server = FakeWoo()
    respx_mock.route(host=HOST).mock(side_effect=server)
    return server


def host_for(plugin: WooCommerceMarketplace) -> PluginHost:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="marketplaces.woocommerce")
    pm.check_pending()
    return PluginHost(pm, {"marketplaces.woocommerce": plugin})


def window(**changes: Any) -> FetchRequest:
    request = FetchRequest(account=HOST, updated_after=WINDOW[0], updated_before=WINDOW[1])
    return request.model_copy(update=changes)


# =========================================================================== settings


def test_settings_want_https_and_hide_secrets():
    with pytest.raises(ValidationError, match="https://"):
        make_settings(store_url="http://shop.example.com")
    with pytest.raises(ValidationError, match="extra"):
        make_settings(api_key="nope")
    with pytest.raises(ValidationError, match="must not be empty"):
        make_settings(webhook_secret=" ")
    with pytest.raises(ValidationError, match="standard, express or economy"):
        make_settings(service_levels={"flat_rate": "fast"})
    tidy = make_settings(store_url="https://shop.example.com/", statuses={"wc-Shipped": "ignored"})
    assert tidy.store_url == STORE and tidy.account_name == HOST
    assert tidy.status_meaning("wc-shipped") == "ignored"
    for secret in (CONSUMER_KEY, CONSUMER_SECRET, WEBHOOK_SECRET):
        assert secret not in repr(tidy)


# =========================================================================== webhooks


async def test_webhook_signature_good_bad_and_missing(plugin: WooCommerceMarketplace):
    good = delivery("order.created", order())
    assert plugin.marketplace_verify_webhook(good)
    tampered = good.model_copy(update={"body": good.body.replace(b'"6.00"', b'"0.60"')})
    assert not plugin.marketplace_verify_webhook(tampered)
    assert not plugin.marketplace_verify_webhook(
        delivery("order.created", good.body, secret="another-webhook's-secret")
    )
    unsigned = good.model_copy(
        update={"headers": {k: v for k, v in good.headers.items() if "signature" not in k}}
    )
    assert not plugin.marketplace_verify_webhook(unsigned)


async def test_the_creation_ping_is_acknowledged_and_starts_nothing(
    plugin: WooCommerceMarketplace,
):
    host = host_for(plugin)
    assert await host.verify_webhook("woocommerce", ping())
    (pinged,) = await host.parse_webhook("woocommerce", ping())
    assert pinged.kind is ChannelEventKind.IGNORED and pinged.order is None
    assert pinged.reason == "webhook ping (sent when a webhook is saved)"
    assert pinged.dedupe_key == "ping:webhook_id=17"
    # Nothing unsigned passes for a ping but the ping itself.
    for impostor in (
        ping(b'{"id": 1021, "status": "processing"}'),
        ping(b"webhook_id=17&status=processing"),
        ping(**{"x-wc-webhook-topic": "order.created"}),
        ping(**{"content-type": "application/json"}),
    ):
        assert not await host.verify_webhook("woocommerce", impostor), impostor


class RecordingIntake:
    """Stands in for hub.intake.Intake at the webhook edge: records what would start."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def take_delivery(self, marketplace: str, events: list[Any]) -> list[IntakeOutcome]:
        self.events.extend(e for e in events if e.kind is not ChannelEventKind.IGNORED)
        return [
            IntakeOutcome.IGNORED if e.kind is ChannelEventKind.IGNORED else IntakeOutcome.STARTED
            for e in events
        ]


async def test_the_edge_answers_the_ping_200_and_starts_nothing(
    plugin: WooCommerceMarketplace, tmp_path: Path
):
    """WC_Webhook::deliver_ping() wants exactly HTTP 200, or the webhook is not saved."""
    intake = RecordingIntake()
    app = create_app(host_for(plugin), intake, tmp_path / "rejects.jsonl")  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=STORE) as edge:
        pinged = await edge.post(
            "/webhooks/woocommerce",
            content=b"webhook_id=17",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert (pinged.status_code, pinged.json()) == (200, {"accepted": ["ignored"]})
        forged = await edge.post(
            "/webhooks/woocommerce",
            content=php_json(order()),
            headers={"content-type": "application/json", "x-wc-webhook-topic": "order.created"},
        )
        assert forged.status_code == 401
        signed = delivery("order.created", order())
        taken = await edge.post(
            "/webhooks/woocommerce", content=signed.body, headers=signed.headers
        )
        assert (taken.status_code, taken.json()) == (200, {"accepted": ["started"]})
    assert [e.external_id for e in intake.events] == ["1021"]


async def test_order_created_maps_everything(plugin: WooCommerceMarketplace):
    (event,) = await plugin.marketplace_parse_webhook(delivery("order.created", order()))
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.problem is None
    assert event.dedupe_key == "1021@2025-10-14T15:02:10Z:processing"
    assert event.occurred_at == datetime(2025, 10, 14, 15, 2, 10, tzinfo=UTC)
    found = event.order
    assert found is not None
    assert (found.marketplace, found.account, found.external_id) == ("woocommerce", HOST, "1021")
    assert found.placed_at == datetime(2025, 10, 14, 15, 1, 58, tzinfo=UTC)
    assert found.updated_at == event.occurred_at
    assert found.currency == "USD" and found.payment_status is PaymentStatus.PAID
    assert [(li.line_id, li.sku, li.quantity, li.unit_price.amount) for li in found.lines] == [
        ("315", "woo-single-1", 2, Decimal("3.00")),
        ("316", "Bar3", 1, Decimal("12.00")),
    ]
    assert found.lines[1].title == "Ship Your Idea – Color: Black, Size: M Test"
    assert found.total.amount == Decimal("18.00")
    address = found.shipping_address
    assert (address.name, address.company, address.line1, address.line2) == (
        "Jane Doe",
        "Doe Studio",
        "1 Infinite Loop",
        "Suite 4",
    )
    assert (address.city, address.region, address.postal_code, address.country) == (
        "Cupertino",
        "CA",
        "95014",
        "US",
    )
    assert found.customer.model_dump() == {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "phone": "+1 408 555 0134",
    }
    assert found.shipping_paid is not None and found.shipping_paid.amount == Decimal("10.00")
    assert found.service_level == "standard"
    assert found.is_gift and found.gift_message == "Happy birthday, Sam!"
    assert found.tags == ("backordered",) and not found.is_presale


async def test_one_change_has_one_key_a_later_change_another(plugin: WooCommerceMarketplace):
    payload = order()
    (created,) = await plugin.marketplace_parse_webhook(delivery("order.created", payload))
    # The same save seen by an order.updated webhook a second later: another delivery id.
    (updated,) = await plugin.marketplace_parse_webhook(
        delivery("order.updated", payload, delivery_id="8e51d2f3c6b94a7f0d1e2c3b4a596877")
    )
    assert created.dedupe_key == updated.dedupe_key and created.order == updated.order
    later = {**payload, "date_modified_gmt": "2025-10-14T15:40:00", "status": "on-hold"}
    (changed,) = await plugin.marketplace_parse_webhook(delivery("order.updated", later))
    same_second = {**payload, "status": "on-hold"}
    (status_only,) = await plugin.marketplace_parse_webhook(delivery("order.updated", same_second))
    keys = {created.dedupe_key, changed.dedupe_key, status_only.dedupe_key}
    assert len(keys) == 3
    assert changed.order is not None and changed.order.payment_status is PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("status", "kind", "payment"),
    [
        ("pending", ChannelEventKind.ORDER_UPSERTED, PaymentStatus.PENDING),
        ("on-hold", ChannelEventKind.ORDER_UPSERTED, PaymentStatus.PENDING),
        ("processing", ChannelEventKind.ORDER_UPSERTED, PaymentStatus.PAID),
        ("cancelled", ChannelEventKind.ORDER_CANCELLED, None),
        ("refunded", ChannelEventKind.ORDER_CANCELLED, None),
        ("failed", ChannelEventKind.ORDER_CANCELLED, None),
        ("completed", ChannelEventKind.IGNORED, None),
        ("checkout-draft", ChannelEventKind.IGNORED, None),
        ("pre-ordered", ChannelEventKind.ORDER_UPSERTED, PaymentStatus.PAID),
    ],
)
async def test_statuses_become_events(
    plugin: WooCommerceMarketplace,
    status: str,
    kind: ChannelEventKind,
    payment: PaymentStatus | None,
):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("order.updated", {**order(), "status": status})
    )
    assert event.kind is kind and event.problem is None
    if payment is None:
        assert event.order is None and event.reason
    else:
        assert event.order is not None and event.order.payment_status is payment
        assert event.order.is_presale is (status == "pre-ordered")


async def test_unknown_statuses_are_problems_until_configured(tmp_path: Path):
    shipped = {**order(), "status": "shipped"}  # a custom status added by a plugin
    plain = WooCommerceMarketplace(SETTINGS, PluginRuntime(tmp_path, tmp_path))
    (event,) = await plain.marketplace_parse_webhook(delivery("order.updated", shipped))
    assert event.problem is not None and event.problem.field == "status"
    configured = WooCommerceMarketplace(
        make_settings(statuses={"shipped": "ignored", "failed": "unpaid"}),
        PluginRuntime(tmp_path, tmp_path),
    )
    (ignored,) = await configured.marketplace_parse_webhook(delivery("order.updated", shipped))
    assert ignored.kind is ChannelEventKind.IGNORED
    (unpaid,) = await configured.marketplace_parse_webhook(
        delivery("order.updated", {**order(), "status": "failed"})
    )
    assert unpaid.order is not None and unpaid.order.payment_status is PaymentStatus.PENDING
    await plain.aclose()
    await configured.aclose()


def test_the_documented_example_lacks_a_sku_and_says_where():
    with pytest.raises(MappingError) as info:
        order_from_wc(load("order_docs_example.json"), SETTINGS)
    assert info.value.problem.field == "line_items[0].sku"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o["shipping"].update(country=""), "shipping.country"),
        (lambda o: o["shipping"].update(country="XX"), "shipping.country"),
        (lambda o: o.update(currency="EURO"), "currency"),
        (lambda o: o["line_items"][1].update(sku=None), "line_items[1].sku"),
        (lambda o: o["line_items"][0].update(quantity="two"), "line_items[0].quantity"),
        (lambda o: o["line_items"][0].update(quantity=-1), "line_items[0].quantity"),
        (lambda o: o["line_items"][0].update(total="NaN"), "line_items[0].total"),
        (lambda o: o.update(date_created_gmt=None), "date_created_gmt"),
        (lambda o: o.update(line_items=[]), "line_items"),
        (lambda o: o.update(status="wc-shipped"), "status"),
        (lambda o: o.update(date_modified_gmt="yesterday"), "date_modified_gmt"),
    ],
)
async def test_unmappable_orders_are_problems_naming_the_field(
    plugin: WooCommerceMarketplace, change: Callable[[dict[str, Any]], None], field: str
):
    payload = order()
    change(payload)
    (event,) = await plugin.marketplace_parse_webhook(delivery("order.created", payload))
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem is not None and event.problem.field == field, event.problem


def test_billing_address_when_there_is_no_shipping_address():
    mapped = order_from_wc(order(1022), SETTINGS)
    assert mapped is not None
    assert (mapped.shipping_address.line1, mapped.shipping_address.country) == (
        "Invalidenstraße 116",
        "DE",
    )
    assert mapped.currency == "EUR" and mapped.lines[0].unit_price.amount == Decimal("17.90")


def test_pickup_and_virtual_orders_have_nothing_to_ship():
    assert order_from_wc(order(1024), SETTINGS) is None  # local pickup
    assert order_from_wc({**order(), "shipping_lines": []}, SETTINGS) is None  # virtual


def test_shipping_methods_become_service_levels_and_meta_becomes_flags():
    express = order_from_wc(order(1026), SETTINGS)
    assert express is not None and express.service_level == "express"
    assert express.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    payload = order()
    payload["meta_data"] += [
        {"id": 1, "key": "_delivery_date", "value": "2025-10-20"},
        {"id": 2, "key": "_ship_by", "value": 1760745600},
        {"id": 3, "key": "minimal_packaging", "value": "yes"},
        {"id": 4, "key": "_wc_pre_orders_is_pre_order", "value": "1"},
    ]
    payload["shipping_lines"][0]["method_title"] = "Hemleverans"
    tuned = make_settings(
        deliver_by_meta_key="_delivery_date",
        ship_by_meta_key="_ship_by",
        service_levels={"HEMLEVERANS": "economy"},
    )
    mapped = order_from_wc(payload, tuned)
    assert mapped is not None
    assert mapped.deliver_by == datetime(2025, 10, 20, 23, 59, 59, tzinfo=UTC)
    assert mapped.ship_by == datetime(2025, 10, 18, 0, 0, tzinfo=UTC)
    assert mapped.minimal_packaging and mapped.is_presale and mapped.service_level == "economy"
    payload["meta_data"][-4]["value"] = "next Tuesday"
    with pytest.raises(MappingError, match="_delivery_date"):
        order_from_wc(payload, tuned)


def test_unit_prices_stay_decimal():
    assert unit_price(Decimal("10.00"), None, 3, "l") == Decimal("3.3333")
    assert unit_price(Decimal("53.70"), Decimal("17.9"), 3, "l") == Decimal("17.90")
    assert unit_price(None, Decimal("17.9"), 3, "l") == Decimal("17.9")


async def test_a_trashed_order_is_read_again_and_cancelled(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    fake.orders[1021] = load("order_trashed.json")
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("order.deleted", load("webhook_order_deleted.json"))
    )
    assert fake.ops() == ["GET /wc/v3/orders/1021"]
    assert event.kind is ChannelEventKind.ORDER_CANCELLED
    assert event.reason == "moved to the trash on WooCommerce"
    assert event.dedupe_key == "1021@2025-10-14T16:44:03Z:trash"


async def test_a_deletion_undone_since_is_an_upsert(plugin: WooCommerceMarketplace, fake: FakeWoo):
    (event,) = await plugin.marketplace_parse_webhook(
        delivery("order.deleted", load("webhook_order_deleted.json"))
    )
    assert event.kind is ChannelEventKind.ORDER_UPSERTED
    assert event.reason == "re-read after order.deleted"
    (restored,) = await plugin.marketplace_parse_webhook(
        delivery("order.restored", load("order_processing.json"))
    )
    assert restored.order is not None and restored.dedupe_key == event.dedupe_key


async def test_a_deleted_order_that_is_gone_or_unreadable_is_still_cancelled(
    plugin: WooCommerceMarketplace, respx_mock: respx.MockRouter
):
    route = respx_mock.get(f"{STORE}/wp-json/wc/v3/orders/1021").mock(
        side_effect=[
            httpx.Response(404, json=load("error_invalid_id.json")),
            httpx.Response(503, text="Service Unavailable"),
            httpx.Response(401, json=load("error_unauthorized.json")),
        ]
    )
    trashed = delivery("order.deleted", load("webhook_order_deleted.json"))
    (gone,) = await plugin.marketplace_parse_webhook(trashed)
    assert (gone.kind, gone.dedupe_key) == (ChannelEventKind.ORDER_CANCELLED, "1021@deleted")
    (unread,) = await plugin.marketplace_parse_webhook(trashed)
    assert (unread.kind, unread.dedupe_key) == (ChannelEventKind.ORDER_CANCELLED, "1021@trash")
    with pytest.raises(PermanentError, match="Consumer key is invalid"):
        await plugin.marketplace_parse_webhook(trashed)
    assert route.call_count == 3


async def test_other_topics_are_ignored_with_a_key_per_body(plugin: WooCommerceMarketplace):
    product = {"id": 93, "name": "Woo Single #1", "sku": "woo-single-1"}
    (first,) = await plugin.marketplace_parse_webhook(delivery("product.updated", product))
    (again,) = await plugin.marketplace_parse_webhook(
        delivery("product.updated", product, delivery_id="another")
    )
    assert first.kind is ChannelEventKind.IGNORED and first.dedupe_key == again.dedupe_key
    assert first.dedupe_key.startswith("product.updated:")
    assert first.reason == "topic product.updated is not handled"


async def test_a_delivery_from_another_site_is_ignored_as_not_configured(
    plugin: WooCommerceMarketplace,
):
    """Signed with this shop's secret, sent by another WordPress (a staging copy, say)."""
    staging = delivery(
        "order.created", order(), **{"x-wc-webhook-source": "https://staging.example.com/"}
    )
    (event,) = await plugin.marketplace_parse_webhook(staging)
    assert event.kind is ChannelEventKind.IGNORED and event.order is None
    assert event.reason == "shop not configured: staging.example.com"
    assert event.external_id == "1021"
    # The shop's own address, in another case or without the header, is this shop.
    for headers in ({"x-wc-webhook-source": "https://SHOP.example.com/"}, {}):
        own = delivery("order.created", order(), **headers)
        if not headers:
            own = own.model_copy(
                update={"headers": {k: v for k, v in own.headers.items() if "source" not in k}}
            )
        (taken,) = await plugin.marketplace_parse_webhook(own)
        assert taken.kind is ChannelEventKind.ORDER_UPSERTED, headers


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"<html>not json</html>", {}, "not JSON"),
        (b"[1, 2]", {}, "not a JSON object"),
        (php_json({"status": "processing"}), {}, "id"),
        (php_json({"id": "#1021"}), {}, "id"),
        (b"{}", {"x-wc-webhook-topic": ""}, "X-WC-Webhook-Topic"),
        (php_json({"order": {"id": 1021}}), {}, "legacy REST API"),
    ],
)
async def test_malformed_deliveries_are_permanent_errors(
    plugin: WooCommerceMarketplace, body: bytes, headers: dict[str, str], message: str
):
    with pytest.raises(PermanentError, match=message):
        await plugin.marketplace_parse_webhook(delivery("order.created", body, **headers))


# =========================================================================== polling


async def test_fetch_walks_the_window_by_keyset(plugin: WooCommerceMarketplace, fake: FakeWoo):
    request = window(page_size=2)
    pages, token = [], None
    while True:
        page = await plugin.marketplace_fetch_orders(
            request.model_copy(update={"page_token": token})
        )
        pages.append([(e.external_id, e.kind) for e in page.events])
        token = page.next_page_token
        if token is None:
            break
    upsert, cancel, ignore = (
        ChannelEventKind.ORDER_UPSERTED,
        ChannelEventKind.ORDER_CANCELLED,
        ChannelEventKind.IGNORED,
    )
    assert pages == [
        [("1021", upsert), ("1022", upsert)],
        [("1023", cancel), ("1024", ignore)],
        [("1025", ignore), ("1026", upsert)],
    ]
    queries = [dict(r.url.params) for r in fake.requests]
    common = {
        "modified_before": "2025-10-14T16:30:16",  # ceil: 16:30:15 is inside [.., 16:30:15.5)
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": "2",
        "page": "1",
    }
    assert queries == [
        {**common, "modified_after": "2025-10-14T14:59:59"},
        # 1022 and 1023 share 15:05:41: continue at that second, without 1022.
        {**common, "modified_after": "2025-10-14T15:05:40", "exclude": "1022"},
        {**common, "modified_after": "2025-10-14T15:19:59", "exclude": "1024"},
    ]


async def test_an_order_changed_mid_walk_moves_no_other_out_of_sight(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    """With page numbers, 1021 leaving page 1 would pull 1023 onto it, and page 2 would skip it."""
    request = window(page_size=2)
    first = await plugin.marketplace_fetch_orders(request)
    fake.modify(fake.orders[1021], status="completed")  # now after the window
    seen = [e.external_id for e in first.events]
    token = first.next_page_token
    while token:
        page = await plugin.marketplace_fetch_orders(
            request.model_copy(update={"page_token": token})
        )
        seen += [e.external_id for e in page.events]
        token = page.next_page_token
    assert seen == ["1021", "1022", "1023", "1024", "1025", "1026"]


async def test_page_tokens_belong_to_their_window(plugin: WooCommerceMarketplace, fake: FakeWoo):
    first = await plugin.marketplace_fetch_orders(window(page_size=2))
    assert first.next_page_token
    other = window(page_size=2, updated_before=WINDOW[1] + timedelta(minutes=5))
    with pytest.raises(PermanentError, match="another fetch window"):
        await plugin.marketplace_fetch_orders(
            other.model_copy(update={"page_token": first.next_page_token})
        )
    with pytest.raises(PermanentError, match="not a WooCommerce page token"):
        await plugin.marketplace_fetch_orders(window(page_token="eyJwYWdlIjogMn0="))


async def test_a_shop_ignoring_exclude_stops_the_walk_instead_of_looping(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    fake.ignore_exclude = True
    for order_id in (1021, 1022):
        fake.orders[order_id]["date_modified_gmt"] = "2025-10-14T15:05:41"
    first = await plugin.marketplace_fetch_orders(window(page_size=2))
    with pytest.raises(PermanentError, match="moved the cursor nowhere"):
        await plugin.marketplace_fetch_orders(window(page_size=2, page_token=first.next_page_token))


def test_more_pages_by_header_or_by_a_full_page():
    assert has_more({"x-wp-totalpages": "3"}, 2, 2)
    assert not has_more({"x-wp-totalpages": "1"}, 2, 2)
    assert has_more({}, 2, 2) and not has_more({}, 1, 2) and not has_more({}, 0, 2)
    cursor = Cursor(datetime(2025, 10, 14, 15, 5, 41, tzinfo=UTC), ("1022",))
    assert decode_token(encode_token(cursor, *WINDOW), *WINDOW) == cursor
    assert orders_query(*WINDOW, None, 100)["modified_after"] == "2025-10-14T14:59:59"


async def test_fetch_answers_for_its_own_account_only(plugin: WooCommerceMarketplace):
    with pytest.raises(PermanentError, match=r"serves account shop\.example\.com"):
        await plugin.marketplace_fetch_orders(window(account="other.example.com"))


# =========================================================================== push-back


async def test_confirm_adds_tracking_completes_and_a_repeat_is_already_confirmed(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    receipt = await plugin.marketplace_confirm_shipment(confirmation())
    assert fake.ops() == [
        "GET /wc/v3/orders/1021",
        "GET /wc-shipment-tracking/v3/orders/1021/shipment-trackings",
        "GET /wc-shipment-tracking/v3/shipment-trackings/providers",
        "POST /wc-shipment-tracking/v3/orders/1021/shipment-trackings",
        "PUT /wc/v3/orders/1021",
    ]
    assert json.loads(fake.requests[3].content) == {
        "tracking_provider": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "date_shipped": "2025-10-15",
    }
    update = json.loads(fake.requests[4].content)
    assert update["status"] == "completed"
    (meta,) = update["meta_data"]
    assert meta["key"] == "_hub_shipments" and json.loads(meta["value"]) == {
        "shp-1021-1": {"lines": {"315": 2, "316": 1}, "tracking_id": receipt.channel_reference}
    }
    assert receipt.channel_reference == load("shipment_tracking_created.json")["tracking_id"]
    assert not receipt.already_confirmed and fake.orders[1021]["status"] == "completed"

    fake.requests.clear()
    again = await plugin.marketplace_confirm_shipment(confirmation())
    assert again.already_confirmed and again.channel_reference == receipt.channel_reference
    assert fake.ops() == [
        "GET /wc/v3/orders/1021",
        "GET /wc-shipment-tracking/v3/orders/1021/shipment-trackings",
    ]


async def test_a_split_order_completes_with_its_last_shipment(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    first = await plugin.marketplace_confirm_shipment(
        confirmation(("315", "woo-single-1", 2), shipment_id="shp-1021-1")
    )
    assert fake.orders[1021]["status"] == "processing"  # no "order complete" mail yet
    second = await plugin.marketplace_confirm_shipment(
        confirmation(("316", "Bar3", 1), shipment_id="shp-1021-2", tracking="1Z999AA10123456795")
    )
    assert fake.orders[1021]["status"] == "completed"
    assert first.channel_reference != second.channel_reference
    assert len(fake.trackings[1021]) == 2
    assert fake.ops().count("GET /wc-shipment-tracking/v3/shipment-trackings/providers") == 1


async def test_a_lost_answer_is_retried_without_a_second_tracking_item(
    plugin: WooCommerceMarketplace, fake: FakeWoo
):
    fake.lose_create_answer = True
    with pytest.raises(TransientError, match="ReadTimeout"):
        await plugin.marketplace_confirm_shipment(confirmation())
    retried = await plugin.marketplace_confirm_shipment(confirmation())
    assert len(fake.trackings[1021]) == 1
    assert retried.channel_reference == fake.trackings[1021][0]["tracking_id"]
    assert not retried.already_confirmed and fake.orders[1021]["status"] == "completed"


async def test_carriers_the_store_does_not_list_go_as_custom_providers(
    tmp_path: Path, fake: FakeWoo
):
    shop = WooCommerceMarketplace(
        make_settings(tracking_providers={"ups": "UPS Freight"}), PluginRuntime(tmp_path, tmp_path)
    )
    try:
        await shop.marketplace_confirm_shipment(confirmation())
        await shop.marketplace_confirm_shipment(
            confirmation(
                shipment_id="shp-1021-2",
                tracking="00340434161094000018",
                carrier="postnord",
                carrier_name="PostNord MyPack Home",
            )
        )
    finally:
        await shop.aclose()
    creates = [json.loads(r.content) for r in fake.requests if r.method == "POST"]
    assert creates[0]["tracking_provider"] == "UPS Freight"
    assert creates[1] == {
        "custom_tracking_provider": "PostNord MyPack Home",
        "custom_tracking_link": "https://www.ups.com/track?loc=en_US&tracknum=00340434161094000018",
        "tracking_number": "00340434161094000018",
        "date_shipped": "2025-10-15",
    }


@pytest.mark.parametrize("status", ["cancelled", "refunded", "trash"])
async def test_a_cancelled_order_is_not_shipped_against(
    plugin: WooCommerceMarketplace, fake: FakeWoo, status: str
):
    fake.orders[1021]["status"] = status
    with pytest.raises(PermanentError, match=f"is {status} on WooCommerce"):
        await plugin.marketplace_confirm_shipment(confirmation())
    assert fake.ops() == ["GET /wc/v3/orders/1021"]


async def test_confirm_refusals_name_the_reason(plugin: WooCommerceMarketplace, fake: FakeWoo):
    with pytest.raises(PermanentError, match=r"line\(s\) 999 are not on WooCommerce order 1021"):
        await plugin.marketplace_confirm_shipment(confirmation(("999", "ghost", 1)))
    unknown = confirmation().model_copy(update={"external_id": "4040"})
    with pytest.raises(PermanentError, match="Invalid ID"):
        await plugin.marketplace_confirm_shipment(unknown)
    fake.tracking_extension = False
    with pytest.raises(PermanentError, match="Shipment Tracking extension"):
        await plugin.marketplace_confirm_shipment(confirmation())
    assert not any(r.method in {"POST", "PUT"} for r in fake.requests)


# =========================================================================== errors, limits


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(400, json=load("error_invalid_param.json")),
            PermanentError,
            "modified_after",
        ),
        (httpx.Response(401, json=load("error_unauthorized.json")), PermanentError, "Consumer key"),
        (httpx.Response(404, json=load("error_no_route.json")), PermanentError, "rest_no_route"),
        (
            httpx.Response(
                500, json={"code": "internal_server_error", "message": "Critical error"}
            ),
            TransientError,
            "Critical error",
        ),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), TransientError, "502"),
        (
            httpx.Response(200, text="<!DOCTYPE html><title>Just a moment...</title>"),
            TransientError,
            "not JSON",
        ),
    ],
)
async def test_errors_map_to_hub_errors(
    plugin: WooCommerceMarketplace,
    respx_mock: respx.MockRouter,
    response: httpx.Response,
    error: type[Exception],
    message: str,
):
    route = respx_mock.get(f"{STORE}/wp-json/wc/v3/orders").mock(return_value=response)
    with pytest.raises(error, match=message):
        await plugin.marketplace_fetch_orders(window())
    assert route.call_count == 1  # Basic auth has no token to refresh: a 401 is final


class RecordingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__({"*": (1000.0, 1000.0)})
        self.drained: list[str] = []

    def drain(self, account: str, operation: str) -> None:
        self.drained.append(operation)
        super().drain(account, operation)


async def test_429_is_transient_with_retry_after_and_empties_the_bucket(
    plugin: WooCommerceMarketplace, respx_mock: respx.MockRouter
):
    limiter = plugin.client.limiter = RecordingLimiter()
    respx_mock.get(f"{STORE}/wp-json/wc/v3/orders").respond(
        429,
        headers={"Retry-After": "7"},
        json={"code": "too_many_requests", "message": "Rate limit exceeded."},
    )
    with pytest.raises(TransientError, match="Rate limit exceeded") as info:
        await plugin.marketplace_fetch_orders(window())
    assert info.value.retry_after == 7.0 and limiter.drained == ["orders"]


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow")])
async def test_timeouts_are_transient(
    plugin: WooCommerceMarketplace, respx_mock: respx.MockRouter, failure: Exception
):
    respx_mock.get(f"{STORE}/wp-json/wc/v3/orders").mock(side_effect=failure)
    with pytest.raises(TransientError, match=type(failure).__name__):
        await plugin.marketplace_fetch_orders(window())


async def test_logs_carry_ids_not_personal_data(
    plugin: WooCommerceMarketplace, fake: FakeWoo, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await plugin.marketplace_parse_webhook(ping())
    await plugin.marketplace_parse_webhook(delivery("order.created", order()))
    await plugin.marketplace_fetch_orders(window())
    await plugin.marketplace_confirm_shipment(confirmation())
    for personal in ("Doe", "john.doe@", "Market", "Infinite Loop", "555", "ck_", "cs_"):
        assert personal not in caplog.text


# =========================================================================== through the hub


async def test_the_hub_calls_it_through_pluggy(plugin: WooCommerceMarketplace, fake: FakeWoo):
    host = host_for(plugin)
    webhook = delivery("order.created", order())
    assert await host.verify_webhook("woocommerce", webhook)
    (event,) = await host.parse_webhook("woocommerce", webhook)
    assert event.order is not None and event.order.key == "woocommerce:1021"
    page = await host.fetch_orders("woocommerce", window())
    assert [e.external_id for e in page.events] == ["1021", "1022", "1023", "1024", "1025", "1026"]
    receipt = await host.confirm_shipment(confirmation())
    assert receipt.channel_reference == fake.trackings[1021][0]["tracking_id"]


class TestWooCommerceContract(MarketplaceContract):
    @pytest.fixture
    async def plugin(self, fake: FakeWoo, tmp_path: Path) -> AsyncIterator[WooCommerceMarketplace]:
        built = WooCommerceMarketplace(SETTINGS, PluginRuntime(tmp_path, tmp_path))
        yield built
        await built.aclose()

    @pytest.fixture
    def fetch_request(self) -> FetchRequest:
        return window(page_size=2)

    @pytest.fixture
    def webhook(self) -> WebhookRequest:
        return delivery("order.created", order())

    @pytest.fixture
    def confirmation(self, fake: FakeWoo) -> ShipmentConfirmation:
        return confirmation()


# =========================================================================== properties


SAMPLES = [load("order_processing.json"), order(1022), order(1026), load("order_docs_example.json")]
ORDERS = st.one_of(
    st.sampled_from(SAMPLES).flatmap(mutated),
    st.dictionaries(st.text(max_size=12), JSON),
)
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(ORDERS)
def test_mapping_gives_an_order_or_names_the_field(payload: Any):
    try:
        result = order_from_wc(payload, SETTINGS)
    except MappingError as exc:
        assert exc.problem.field and exc.problem.message
        return
    assert result is None or isinstance(result, Order)


@PROPERTY
@given(ORDERS)
def test_order_events_are_events_or_say_the_id_is_missing(payload: Any):
    try:
        event = order_event(payload, SETTINGS, fallback_time=RECEIVED)
    except PermanentError as exc:
        assert str(exc).startswith("id:")
        return
    assert event.external_id and event.dedupe_key.startswith(f"{event.external_id}@")
    if event.kind is ChannelEventKind.ORDER_UPSERTED:
        assert (event.order is None) != (event.problem is None)


TOPICS = st.sampled_from(
    ["order.created", "order.updated", "order.restored", "product.updated", "coupon.deleted", ""]
)
BODIES = st.one_of(
    ORDERS.map(php_json),
    st.binary(max_size=64),
    st.sampled_from([b"webhook_id=17", b"webhook_id=", b"{}", b"null"]),
)


@PROPERTY
@given(TOPICS, BODIES, st.sampled_from(["application/json", "application/x-www-form-urlencoded"]))
async def test_any_delivery_parses_or_is_refused_clearly(
    plugin: WooCommerceMarketplace, topic: str, body: bytes, content_type: str
):
    request = delivery(topic, body, **{"content-type": content_type})
    if not topic:
        request = ping(body)  # no webhook headers at all
    try:
        events = await plugin.marketplace_parse_webhook(request)
    except PermanentError as exc:
        assert str(exc)
        return
    assert all(e.marketplace == "woocommerce" and e.dedupe_key for e in events)


@PROPERTY
@given(
    st.binary(max_size=64),
    st.dictionaries(
        st.sampled_from(["content-type", "x-wc-webhook-signature", "x-wc-webhook-id"]),
        st.text(max_size=40),
    ),
)
async def test_verification_never_raises_and_passes_only_pings_and_signed_bodies(
    plugin: WooCommerceMarketplace, body: bytes, headers: dict[str, str]
):
    request = WebhookRequest(plugin="woocommerce", headers=headers, body=body, received_at=RECEIVED)
    if plugin.marketplace_verify_webhook(request):
        signed = headers.get("x-wc-webhook-signature") == sign(WEBHOOK_SECRET, body)
        pinged = re.fullmatch(rb"\s*webhook_id=[0-9]+\s*", body) is not None
        assert signed or pinged


@PROPERTY
@given(st.text(max_size=80))
def test_any_page_token_decodes_or_is_refused(token: str):
    try:
        cursor = decode_token(token, *WINDOW)
    except PermanentError:
        return
    assert decode_token(encode_token(cursor, *WINDOW), *WINDOW) == cursor

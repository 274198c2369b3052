"""The eBay channel: pure mapping over payloads in the Fulfillment API contract's shapes, then the
plugin against a respx-mocked eBay (a small stateful fake that keeps shipping fulfillments)."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote

import httpx
import pluggy
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.messages import (
    ChannelEvent,
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
from plugins.marketplaces.ebay import EbayMarketplace, EbaySettings
from plugins.marketplaces.ebay.events import PENDING_CANCEL_REQUEST, order_event
from plugins.marketplaces.ebay.fulfillment import read_fulfillments
from plugins.marketplaces.ebay.mapping import (
    MappingError,
    order_from_ebay,
    parse_order,
    service_level,
)
from plugins.marketplaces.ebay.paging import Cursor, decode_token, read_page, resumed
from tests.contract.marketplace import MarketplaceContract
from tests.contract.payloads import JSON, mutated

FIXTURES = Path(__file__).parent / "fixtures" / "ebay"
API = "https://api.ebay.com"
TOKEN_URL = f"{API}/identity/v1/oauth2/token"
ORDERS = "/sell/fulfillment/v1/order"
CLIENT_ID = "HubTest-fulfilme-PRD-a1b2c3d4e-5f6a7b8c"
CLIENT_SECRET = "PRD-1b2c3d4e5f6a-7b8c-9d0e-1f2a-3b4c"
REFRESH_TOKEN = "v^1.1#i^1#r^1#f^0#p^3#I^3#t^fixture-refresh-token"
NOW = datetime(2025, 3, 11, 0, 0, tzinfo=UTC)
WINDOW = FetchRequest(
    updated_after=datetime(2025, 3, 10, tzinfo=UTC),
    updated_before=datetime(2025, 3, 11, tzinfo=UTC),
)
A, B, C, D = "12-34567-89012", "12-34567-89013", "12-34567-89014", "12-34567-89015"
MUG, TEA = "10045678901234", "10045678905678"
TRACKING = "9400111899223197428490"

pytestmark = pytest.mark.respx(assert_all_called=False)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def order_a() -> dict[str, Any]:
    order: dict[str, Any] = load("get_orders_page1.json")["orders"][0]
    return order


def make_settings(**overrides: Any) -> EbaySettings:
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        **overrides,
    }
    return EbaySettings.model_validate(values)


SETTINGS = make_settings()


def confirmation(
    *lines: tuple[str, str, int], tracking: str = TRACKING, carrier: str = "usps"
) -> ShipmentConfirmation:
    lines = lines or ((MUG, "MUG-CER-12OZ-BLU", 2), (TEA, "TEA-TIN-ASSAM-100G", 1))
    return ShipmentConfirmation(
        marketplace="ebay",
        account="default",
        external_id=A,
        shipment_id=f"shp-{A}-1",
        carrier=carrier,
        carrier_name="USPS Priority Mail",
        service_code="PRIORITY_MAIL",
        tracking_number=tracking,
        shipped_at=datetime(2025, 3, 11, 16, 5, tzinfo=UTC),
        lines=tuple(ShipmentLine(line_id=i, sku=s, quantity=q) for i, s, q in lines),
    )


class FakeEbay:
    """api.ebay.com for one seller: OAuth, getOrders pages by offset, getOrder, and shipping
    fulfillments remembered between calls as eBay does."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.pages = {0: load("get_orders_page1.json"), 2: load("get_orders_page2.json")}
        self.orders = {C: load("get_order_cancel_requested.json")}
        self.fulfillments: dict[str, list[dict[str, Any]]] = {}
        self.tokens_issued = 0
        self.queued: list[httpx.Response | Exception] = []
        """Answers (or transport failures) for API calls, not token calls, before the fake's own."""
        self.location = True
        self.lose_create_answer = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        if path == "/identity/v1/oauth2/token":
            self.tokens_issued += 1
            token = f"v^1.1#i^1#p^3#r^1#I^3#f^0#t^fixture-user-access-token-{self.tokens_issued}"
            return httpx.Response(200, json={**load("oauth_token.json"), "access_token": token})
        if self.queued:
            answer = self.queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if path == ORDERS:
            return httpx.Response(200, json=self.pages[int(request.url.params["offset"])])
        match = re.fullmatch(rf"{ORDERS}/([^/]+)(/shipping_fulfillment)?", path)
        assert match, path
        order_id = unquote(match.group(1))
        if match.group(2) is None:
            return httpx.Response(200, json=self.orders[order_id])
        known = self.fulfillments.setdefault(order_id, [])
        if request.method == "GET":
            return httpx.Response(200, json={"fulfillments": known, "total": len(known)})
        body = json.loads(request.content)
        known.append(
            {
                "fulfillmentId": body["trackingNumber"],
                "shipmentTrackingNumber": body["trackingNumber"],
                "shippedDate": body["shippedDate"],
                "shippingCarrierCode": body["shippingCarrierCode"],
                "lineItems": body["lineItems"],
            }
        )
        if self.lose_create_answer:
            self.lose_create_answer = False
            raise httpx.ReadTimeout("eBay recorded it, but its answer never arrived")
        location = f"{API}{ORDERS}/{order_id}/shipping_fulfillment/{body['trackingNumber']}"
        return httpx.Response(201, headers={"Location": location} if self.location else {})

    def api_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.path != "/identity/v1/oauth2/token"]

    def token_calls(self) -> list[httpx.Request]:
        return [c for c in self.calls if c.url.path == "/identity/v1/oauth2/token"]


def build(tmp_path: Path, ebay_settings: EbaySettings = SETTINGS) -> EbayMarketplace:
    return EbayMarketplace(
        ebay_settings,
        PluginRuntime(data_dir=tmp_path, config_dir=tmp_path),
        clock=lambda: NOW,
        limiter=RateLimiter({"*": (1000.0, 1000.0)}),
    )


@pytest.fixture
async def plugin(tmp_path: Path) -> AsyncIterator[EbayMarketplace]:
    built = build(tmp_path)
    yield built
    await built.aclose()


@pytest.fixture
def fake(respx_mock: respx.MockRouter) -> FakeEbay:
    server = FakeEbay()
    respx_mock.route(host="api.ebay.com").mock(side_effect=server)
    return server


# =========================================================================== settings


def test_settings_default_to_production_and_hide_secrets():
    assert SETTINGS.api_base_url == "https://api.ebay.com"
    assert SETTINGS.token_url == TOKEN_URL
    assert SETTINGS.scopes == ("https://api.ebay.com/oauth/api_scope/sell.fulfillment",)
    sandbox = make_settings(api_base_url="https://api.sandbox.ebay.com/")
    assert sandbox.token_url == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"
    assert CLIENT_SECRET not in repr(SETTINGS) and REFRESH_TOKEN not in repr(SETTINGS)
    with pytest.raises(ValidationError, match="extra"):
        make_settings(api_key="nope")
    with pytest.raises(ValidationError, match="https"):
        make_settings(api_base_url="http://api.ebay.com")
    with pytest.raises(ValidationError, match="empty"):
        make_settings(refresh_token=" ")
    with pytest.raises(ValidationError, match="standard, express or economy"):
        make_settings(service_levels={"USPSPriority": "fast"})


# =========================================================================== mapping


def test_a_paid_order_maps_every_field():
    order = order_from_ebay(parse_order(order_a()), SETTINGS)
    assert order.key == f"ebay:{A}"
    assert order.placed_at == datetime(2025, 3, 10, 14, 22, 31, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 3, 10, 14, 25, 2, 118000, tzinfo=UTC)
    assert order.currency == "USD"
    assert [
        (line.line_id, line.sku, line.quantity, line.unit_price.amount) for line in order.lines
    ] == [
        (MUG, "MUG-CER-12OZ-BLU", 2, Decimal("14.99")),
        (TEA, "TEA-TIN-ASSAM-100G", 1, Decimal("54.99")),
    ]
    assert order.lines[0].title == "Ceramic Coffee Mug 12 oz, Blue"
    assert order.total.amount == Decimal("84.97")  # lineItemCost, before the $5 promotion
    address = order.shipping_address
    assert (address.name, address.line1, address.line2, address.city) == (
        "Jane Sample",
        "2145 Hamilton Ave",
        "Apt 4B",
        "San Jose",
    )
    assert (address.region, address.postal_code, address.country) == ("CA", "95125", "US")
    assert order.customer.email == "5f3c9a0d1b2e4f6a7c8d@members.ebay.com"
    assert order.customer.phone == "4085550123"
    assert order.payment_status is PaymentStatus.PAID
    assert order.service_level == "express"  # USPSPriority: eBay's expedited category
    assert order.ship_by == datetime(2025, 3, 12, 6, 59, 59, tzinfo=UTC)  # earliest line
    assert order.deliver_by == datetime(2025, 3, 17, 7, 0, tzinfo=UTC)
    assert order.shipping_paid is not None
    assert order.shipping_paid.amount == Decimal("7.45")  # 9.45 less the 2.00 discount
    assert not order.is_gift and not order.is_presale and order.tags == ()


def test_international_shipping_goes_to_ebays_hub_with_the_reference_on_the_label():
    order = order_from_ebay(parse_order(load("get_order_international.json")), SETTINGS)
    address = order.shipping_address
    assert address.company == "eBay International Shipping, Reference #5000098765432101"
    assert (address.city, address.region, address.country) == ("Erlanger", "KY", "US")
    assert "ebay_international_shipping" in order.tags


@pytest.mark.parametrize(
    ("status", "payments", "expected"),
    [
        ("PAID", ["PAID"], PaymentStatus.PAID),
        ("PENDING", ["PENDING"], PaymentStatus.PENDING),
        ("PARTIALLY_REFUNDED", ["PAID"], PaymentStatus.PARTIALLY_REFUNDED),
        ("FULLY_REFUNDED", ["PAID"], PaymentStatus.REFUNDED),
        ("FAILED", ["PAID"], PaymentStatus.PAID),  # a refund failed: the money is in
        ("FAILED", ["FAILED"], PaymentStatus.PENDING),  # nothing collected: hold
    ],
)
def test_payment_status(status: str, payments: list[str], expected: PaymentStatus):
    raw = order_a()
    raw["orderPaymentStatus"] = status
    raw["paymentSummary"]["payments"] = [{"paymentStatus": p} for p in payments]
    assert order_from_ebay(parse_order(raw), SETTINGS).payment_status is expected


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("USPSPriority", "express"),
        ("UPSNextDayAir", "express"),
        ("UK_RoyalMailSpecialDeliveryNextDay", "express"),
        ("UPSGround", "standard"),
        ("DE_DHLPaket", "standard"),
        ("USPSMedia", "economy"),
        ("EconomyShippingFromOutsideUS", "economy"),
        ("UPS3rdDay", "express"),
        (None, "standard"),
        ("usps_ground_advantage_custom", "economy"),  # from settings.service_levels
    ],
)
def test_service_levels(code: str | None, level: str):
    configured = make_settings(service_levels={"USPS_Ground_Advantage_Custom": "economy"})
    assert service_level(code, configured) == level


def test_a_price_that_does_not_divide_keeps_four_places():
    raw = order_a()
    raw["lineItems"][0]["quantity"] = 3
    raw["lineItems"][0]["lineItemCost"]["value"] = "10.00"
    assert order_from_ebay(parse_order(raw), SETTINGS).lines[0].unit_price.amount == Decimal(
        "3.3333"
    )


def test_an_old_order_without_names_still_maps_for_the_hub_to_hold():
    raw = order_a()
    ship_to = raw["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]
    del ship_to["fullName"], ship_to["contactAddress"]["addressLine1"], ship_to["email"]
    del raw["buyer"]["buyerRegistrationAddress"]
    order = order_from_ebay(parse_order(raw), SETTINGS)
    assert order.shipping_address.line1 == "" and order.shipping_address.name == ""
    assert order.customer.name == "pine_cone_78"  # the buyer's eBay user id


def test_gift_card_lines_are_left_out():
    raw = order_a()
    raw["lineItems"][1]["giftDetails"] = {"message": "Happy birthday", "senderName": "J"}
    order = order_from_ebay(parse_order(raw), SETTINGS)
    assert [line.line_id for line in order.lines] == [MUG]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda o: o["lineItems"][0].pop("sku"), "lineItems[0].sku"),
        (lambda o: o["lineItems"][1].pop("lineItemCost"), "lineItems[1].lineItemCost"),
        (
            lambda o: o["lineItems"][1]["lineItemCost"].update(currency="EUR"),
            "lineItems[].lineItemCost.currency",
        ),
        (
            lambda o: o["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"][
                "contactAddress"
            ].update(countryCode="XX"),
            "fulfillmentStartInstructions[0].shippingStep.shipTo.contactAddress.countryCode",
        ),
        (
            lambda o: o.update(fulfillmentStartInstructions=[]),
            "fulfillmentStartInstructions[0].shippingStep.shipTo",
        ),
        (lambda o: o.update(orderPaymentStatus="SETTLED"), "orderPaymentStatus"),
        (lambda o: o.pop("creationDate"), "creationDate"),
        (lambda o: o["lineItems"][0].update(quantity="two"), "lineItems[0].quantity"),
    ],
)
def test_unmappable_orders_name_the_ebay_field(change: Callable[[Any], Any], field: str):
    raw = order_a()
    change(raw)
    event = order_event(raw, SETTINGS)
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem is not None and event.problem.field == field


@pytest.mark.parametrize(
    ("instruction_type", "why"),
    [
        ("DIGITAL", "digitally"),
        ("PREPARE_FOR_PICKUP", "pickup"),
        ("FULFILLED_BY_EBAY", "eBay ships it"),
    ],
)
def test_orders_the_seller_does_not_ship_are_ignored(instruction_type: str, why: str):
    raw = order_a()
    raw["fulfillmentStartInstructions"][0]["fulfillmentInstructionsType"] = instruction_type
    event = order_event(raw, SETTINGS)
    assert event.kind is ChannelEventKind.IGNORED and why in (event.reason or "")


# =========================================================================== events


def test_an_order_version_has_one_stable_dedupe_key():
    first, again = order_event(order_a(), SETTINGS), order_event(order_a(), SETTINGS)
    assert first.dedupe_key == again.dedupe_key == f"{A}@2025-03-10T14:25:02.118Z"
    changed = order_a()
    changed["lastModifiedDate"] = "2025-03-10T16:00:00.000Z"
    assert order_event(changed, SETTINGS).dedupe_key == f"{A}@2025-03-10T16:00:00.000Z"


def test_a_cancelled_order_is_a_cancellation():
    cancelled = load("get_orders_page1.json")["orders"][1]
    event = order_event(cancelled, SETTINGS)
    assert event.kind is ChannelEventKind.ORDER_CANCELLED
    assert event.dedupe_key == f"{B}@2025-03-10T18:40:57.304Z/cancelled"
    assert event.reason == "cancelled on eBay"


def test_cancel_requests_pending_and_accepted():
    pending = order_event(load("get_order_cancel_requested.json"), SETTINGS)
    assert pending.kind is ChannelEventKind.ORDER_UPSERTED and pending.order is not None
    assert pending.reason == PENDING_CANCEL_REQUEST
    accepted = order_event(load("get_order_cancel_completed.json"), SETTINGS)
    assert accepted.kind is ChannelEventKind.ORDER_CANCELLED
    assert accepted.reason == "cancelled on eBay (ORDERED_BY_MISTAKE, requested by Buyer)"
    assert accepted.dedupe_key == f"{C}@2025-03-10T22:15:44.301Z/cancelled"


@pytest.mark.parametrize(
    ("field", "value"),
    [("orderId", None), ("orderId", "12 345"), ("lastModifiedDate", "yesterday")],
)
def test_an_order_without_id_or_version_is_malformed(field: str, value: Any):
    raw = order_a()
    raw[field] = value
    with pytest.raises(PermanentError, match=field):
        order_event(raw, SETTINGS)


# =========================================================================== paging (pure)


def test_page_tokens_and_resuming_after_orders_left_the_window():
    assert decode_token(None) == Cursor()
    assert decode_token("200:513") == Cursor(offset=200, total=513)
    with pytest.raises(PermanentError, match="page_token"):
        decode_token("https://api.ebay.com/sell/fulfillment/v1/order?offset=200")
    assert resumed(Cursor(200, 513), 510) == Cursor(197, 510)
    assert resumed(Cursor(200, 513), 513) is None
    assert resumed(Cursor(200, 513), 600) is None  # grown: later orders only move down
    assert resumed(Cursor(0, None), 10) is None


# =========================================================================== fetching


async def test_fetch_pages_the_window_and_reads_cancel_requests(
    plugin: EbayMarketplace, fake: FakeEbay
):
    first = await plugin.marketplace_fetch_orders(WINDOW)
    assert first.next_page_token == "2:4"
    second = await plugin.marketplace_fetch_orders(
        WINDOW.model_copy(update={"page_token": first.next_page_token})
    )
    assert second.next_page_token is None
    events = [*first.events, *second.events]
    assert [(e.external_id, e.kind) for e in events] == [
        (A, ChannelEventKind.ORDER_UPSERTED),
        (B, ChannelEventKind.ORDER_CANCELLED),
        (C, ChannelEventKind.ORDER_UPSERTED),
        (D, ChannelEventKind.ORDER_UPSERTED),
    ]
    assert events[2].reason == PENDING_CANCEL_REQUEST
    assert events[3].problem is not None and events[3].problem.field == "lineItems[0].sku"

    calls = fake.api_calls()
    assert [(c.method, c.url.path) for c in calls] == [
        ("GET", ORDERS),
        ("GET", ORDERS),
        ("GET", f"{ORDERS}/{C}"),  # only the order whose cancellation is in progress
    ]
    query = parse_qs(calls[0].url.query.decode())
    assert query == {
        "filter": ["lastmodifieddate:[2025-03-10T00:00:00.000Z..2025-03-10T23:59:59.999Z]"],
        "limit": ["50"],
        "offset": ["0"],
    }
    assert "%5B" in str(calls[0].url) and "%5D" in str(calls[0].url)  # brackets encoded
    assert parse_qs(calls[1].url.query.decode())["offset"] == ["2"]
    assert {c.headers["authorization"] for c in calls} == {
        "Bearer v^1.1#i^1#p^3#r^1#I^3#f^0#t^fixture-user-access-token-1"
    }


async def test_an_accepted_cancel_request_found_through_get_order_cancels(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.orders[C] = load("get_order_cancel_completed.json")
    page = await plugin.marketplace_fetch_orders(WINDOW.model_copy(update={"page_token": "2:4"}))
    assert [(e.external_id, e.kind) for e in page.events] == [
        (C, ChannelEventKind.ORDER_CANCELLED),
        (D, ChannelEventKind.ORDER_UPSERTED),
    ]


def test_a_naive_window_is_refused_before_it_reaches_ebay():
    # The hub's FetchRequest requires aware bounds: a naive one would mean another window
    # on every server time zone.
    with pytest.raises(ValidationError, match="timezone"):
        FetchRequest(updated_after=datetime(2025, 3, 10), updated_before=datetime(2025, 3, 11))


async def test_the_refresh_token_grant_is_sent_as_documented_and_cached(
    plugin: EbayMarketplace, fake: FakeEbay
):
    await plugin.marketplace_fetch_orders(WINDOW)
    await plugin.marketplace_fetch_orders(WINDOW)
    (token_call,) = fake.token_calls()
    assert token_call.url == TOKEN_URL
    scheme, credentials = token_call.headers["authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_call.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "scope": ["https://api.ebay.com/oauth/api_scope/sell.fulfillment"],
    }


async def test_an_expired_token_is_refreshed_once_and_the_call_retried(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.queued = [httpx.Response(401, json=load("error_401_invalid_token.json"))]
    page = await plugin.marketplace_fetch_orders(WINDOW)
    assert len(page.events) == 2
    assert len(fake.token_calls()) == 2
    used = [c.headers["authorization"][-1] for c in fake.api_calls()]
    assert used == ["1", "2"]


async def test_a_token_refused_twice_is_permanent(plugin: EbayMarketplace, fake: FakeEbay):
    refused = httpx.Response(401, json=load("error_401_invalid_token.json"))
    fake.queued = [refused, refused]
    with pytest.raises(PermanentError, match=r"Invalid access token .*errorId 1001"):
        await plugin.marketplace_fetch_orders(WINDOW)
    assert len(fake.token_calls()) == 2


async def test_a_revoked_refresh_token_is_permanent_and_secrets_stay_out(
    plugin: EbayMarketplace, respx_mock: respx.MockRouter
):
    respx_mock.post(TOKEN_URL).respond(400, json=load("oauth_invalid_grant.json"))
    with pytest.raises(PermanentError, match="refresh token is invalid") as info:
        await plugin.marketplace_fetch_orders(WINDOW)
    assert REFRESH_TOKEN not in str(info.value) and CLIENT_SECRET not in str(info.value)


async def test_429_is_transient_with_retry_after_and_empties_the_bucket(
    tmp_path: Path, fake: FakeEbay
):
    class Recording(RateLimiter):
        drained: ClassVar[list[str]] = []

        def drain(self, account: str, operation: str) -> None:
            self.drained.append(operation)
            super().drain(account, operation)

    limiter = Recording({"*": (1000.0, 1000.0)})
    built = EbayMarketplace(
        SETTINGS, PluginRuntime(tmp_path, tmp_path), clock=lambda: NOW, limiter=limiter
    )
    fake.queued = [
        httpx.Response(429, headers={"Retry-After": "30"}, json=load("error_429_call_limit.json"))
    ]
    try:
        with pytest.raises(TransientError, match="request limit has been reached") as info:
            await built.marketplace_fetch_orders(WINDOW)
    finally:
        await built.aclose()
    assert info.value.retry_after == 30.0
    assert limiter.drained == ["getOrders"]


async def test_the_call_limit_error_is_transient_whatever_its_status(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.queued = [httpx.Response(403, json=load("error_429_call_limit.json"))]
    with pytest.raises(TransientError, match="Too many requests") as info:
        await plugin.marketplace_fetch_orders(WINDOW)
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(500, json=load("error_500_system.json")), TransientError, "System error"),
        (httpx.Response(503, text="Service Unavailable"), TransientError, "503"),
        (
            httpx.Response(400, json=load("error_400_future_dates.json")),
            PermanentError,
            r"Start and end dates can't be in the future \[errorId 30850\]",
        ),
        (
            httpx.Response(403, json={"errors": [{"errorId": 1100, "message": "Access denied"}]}),
            PermanentError,
            "Access denied",
        ),
        (httpx.Response(200, text="<html>maintenance</html>"), TransientError, "not JSON"),
        (httpx.Response(200, json=["not", "an", "object"]), PermanentError, "not a JSON object"),
    ],
)
async def test_errors_map_to_hub_errors(
    plugin: EbayMarketplace,
    fake: FakeEbay,
    response: httpx.Response,
    error: type[Exception],
    message: str,
):
    fake.queued = [response]
    with pytest.raises(error, match=message):
        await plugin.marketplace_fetch_orders(WINDOW)


@pytest.mark.parametrize(
    ("failure", "message"),
    [(httpx.ConnectTimeout("slow"), "could not connect"), (httpx.ReadTimeout("slow"), "Read")],
)
async def test_timeouts_while_reading_are_transient(
    plugin: EbayMarketplace, fake: FakeEbay, failure: Exception, message: str
):
    fake.queued = [failure]
    with pytest.raises(TransientError, match=message):
        await plugin.marketplace_fetch_orders(WINDOW)


async def test_paging_backs_up_when_orders_left_the_window(plugin: EbayMarketplace, fake: FakeEbay):
    shrunk = load("get_orders_page2.json")
    shrunk["total"] = 3
    fake.queued = [httpx.Response(200, json=shrunk)]
    fake.pages[1] = load("get_orders_page2.json")
    page = await plugin.marketplace_fetch_orders(WINDOW.model_copy(update={"page_token": "2:4"}))
    offsets = [c.url.params["offset"] for c in fake.api_calls() if c.url.path == ORDERS]
    assert offsets == ["2", "1"]
    assert [e.external_id for e in page.events] == [C, D]


async def test_a_window_that_has_not_begun_asks_nothing(plugin: EbayMarketplace, fake: FakeEbay):
    future = FetchRequest(
        updated_after=NOW + timedelta(minutes=5), updated_before=NOW + timedelta(hours=1)
    )
    assert (await plugin.marketplace_fetch_orders(future)).events == ()
    assert fake.calls == []
    # A window reaching past now ends at now: eBay refuses future dates (error 30850).
    await plugin.marketplace_fetch_orders(
        FetchRequest(
            updated_after=NOW - timedelta(hours=1), updated_before=NOW + timedelta(hours=1)
        )
    )
    window = parse_qs(fake.api_calls()[0].url.query.decode())["filter"][0]
    assert window.endswith("..2025-03-10T23:59:59.999Z]")


async def test_an_empty_window_is_one_empty_page(plugin: EbayMarketplace, fake: FakeEbay):
    fake.pages[0] = load("get_orders_empty.json")
    page = await plugin.marketplace_fetch_orders(WINDOW)
    assert page.events == () and page.next_page_token is None


async def test_another_account_is_refused(plugin: EbayMarketplace, fake: FakeEbay):
    with pytest.raises(PermanentError, match="serves account"):
        await plugin.marketplace_fetch_orders(WINDOW.model_copy(update={"account": "other"}))
    assert fake.calls == []


# =========================================================================== confirming


async def test_confirm_creates_one_fulfillment_per_package_then_finds_it(
    plugin: EbayMarketplace, fake: FakeEbay
):
    receipt = await plugin.marketplace_confirm_shipment(confirmation())
    assert receipt.channel_reference == f"{A}/shipping_fulfillment/{TRACKING}"
    assert not receipt.already_confirmed
    posts = [c for c in fake.api_calls() if c.method == "POST"]
    assert len(posts) == 1
    assert posts[0].url.path == f"{ORDERS}/{A}/shipping_fulfillment"
    assert json.loads(posts[0].content) == load("create_shipping_fulfillment_request.json")
    again = await plugin.marketplace_confirm_shipment(confirmation())
    assert again.already_confirmed and again.channel_reference == receipt.channel_reference
    assert len([c for c in fake.api_calls() if c.method == "POST"]) == 1


async def test_a_printed_tracking_number_is_sent_bare_and_found_again(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.fulfillments[A] = load("shipping_fulfillments_one.json")["fulfillments"]
    receipt = await plugin.marketplace_confirm_shipment(
        confirmation(tracking="9400 1118 9922 3197 4284 90")
    )
    assert receipt.already_confirmed
    assert not [c for c in fake.api_calls() if c.method == "POST"]


async def test_a_line_listed_twice_is_sent_once(plugin: EbayMarketplace, fake: FakeEbay):
    await plugin.marketplace_confirm_shipment(
        confirmation((MUG, "MUG-CER-12OZ-BLU", 1), (MUG, "MUG-CER-12OZ-BLU", 1))
    )
    (post,) = [c for c in fake.api_calls() if c.method == "POST"]
    assert json.loads(post.content)["lineItems"] == [{"lineItemId": MUG, "quantity": 2}]


@pytest.mark.parametrize(
    ("shipment", "message"),
    [
        (confirmation(carrier="royal_parcel_co"), "carrier_codes"),
        (confirmation(tracking="1Z/999"), "letters and digits"),
    ],
)
async def test_what_ebay_cannot_take_is_refused_before_any_call(
    plugin: EbayMarketplace, fake: FakeEbay, shipment: ShipmentConfirmation, message: str
):
    with pytest.raises(PermanentError, match=message):
        await plugin.marketplace_confirm_shipment(shipment)
    assert fake.calls == []


async def test_configured_carrier_codes_extend_the_table(tmp_path: Path, fake: FakeEbay):
    built = build(tmp_path, make_settings(carrier_codes={"royal_parcel_co": "RoyalMail"}))
    try:
        await built.marketplace_confirm_shipment(confirmation(carrier="royal_parcel_co"))
    finally:
        await built.aclose()
    (post,) = [c for c in fake.api_calls() if c.method == "POST"]
    assert json.loads(post.content)["shippingCarrierCode"] == "RoyalMail"


async def test_a_validation_error_is_permanent_with_ebays_message(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.queued = [
        httpx.Response(200, json=load("shipping_fulfillments_empty.json")),
        httpx.Response(400, json=load("error_400_invalid_tracking.json")),
    ]
    with pytest.raises(PermanentError, match="Invalid shipment tracking number or carrier"):
        await plugin.marketplace_confirm_shipment(confirmation())


async def test_an_unknown_order_is_permanent(plugin: EbayMarketplace, fake: FakeEbay):
    fake.queued = [httpx.Response(400, json=load("error_400_invalid_order.json"))]
    with pytest.raises(PermanentError, match="Invalid order ID"):
        await plugin.marketplace_confirm_shipment(confirmation())


async def test_a_lost_answer_is_retryable_because_confirm_looks_first(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.lose_create_answer = True
    with pytest.raises(TransientError, match="ReadTimeout"):
        await plugin.marketplace_confirm_shipment(confirmation())
    retry = await plugin.marketplace_confirm_shipment(confirmation())
    assert retry.already_confirmed
    assert retry.channel_reference == f"{A}/shipping_fulfillment/{TRACKING}"


async def test_ebay_refusing_a_second_fulfillment_is_believed_only_when_listed(
    plugin: EbayMarketplace, fake: FakeEbay
):
    use_put = httpx.Response(400, json=load("error_400_use_put.json"))
    fake.queued = [
        httpx.Response(200, json=load("shipping_fulfillments_empty.json")),
        use_put,
        httpx.Response(200, json=load("shipping_fulfillments_one.json")),
    ]
    receipt = await plugin.marketplace_confirm_shipment(confirmation())
    assert receipt.already_confirmed
    fake.queued = [
        httpx.Response(200, json=load("shipping_fulfillments_empty.json")),
        use_put,
        httpx.Response(200, json=load("shipping_fulfillments_empty.json")),
    ]
    with pytest.raises(PermanentError, match="use PUT"):
        await plugin.marketplace_confirm_shipment(confirmation())


async def test_a_created_fulfillment_without_location_is_found_by_listing(
    plugin: EbayMarketplace, fake: FakeEbay
):
    fake.location = False
    receipt = await plugin.marketplace_confirm_shipment(confirmation())
    assert receipt.channel_reference == f"{A}/shipping_fulfillment/{TRACKING}"
    assert not receipt.already_confirmed


async def test_logs_carry_ids_not_personal_data_or_secrets(
    plugin: EbayMarketplace, fake: FakeEbay, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    page = await plugin.marketplace_fetch_orders(WINDOW)
    await plugin.marketplace_fetch_orders(WINDOW.model_copy(update={"page_token": "2:4"}))
    await plugin.marketplace_confirm_shipment(confirmation())
    assert A in caplog.text and page.events
    for secret_or_personal in (
        "Jane",
        "Hamilton",
        "members.ebay.com",
        "4085550123",
        "fixture-user-access-token",
        "fixture-refresh-token",
        CLIENT_SECRET,
    ):
        assert secret_or_personal not in caplog.text


# =========================================================================== through the hub


def host_for(plugin: EbayMarketplace) -> PluginHost:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="marketplaces.ebay")
    pm.check_pending()
    return PluginHost(pm, {"marketplaces.ebay": plugin})


async def test_the_hub_calls_it_through_pluggy(plugin: EbayMarketplace, fake: FakeEbay):
    host = host_for(plugin)
    page = await host.fetch_orders("ebay", WINDOW)
    assert page.events[0].order is not None and page.events[0].order.key == f"ebay:{A}"
    receipt = await host.confirm_shipment(confirmation())
    assert receipt.channel_reference.startswith(f"{A}/shipping_fulfillment/")
    # eBay has no signed order webhooks for sellers: the hub refuses any delivery.
    delivery = WebhookRequest(plugin="ebay", headers={}, body=b"{}", received_at=NOW)
    with pytest.raises(PermanentError, match="does not implement marketplace_verify_webhook"):
        await host.verify_webhook("ebay", delivery)


class TestEbayContract(MarketplaceContract):
    @pytest.fixture
    async def plugin(self, fake: FakeEbay, tmp_path: Path) -> AsyncIterator[EbayMarketplace]:
        built = build(tmp_path)
        yield built
        await built.aclose()

    @pytest.fixture
    def fetch_request(self) -> FetchRequest:
        return WINDOW.model_copy(update={"page_size": 2})

    @pytest.fixture
    def webhook(self) -> None:
        return None  # polling is the truth: eBay signs no order webhooks for sellers

    @pytest.fixture
    def confirmation(self, fake: FakeEbay) -> ShipmentConfirmation:
        return confirmation()


# =========================================================================== properties


SAMPLES = [
    *load("get_orders_page1.json")["orders"],
    *load("get_orders_page2.json")["orders"],
    load("get_order_cancel_completed.json"),
    load("get_order_international.json"),
]
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.one_of(*(mutated(sample) for sample in SAMPLES)))
def test_the_order_parser_maps_or_names_the_field(payload: Any):
    try:
        raw = parse_order(payload)
        order = order_from_ebay(raw, SETTINGS)
    except MappingError as exc:
        assert exc.problem.field and exc.problem.message
        return
    assert isinstance(order, Order) and order.external_id == payload["orderId"]
    assert all(line.unit_price.currency == order.currency for line in order.lines)


@FAST
@given(
    st.one_of(*(mutated(sample) for sample in SAMPLES), st.dictionaries(st.text(max_size=12), JSON))
)
def test_events_are_events_or_permanent_errors(payload: Any):
    try:
        event = order_event(payload, SETTINGS)
    except PermanentError as exc:
        assert "orderId" in str(exc) or "lastModifiedDate" in str(exc)
        return
    assert isinstance(event, ChannelEvent)
    assert event.external_id == payload["orderId"]
    assert event.dedupe_key.startswith(f"{payload['orderId']}@")
    if event.kind is ChannelEventKind.ORDER_UPSERTED:
        assert (event.order is None) != (event.problem is None)
    assert event == order_event(payload, SETTINGS)  # same payload, same event and key


@FAST
@given(
    st.one_of(
        mutated(load("get_orders_page1.json")),
        mutated(load("shipping_fulfillments_one.json")),
        JSON,
    )
)
def test_page_and_fulfillment_readers_answer_or_refuse_clearly(payload: Any):
    for reader in (read_page, read_fulfillments):
        try:
            reader(payload)
        except PermanentError as exc:
            assert str(exc).startswith(("getOrders:", "getShippingFulfillments:"))

"""The Amazon SP-API plugin against respx-mocked Amazon endpoints, with the documented examples
and sandbox payloads of github.com/amzn/selling-partner-api-models as fixtures."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

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
from hub.domain.shipment import ShipmentLine
from hub.domain.status import PaymentStatus
from hub.errors import PermanentError, TransientError
from hub.host import PluginHost
from hub.http import RateLimiter
from hub.plugin import PluginRuntime
from plugins.marketplaces.amazon import AmazonMarketplace, AmazonSettings
from plugins.marketplaces.amazon.client import OPERATION_LIMITS
from plugins.marketplaces.amazon.confirmation import package_reference_id
from plugins.marketplaces.amazon.mapping import order_event, parse_search_page
from plugins.marketplaces.amazon.notifications import notification_events
from tests.contract.marketplace import MarketplaceContract

FIXTURES = Path(__file__).parent / "fixtures" / "amazon"
BASE = "https://sellingpartnerapi-eu.amazon.com"
LWA = "https://api.amazon.com/auth/o2/token"
SEARCH = f"{BASE}/orders/2026-01-01/orders"
UK = "A1F83G8C2ARO7P"
NOW = datetime(2024, 12, 25, 16, 0, tzinfo=UTC)
REFRESH_TOKEN = "Atzr|fixture-refresh-token"
CLIENT_SECRET = "fixture-lwa-client-secret"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def example_order() -> dict[str, Any]:
    order: dict[str, Any] = load("search_orders_example.json")["orders"][0]
    return order


def lwa(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200, json={**load("lwa_token.json"), "access_token": token, "expires_in": expires_in}
    )


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__(OPERATION_LIMITS)
        self.observed: list[tuple[str, str, float | None]] = []
        self.drained: list[tuple[str, str]] = []

    def observe(
        self, account: str, operation: str, *, rate_per_second: float | None = None
    ) -> None:
        self.observed.append((account, operation, rate_per_second))
        super().observe(account, operation, rate_per_second=rate_per_second)

    def drain(self, account: str, operation: str) -> None:
        self.drained.append((account, operation))
        super().drain(account, operation)


def make_settings(**overrides: Any) -> AmazonSettings:
    values: dict[str, Any] = {
        "marketplace_ids": [UK],
        "refresh_token": REFRESH_TOKEN,
        "lwa_client_id": "amzn1.application-oa2-client.fixture",
        "lwa_client_secret": CLIENT_SECRET,
        **overrides,
    }
    return AmazonSettings.model_validate(values)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def limiter() -> RecordingLimiter:
    return RecordingLimiter()


@pytest.fixture
async def plugin(
    tmp_path: Path, clock: Clock, limiter: RecordingLimiter
) -> AsyncIterator[AmazonMarketplace]:
    built = AmazonMarketplace(
        make_settings(),
        PluginRuntime(data_dir=tmp_path, config_dir=tmp_path),
        clock=clock,
        limiter=limiter,
    )
    yield built
    await built.aclose()


def window(**overrides: Any) -> FetchRequest:
    values: dict[str, Any] = {
        "updated_after": datetime(2024, 12, 24, tzinfo=UTC),
        "updated_before": NOW,
        **overrides,
    }
    return FetchRequest(**values)


def uk_confirmation(**overrides: Any) -> ShipmentConfirmation:
    values: dict[str, Any] = {
        "marketplace": "amazon",
        "account": "default",
        "external_id": "202-7654321-1098765",
        "shipment_id": "202-7654321-1098765-1",
        "carrier": "dhl",
        "carrier_name": "DHL Paket",
        "service_code": "V01PAK",
        "tracking_number": "00340434161094042557",
        "shipped_at": datetime(2024, 12, 25, 14, 0, tzinfo=UTC),
        "lines": (
            ShipmentLine(line_id="20276543210987", sku="ECHO-DOT-4-UK-CHARCOAL-SINGLE", quantity=1),
        ),
        **overrides,
    }
    return ShipmentConfirmation(**values)


def confirm_url(order_id: str = "202-7654321-1098765") -> str:
    return f"{BASE}/orders/v0/orders/{order_id}/shipmentConfirmation"


# --------------------------------------------------------------------------- settings


def test_settings_keep_secrets_secret_and_refuse_unknown_keys() -> None:
    settings_ = make_settings()
    assert REFRESH_TOKEN not in repr(settings_) and CLIENT_SECRET not in repr(settings_)
    with pytest.raises(ValidationError):
        make_settings(refresh_tokn="typo")
    with pytest.raises(ValidationError):
        make_settings(endpoint="http://sellingpartnerapi-eu.amazon.com")
    with pytest.raises(ValidationError):
        make_settings(marketplace_ids=[])


# --------------------------------------------------------------------------- token


async def test_token_exchange_sends_the_refresh_grant_and_is_cached(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    token = api.post(LWA).mock(return_value=lwa("Atza|one"))
    search = api.get(SEARCH).respond(200, json={"orders": []})
    await plugin.marketplace_fetch_orders(window())
    await plugin.marketplace_fetch_orders(window())
    assert token.call_count == 1
    form = parse_qs(token.calls[0].request.content.decode())
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "client_id": ["amzn1.application-oa2-client.fixture"],
        "client_secret": [CLIENT_SECRET],
    }
    assert [c.request.headers["x-amz-access-token"] for c in search.calls] == ["Atza|one"] * 2


async def test_token_is_fetched_again_once_it_expires(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    # 30 s of life is inside the cache's 60 s refresh margin: every call needs a new one.
    token = api.post(LWA).mock(side_effect=[lwa("Atza|one", 30), lwa("Atza|two", 30)])
    search = api.get(SEARCH).respond(200, json={"orders": []})
    await plugin.marketplace_fetch_orders(window())
    await plugin.marketplace_fetch_orders(window())
    assert token.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in search.calls] == [
        "Atza|one",
        "Atza|two",
    ]


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.Response(401, json=load("error_403_expired_token.json")),
        httpx.Response(403, json=load("error_403_expired_token.json")),
    ],
    ids=["401", "403-expired-token"],
)
async def test_refused_token_is_refreshed_and_the_call_retried_once(
    plugin: AmazonMarketplace, api: respx.MockRouter, refusal: httpx.Response
) -> None:
    token = api.post(LWA).mock(side_effect=[lwa("Atza|old"), lwa("Atza|new")])
    search = api.get(SEARCH).mock(side_effect=[refusal, httpx.Response(200, json={"orders": []})])
    page = await plugin.marketplace_fetch_orders(window())
    assert page.events == ()
    assert token.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in search.calls] == [
        "Atza|old",
        "Atza|new",
    ]


async def test_a_second_refusal_is_permanent(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(side_effect=[lwa("Atza|old"), lwa("Atza|new")])
    search = api.get(SEARCH).respond(401, json=load("error_403_expired_token.json"))
    with pytest.raises(PermanentError, match="HTTP 401"):
        await plugin.marketplace_fetch_orders(window())
    assert search.call_count == 2


async def test_access_denied_is_not_a_token_problem(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    token = api.post(LWA).mock(return_value=lwa("Atza|one"))
    search = api.get(SEARCH).respond(403, json=load("error_403_denied.json"))
    with pytest.raises(PermanentError, match="Access to requested resource is denied"):
        await plugin.marketplace_fetch_orders(window())
    assert token.call_count == 1 and search.call_count == 1


async def test_rejected_refresh_token_is_permanent_and_quotes_no_secret(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).respond(400, json=load("lwa_invalid_grant.json"))
    search = api.get(SEARCH)
    with pytest.raises(PermanentError, match="invalid grant parameter") as info:
        await plugin.marketplace_fetch_orders(window())
    assert REFRESH_TOKEN not in str(info.value) and CLIENT_SECRET not in str(info.value)
    assert not search.called


# --------------------------------------------------------------------------- searchOrders


async def test_fetch_pages_with_pagination_token_and_keeps_the_window(
    plugin: AmazonMarketplace, api: respx.MockRouter, clock: Clock
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    search = api.get(SEARCH).mock(
        side_effect=[
            httpx.Response(200, json=load("search_orders_example.json")),
            httpx.Response(200, json=load("search_orders_sandbox_uk.json")),
        ]
    )
    first = await plugin.marketplace_fetch_orders(window())
    params = search.calls[0].request.url.params
    assert params["lastUpdatedAfter"] == "2024-12-24T00:00:00Z"
    assert params["lastUpdatedBefore"] == "2024-12-25T15:58:00Z"
    assert params["marketplaceIds"] == UK
    assert params["includedData"] == "BUYER,RECIPIENT,FULFILLMENT,PACKAGES"
    assert params["fulfilledBy"] == "MERCHANT"
    assert params["maxResultsPerPage"] == "50"
    assert "paginationToken" not in params
    assert [e.external_id for e in first.events] == ["123-4567890-1234567"]
    assert first.next_page_token

    clock.now = NOW + timedelta(minutes=10)  # the next page is asked for later
    second = await plugin.marketplace_fetch_orders(
        window(page_token=first.next_page_token, page_size=200)
    )
    again = search.calls[1].request.url.params
    assert again["paginationToken"] == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    # Amazon wants every parameter but the page size repeated unchanged with the token.
    for key in ("lastUpdatedAfter", "lastUpdatedBefore", "marketplaceIds", "fulfilledBy"):
        assert again[key] == params[key]
    assert again["maxResultsPerPage"] == "100"
    assert [e.external_id for e in second.events] == ["202-7654321-1098765"]
    assert second.next_page_token is None


@pytest.mark.parametrize(
    ("updated_before", "expected"),
    [
        (NOW, "2024-12-25T15:58:00Z"),
        (NOW + timedelta(hours=1), "2024-12-25T15:58:00Z"),
        (NOW - timedelta(minutes=10), "2024-12-25T15:50:00Z"),
    ],
)
async def test_last_updated_before_is_kept_two_minutes_back(
    plugin: AmazonMarketplace, api: respx.MockRouter, updated_before: datetime, expected: str
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    search = api.get(SEARCH).respond(200, json={"orders": []})
    await plugin.marketplace_fetch_orders(window(updated_before=updated_before))
    assert search.calls[0].request.url.params["lastUpdatedBefore"] == expected


async def test_window_inside_the_last_two_minutes_asks_nothing(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    token, search = api.post(LWA), api.get(SEARCH)
    page = await plugin.marketplace_fetch_orders(
        window(updated_after=NOW - timedelta(minutes=1), updated_before=NOW)
    )
    assert page.events == () and page.next_page_token is None
    assert not token.called and not search.called


async def test_expired_pagination_token_tells_the_caller_to_restart(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).mock(
        side_effect=[
            httpx.Response(200, json=load("search_orders_example.json")),
            httpx.Response(400, json=load("search_orders_400.json")),
        ]
    )
    first = await plugin.marketplace_fetch_orders(window())
    with pytest.raises(PermanentError, match="restart the window") as info:
        await plugin.marketplace_fetch_orders(window(page_token=first.next_page_token))
    assert "InvalidInput: Invalid Input" in str(info.value)


async def test_foreign_or_mismatched_page_tokens_are_refused(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).respond(200, json=load("search_orders_example.json"))
    first = await plugin.marketplace_fetch_orders(window())
    with pytest.raises(PermanentError, match="not issued by the amazon plugin"):
        await plugin.marketplace_fetch_orders(window(page_token="2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"))
    with pytest.raises(PermanentError, match="restart the window"):
        await plugin.marketplace_fetch_orders(
            window(
                updated_after=datetime(2024, 12, 23, tzinfo=UTC), page_token=first.next_page_token
            )
        )


async def test_validation_error_is_permanent_with_amazons_words(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).respond(400, json=load("search_orders_400.json"))
    with pytest.raises(PermanentError, match="HTTP 400: InvalidInput: Invalid Input"):
        await plugin.marketplace_fetch_orders(window())


async def test_rate_limit_header_is_followed_and_429_is_transient(
    plugin: AmazonMarketplace, api: respx.MockRouter, limiter: RecordingLimiter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).mock(
        side_effect=[
            httpx.Response(200, json={"orders": []}, headers={"x-amzn-RateLimit-Limit": "0.0167"}),
            httpx.Response(429, json=load("error_429.json")),
        ]
    )
    await plugin.marketplace_fetch_orders(window())
    assert limiter.observed == [("default", "searchOrders", 0.0167)]
    with pytest.raises(TransientError, match="QuotaExceeded") as info:
        await plugin.marketplace_fetch_orders(window())
    # No Retry-After from Amazon: wait for one token at the rate it announced.
    assert info.value.retry_after == pytest.approx(1 / 0.0167)
    # The local bucket is empty now too, so no call goes out before that.
    assert limiter.drained == [("default", "searchOrders")]


async def test_429_honours_retry_after(plugin: AmazonMarketplace, api: respx.MockRouter) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).respond(429, json=load("error_429.json"), headers={"Retry-After": "3"})
    with pytest.raises(TransientError) as info:
        await plugin.marketplace_fetch_orders(window())
    assert info.value.retry_after == 3


async def test_429_without_any_rate_uses_the_documented_usage_plan(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).respond(429, json=load("error_429.json"))
    with pytest.raises(TransientError) as info:
        await plugin.marketplace_fetch_orders(window())
    assert info.value.retry_after == pytest.approx(1 / 0.0056)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json=load("error_500.json")),
        httpx.Response(503, json=load("error_500.json")),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["500", "503", "read-timeout", "connect-error"],
)
async def test_server_errors_and_timeouts_are_transient(
    plugin: AmazonMarketplace, api: respx.MockRouter, failure: Any
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).mock(side_effect=[failure])
    with pytest.raises(TransientError):
        await plugin.marketplace_fetch_orders(window())


async def test_another_account_is_refused(plugin: AmazonMarketplace) -> None:
    with pytest.raises(PermanentError, match="serves account 'default'"):
        await plugin.marketplace_fetch_orders(window(account="us-shop"))


# --------------------------------------------------------------------------- order mapping


def event_for(order: Any) -> ChannelEvent:
    return order_event(order, account="default", now=NOW)


def test_documented_example_maps_to_an_order() -> None:
    event = event_for(example_order())
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.problem is None
    assert event.dedupe_key == "123-4567890-1234567@2024-12-25T14:45:00Z"
    assert event.occurred_at == datetime(2024, 12, 25, 14, 45, tzinfo=UTC)
    order = event.order
    assert order is not None
    assert order.key == "amazon:123-4567890-1234567"
    assert order.placed_at == datetime(2024, 12, 25, 10, 30, tzinfo=UTC)
    assert order.currency == "USD"
    assert [(li.line_id, li.sku, li.quantity, li.unit_price.amount) for li in order.lines] == [
        ("12345678901234", "ECHO-DOT-4-CHARCOAL", 2, Decimal("49.99")),
        ("12345678901235", "FIRE-TV-4K-2021", 1, Decimal("49.99")),
    ]
    assert order.customer.name == "John Smith"
    assert order.customer.email == "buyer-email@marketplace.amazon.com"
    address = order.shipping_address
    assert (address.line1, address.line2, address.city, address.region) == (
        "123 Main Street",
        "Suite 456",
        "Seattle",
        "WA",
    )
    assert (address.postal_code, address.country, address.company) == (
        "98101",
        "US",
        "Smith Industries LLC",
    )
    assert order.payment_status is PaymentStatus.PAID
    assert order.service_level == "standard"
    assert order.ship_by == datetime(2024, 12, 27, 23, 59, 59, tzinfo=UTC)
    assert order.deliver_by == datetime(2024, 12, 30, 23, 59, 59, tzinfo=UTC)
    assert order.is_gift and order.gift_message == "Happy Holidays! Enjoy your new smart speakers."
    assert "amazon:prime" in order.tags and "amazon-status:shipped" in order.tags


def test_get_order_sandbox_answer_maps_too() -> None:
    event = event_for(load("get_order_sandbox_br.json")["order"])
    assert event.order is not None
    assert event.order.currency == "BRL" and event.order.shipping_address.country == "BR"
    assert event.order.gift_message and event.order.gift_message.startswith("Feliz Natal")


def with_status(status: str, order: dict[str, Any] | None = None) -> dict[str, Any]:
    order = copy.deepcopy(order or example_order())
    order["fulfillment"]["fulfillmentStatus"] = status
    return order


def test_statuses_map_to_the_hub_events() -> None:
    unshipped = event_for(with_status("UNSHIPPED"))
    assert unshipped.order is not None and unshipped.order.payment_status is PaymentStatus.PAID

    pending = event_for(with_status("PENDING"))
    assert pending.order is not None and pending.order.payment_status is PaymentStatus.PENDING
    assert not pending.order.is_presale

    preorder = event_for(with_status("PENDING_AVAILABILITY"))
    assert preorder.order is not None
    assert preorder.order.payment_status is PaymentStatus.PENDING and preorder.order.is_presale

    cancelled = event_for(with_status("CANCELLED"))
    assert cancelled.kind is ChannelEventKind.ORDER_CANCELLED and cancelled.order is None
    assert cancelled.external_id == "123-4567890-1234567"

    assert event_for(with_status("UNFULFILLABLE")).kind is ChannelEventKind.IGNORED
    fba = event_for(load("search_orders_sandbox_jp.json")["orders"][0])
    assert fba.kind is ChannelEventKind.IGNORED and "FBA" in (fba.reason or "")


def test_pending_order_without_address_is_ignored_until_amazon_completes_it() -> None:
    order = with_status("PENDING")
    del order["recipient"]
    event = event_for(order)
    assert event.kind is ChannelEventKind.IGNORED
    assert "recipient.deliveryAddress" in (event.reason or "")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda o: o["orderItems"][1]["product"].pop("sellerSku"),
            "orderItems[1].product.sellerSku",
        ),
        (
            lambda o: o["orderItems"][0]["product"]["price"].pop("unitPrice"),
            "orderItems[0].product.price.unitPrice",
        ),
        (
            lambda o: o["recipient"]["deliveryAddress"].update(countryCode="XX"),
            "recipient.deliveryAddress.countryCode",
        ),
        (
            lambda o: o["orderItems"][1]["product"]["price"]["unitPrice"].update(
                currencyCode="EUR"
            ),
            "orderItems[1].product.price.unitPrice.currencyCode",
        ),
        (
            lambda o: o["fulfillment"].update(fulfillmentStatus="LOST"),
            "fulfillment.fulfillmentStatus",
        ),
        (lambda o: o.update(createdTime="2024-12-25T10:30:00"), "createdTime"),
        (lambda o: o.pop("orderItems"), "orderItems"),
        (lambda o: o.pop("orderId"), "orderId"),
    ],
)
def test_unmappable_orders_name_the_amazon_field(mutate: Any, field: str) -> None:
    order = example_order()
    mutate(order)
    event = event_for(order)
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem is not None and event.problem.field == field
    assert event.external_id and event.dedupe_key == event_for(copy.deepcopy(order)).dedupe_key


def test_service_levels_cancelled_items_and_japanese_addresses() -> None:
    order = example_order()
    order["fulfillment"]["fulfillmentServiceLevel"] = "NEXT_DAY"
    order["orderItems"][1]["quantityOrdered"] = 0  # cancelled in full
    order["recipient"]["deliveryAddress"].update(city="", municipality="Shibuya-ku")
    mapped = event_for(order).order
    assert mapped is not None
    assert mapped.service_level == "express"
    assert [line.line_id for line in mapped.lines] == ["12345678901234"]
    assert mapped.shipping_address.city == "Shibuya-ku"
    order["fulfillment"]["fulfillmentServiceLevel"] = "FREE_ECONOMY"
    economy = event_for(order).order
    assert economy is not None and economy.service_level == "economy"


def test_search_page_without_orders_is_permanent() -> None:
    with pytest.raises(PermanentError, match="orders is missing"):
        parse_search_page({"errors": []})


# --------------------------------------------------------------------------- property tests

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutated(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The document with a few values at random paths deleted or replaced by arbitrary JSON."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3))):
        candidates = paths(document)
        if not candidates:
            break
        path = data.draw(st.sampled_from(candidates))
        parent: Any = document
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(JSON)
    return document


def assert_valid_event(event: ChannelEvent) -> None:
    assert isinstance(event, ChannelEvent)
    assert event.external_id and event.dedupe_key and event.marketplace == "amazon"
    if event.kind is ChannelEventKind.ORDER_UPSERTED:
        assert (event.order is None) != (event.problem is None)
        if event.order is not None:
            assert event.order.external_id == event.external_id
            assert event.order.lines


SOURCES = [
    example_order(),
    load("search_orders_sandbox_uk.json")["orders"][0],
    load("search_orders_sandbox_br.json")["orders"][0],
    load("get_order_sandbox_br.json")["order"],
]
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.sampled_from(SOURCES), st.data())
def test_mutated_sandbox_orders_map_to_valid_events(source: dict[str, Any], data: Any) -> None:
    assert_valid_event(event_for(mutated(source, data)))


@PROPERTY
@given(JSON)
def test_arbitrary_json_orders_map_to_valid_events(value: Any) -> None:
    assert_valid_event(event_for(value))


@PROPERTY
@given(JSON)
def test_arbitrary_search_pages_parse_or_fail_permanently(value: Any) -> None:
    try:
        orders, token = parse_search_page(value)
    except PermanentError:
        return
    assert isinstance(orders, list) and (token is None or isinstance(token, str))


@PROPERTY
@given(st.data())
def test_mutated_notifications_parse_or_fail_permanently(data: Any) -> None:
    body = json.dumps(mutated(load("order_change_notification.json"), data)).encode()
    try:
        events = notification_events(body, account="default")
    except PermanentError:
        return
    for event in events:
        assert_valid_event(event)


@PROPERTY
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_escape_as_unhandled_errors(body: bytes) -> None:
    with contextlib.suppress(PermanentError):
        notification_events(body, account="default")


# --------------------------------------------------------------------------- notifications


def notification(**summary: Any) -> WebhookRequest:
    document = load("order_change_notification.json")
    document["Payload"]["OrderChangeNotification"]["Summary"].update(summary)
    return WebhookRequest(
        plugin="amazon", headers={}, body=json.dumps(document).encode(), received_at=NOW
    )


async def test_direct_http_posts_are_not_authentic(plugin: AmazonMarketplace) -> None:
    assert await plugin.marketplace_verify_webhook(notification()) is False


async def test_order_change_is_a_hint_keyed_by_notification_id(plugin: AmazonMarketplace) -> None:
    events = await plugin.marketplace_parse_webhook(notification())
    assert len(events) == 1
    event = events[0]
    assert event.kind is ChannelEventKind.IGNORED and event.order is None
    assert event.external_id == "903-8868176-2219830"
    assert event.dedupe_key == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"
    assert event.occurred_at == datetime(2022, 11, 29, 19, 42, 4, 284000, tzinfo=UTC)
    assert "buyer requested cancellation" in (event.reason or "")
    again = await plugin.marketplace_parse_webhook(notification())
    assert again[0].dedupe_key == event.dedupe_key


async def test_cancellation_and_fba_notifications(plugin: AmazonMarketplace) -> None:
    (cancelled,) = await plugin.marketplace_parse_webhook(notification(OrderStatus="Canceled"))
    assert cancelled.kind is ChannelEventKind.ORDER_CANCELLED
    assert cancelled.reason == "cancelled on Amazon (Buyer Requested Cancel)"
    (fba,) = await plugin.marketplace_parse_webhook(
        notification(OrderStatus="Canceled", FulfillmentType="AFN")
    )
    assert fba.kind is ChannelEventKind.IGNORED


async def test_malformed_notifications_are_permanent_errors_naming_the_field(
    plugin: AmazonMarketplace,
) -> None:
    with pytest.raises(PermanentError, match="not JSON"):
        await plugin.marketplace_parse_webhook(
            WebhookRequest(plugin="amazon", headers={}, body=b"<xml/>", received_at=NOW)
        )
    document = load("order_change_notification.json")
    del document["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    with pytest.raises(PermanentError, match=r"Payload\.OrderChangeNotification\.AmazonOrderId"):
        notification_events(json.dumps(document).encode(), account="default")


def test_other_notification_types_are_ignored() -> None:
    document = load("order_change_notification.json")
    document["NotificationType"] = "ANY_OFFER_CHANGED"
    (event,) = notification_events(json.dumps(document).encode(), account="default")
    assert event.kind is ChannelEventKind.IGNORED
    assert event.dedupe_key == "d0e9e693-c3ad-4373-979f-ed4ec98dd746"


# --------------------------------------------------------------------------- confirmShipment


def test_package_reference_ids_are_positive_numbers() -> None:
    assert package_reference_id("202-7654321-1098765-2", "202-7654321-1098765") == "2"
    assert package_reference_id("101", "202-7654321-1098765") == "101"
    hashed = package_reference_id("box-A", "202-7654321-1098765")
    assert hashed.isdigit() and int(hashed) > 0
    assert hashed == package_reference_id("box-A", "202-7654321-1098765")
    assert package_reference_id("202-7654321-1098765-0", "202-7654321-1098765") != "0"


async def test_confirm_shipment_sends_the_documented_body_once(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    confirm = api.post(confirm_url()).respond(204)
    receipt = await plugin.marketplace_confirm_shipment(uk_confirmation())
    assert receipt.channel_reference == "202-7654321-1098765/package/1"
    assert not receipt.already_confirmed
    sent = json.loads(confirm.calls[0].request.content)
    assert sent == {
        "marketplaceId": UK,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "DHL",
            "carrierName": "DHL Paket",
            "shippingMethod": "V01PAK",
            "trackingNumber": "00340434161094042557",
            "shipDate": "2024-12-25T14:00:00.000Z",
            "orderItems": [{"orderItemId": "20276543210987", "quantity": 1}],
        },
    }
    documented = load("confirm_shipment_request.json")
    assert set(sent) == set(documented)
    assert set(sent["packageDetail"]) <= set(documented["packageDetail"])
    assert confirm.calls[0].request.headers["x-amz-access-token"] == "Atza|one"

    # A retry (the hub stamps a new ship date) is answered from the record, not sent again.
    later = uk_confirmation(shipped_at=datetime(2024, 12, 25, 15, 0, tzinfo=UTC))
    repeat = await plugin.marketplace_confirm_shipment(later)
    assert repeat.already_confirmed and repeat.channel_reference == receipt.channel_reference
    assert confirm.call_count == 1

    # A correction goes to Amazon as an edit of the same package.
    corrected = await plugin.marketplace_confirm_shipment(
        uk_confirmation(tracking_number="00340434161094042558")
    )
    assert corrected.already_confirmed and confirm.call_count == 2
    assert (
        json.loads(confirm.calls[1].request.content)["packageDetail"]["packageReferenceId"] == "1"
    )


async def test_unlisted_carriers_go_as_other_with_their_name(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    confirm = api.post(confirm_url()).respond(204)
    await plugin.marketplace_confirm_shipment(
        uk_confirmation(carrier="bring", carrier_name="Bring", service_code="5800")
    )
    detail = json.loads(confirm.calls[0].request.content)["packageDetail"]
    assert (detail["carrierCode"], detail["carrierName"]) == ("Other", "Bring")


async def test_invalid_confirmation_is_permanent(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.post(confirm_url()).respond(400, json=load("confirm_shipment_400.json"))
    with pytest.raises(PermanentError, match="Invalid Input"):
        await plugin.marketplace_confirm_shipment(uk_confirmation())


def order_with_packages(*packages: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = load("get_order_sandbox_br.json")
    answer["order"]["packages"] = list(packages)
    return answer


async def test_already_fulfilled_answer_is_believed_only_with_our_package_on_the_order(
    plugin: AmazonMarketplace, api: respx.MockRouter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.post(confirm_url()).respond(400, json=load("confirm_shipment_already_fulfilled.json"))
    get_order = api.get(f"{BASE}/orders/2026-01-01/orders/202-7654321-1098765").mock(
        side_effect=[
            httpx.Response(
                200,
                json=order_with_packages(
                    {"packageReferenceId": "7", "trackingNumber": "0034 0434 1610 9404 2557"}
                ),
            ),
            httpx.Response(
                200,
                json=order_with_packages(
                    {"packageReferenceId": "7", "trackingNumber": "1Z999AA1234567890"}
                ),
            ),
        ]
    )
    receipt = await plugin.marketplace_confirm_shipment(uk_confirmation())
    assert receipt.already_confirmed
    assert receipt.channel_reference == "202-7654321-1098765/package/7"
    assert get_order.calls[0].request.url.params["includedData"] == "PACKAGES"

    other = uk_confirmation(shipment_id="202-7654321-1098765-2")
    with pytest.raises(PermanentError, match="PackageToUpdateNotFound"):
        await plugin.marketplace_confirm_shipment(other)


async def test_confirm_looks_up_the_marketplace_when_the_account_has_several(
    tmp_path: Path, api: respx.MockRouter
) -> None:
    plugin = AmazonMarketplace(
        make_settings(marketplace_ids=[UK, "A2Q3Y263D00KWC"]),
        PluginRuntime(data_dir=tmp_path, config_dir=tmp_path),
    )
    try:
        api.post(LWA).mock(return_value=lwa("Atza|one"))
        api.get(f"{BASE}/orders/2026-01-01/orders/171-9876543-2109876").respond(
            200, json=load("get_order_sandbox_br.json")
        )
        confirm = api.post(confirm_url("171-9876543-2109876")).respond(204)
        await plugin.marketplace_confirm_shipment(
            uk_confirmation(
                external_id="171-9876543-2109876",
                shipment_id="171-9876543-2109876-1",
                lines=(
                    ShipmentLine(line_id="17198765432109", sku="ECHO-DOT-4-BR-PRETO", quantity=1),
                ),
            )
        )
        assert json.loads(confirm.calls[0].request.content)["marketplaceId"] == "A2Q3Y263D00KWC"
    finally:
        await plugin.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json=load("error_500.json")),
        httpx.ReadTimeout("read timed out"),
    ],
    ids=["500", "read-timeout"],
)
async def test_confirm_failures_are_retryable_because_a_resend_is_an_edit(
    plugin: AmazonMarketplace, api: respx.MockRouter, failure: Any
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.post(confirm_url()).mock(side_effect=[failure])
    with pytest.raises(TransientError):
        await plugin.marketplace_confirm_shipment(uk_confirmation())


async def test_confirm_429_waits_for_the_confirm_usage_plan(
    plugin: AmazonMarketplace, api: respx.MockRouter, limiter: RecordingLimiter
) -> None:
    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.post(confirm_url()).respond(429, json=load("error_429.json"))
    with pytest.raises(TransientError) as info:
        await plugin.marketplace_confirm_shipment(uk_confirmation())
    assert info.value.retry_after == pytest.approx(0.5)
    assert limiter.drained == [("default", "confirmShipment")]


# --------------------------------------------------------------------------- the real machinery


async def test_through_the_plugin_host(plugin: AmazonMarketplace, api: respx.MockRouter) -> None:
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="marketplaces.amazon")
    pm.check_pending()
    host = PluginHost(pm, {"marketplaces.amazon": plugin})

    api.post(LWA).mock(return_value=lwa("Atza|one"))
    api.get(SEARCH).respond(200, json=load("search_orders_sandbox_uk.json"))
    api.post(confirm_url()).respond(204)

    page = await host.fetch_orders("amazon", window())
    (event,) = page.events
    assert event.order is not None and event.order.key == "amazon:202-7654321-1098765"
    receipt = await host.confirm_shipment(uk_confirmation())
    assert receipt.channel_reference == "202-7654321-1098765/package/1"
    assert not await host.verify_webhook("amazon", notification())
    hints = await host.parse_webhook("amazon", notification())
    assert hints[0].kind is ChannelEventKind.IGNORED


class TestAmazonContract(MarketplaceContract):
    @pytest.fixture
    async def plugin(self, tmp_path: Path) -> AsyncIterator[AmazonMarketplace]:
        with respx.mock(assert_all_called=False) as amazon:
            amazon.post(LWA).mock(return_value=lwa("Atza|one"))

            def search(request: httpx.Request) -> httpx.Response:
                if request.url.params.get("paginationToken") == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4":
                    return httpx.Response(200, json=load("search_orders_sandbox_uk.json"))
                return httpx.Response(200, json=load("search_orders_example.json"))

            amazon.get(SEARCH).mock(side_effect=search)
            amazon.post(confirm_url()).respond(204)
            built = AmazonMarketplace(
                make_settings(),
                PluginRuntime(data_dir=tmp_path, config_dir=tmp_path),
                clock=Clock(NOW),
            )
            yield built
            await built.aclose()

    @pytest.fixture
    def fetch_request(self) -> FetchRequest:
        return window()

    @pytest.fixture
    def webhook(self) -> None:
        return None  # SP-API pushes to SQS/EventBridge, never to an HTTP endpoint

    @pytest.fixture
    def confirmation(self) -> ShipmentConfirmation:
        return uk_confirmation()

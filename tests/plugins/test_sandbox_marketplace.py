"""The sandbox marketplace: generator and mapping (pure), then the plugin over a real SQLite
file (webhooks, polling, confirmations), then through the hub's plugin host."""

from __future__ import annotations

import copy
import json
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import hookspecs
from hub.domain.address import Address, address_problems, contact_problems
from hub.domain.messages import (
    ChannelEventKind,
    FetchRequest,
    MappingProblem,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.domain.order import Order
from hub.domain.shipment import ShipmentLine
from hub.domain.status import PaymentStatus
from hub.errors import ConfigError, PermanentError
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.marketplaces.sandbox import SandboxMarketplace, SandboxMarketplaceSettings
from plugins.marketplaces.sandbox.catalog import load_products
from plugins.marketplaces.sandbox.generator import SHIPPING, OrderGenerator, OrderNumber, Rates
from plugins.marketplaces.sandbox.geography import COUNTRIES
from plugins.marketplaces.sandbox.mapping import map_order
from plugins.marketplaces.sandbox.signing import (
    ACCOUNT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    signature,
)
from tests.contract.marketplace import MarketplaceContract

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
PRODUCTS = load_products(CONFIG_DIR / "catalog.toml")
SKUS = {p.sku for p in PRODUCTS}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "test-webhook-secret"


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_plugin(data_dir: Path, clock: FakeClock | None = None, **overrides: Any):
    settings = SandboxMarketplaceSettings(**{"seed": 7, "webhook_secret": SECRET, **overrides})
    runtime = PluginRuntime(data_dir=data_dir, config_dir=CONFIG_DIR)
    return SandboxMarketplace(settings, runtime, clock=clock or FakeClock())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def plugin(tmp_path: Path, clock: FakeClock) -> SandboxMarketplace:
    return make_plugin(tmp_path, clock)


def generate(count: int, rates: Rates, seed: int = 7) -> list[dict[str, Any]]:
    generator = OrderGenerator(PRODUCTS, rates, random.Random(seed))
    return [generator.order(OrderNumber(10_000 + n, n), T0) for n in range(1001, 1001 + count)]


def mapped(payload: object) -> Order | MappingProblem:
    return map_order(payload, marketplace="sandbox", account="default")


def an_order(payload: dict[str, Any]) -> Order:
    result = mapped(payload)
    assert isinstance(result, Order), result
    return result


def shipment_of(order: Order, shipment_id: str = "shp-1") -> ShipmentConfirmation:
    return ShipmentConfirmation(
        marketplace="sandbox",
        account="default",
        external_id=order.external_id,
        shipment_id=shipment_id,
        carrier="sandbox",
        carrier_name="Sandbox Parcel",
        service_code="SBX-STD",
        tracking_number="SBX1234567890",
        shipped_at=T0 + timedelta(days=1),
        lines=tuple(
            ShipmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in order.lines
        ),
    )


# =========================================================================== generator


def test_generated_orders_are_realistic_and_map_cleanly() -> None:
    payloads = generate(300, Rates())
    countries: Counter[str] = Counter()
    for payload in payloads:
        order = an_order(payload)
        address = order.shipping_address
        assert address_problems(address) == [], payload["shipping_address"]
        assert contact_problems(order.customer, address.country) == []
        countries[address.country] += 1
        assert 1 <= len(order.lines) <= 4
        assert len({line.sku for line in order.lines}) == len(order.lines)
        for line in order.lines:
            assert line.sku in SKUS and 1 <= line.quantity <= 3
        assert order.payment_status in {PaymentStatus.PAID, PaymentStatus.AUTHORIZED}
        assert order.placed_at == T0 and order.currency == "EUR"
        assert order.ship_by is not None and order.deliver_by is not None
        assert order.ship_by - order.placed_at in {timedelta(days=1), timedelta(days=2)}
        transit = {option.code: option.transit_days for option in SHIPPING}
        assert order.deliver_by - order.ship_by == timedelta(days=transit[order.service_level])
        assert order.customer.email and order.customer.email.endswith(
            ("@example.com", "@example.org", "@example.net")
        )
        assert isinstance(payload["line_items"][0]["price"], str)
        assert payload["created_at"].endswith("+00:00")
    assert set(countries) == {country.code for country in COUNTRIES}
    assert any(an_order(p).shipping_address.region for p in payloads)


def test_every_street_in_the_address_book_has_a_valid_postal_code() -> None:
    for country in COUNTRIES:
        for city in country.cities:
            for street, postal_code in city.streets:
                address = Address(
                    name="A B",
                    line1=f"1 {street}",
                    city=city.name,
                    region=city.region,
                    postal_code=postal_code,
                    country=country.code,
                )
                assert address_problems(address) == [], (country.code, street)


def test_the_same_seed_places_the_same_orders() -> None:
    assert generate(20, Rates(0.3, 0.3, 0.3), seed=3) == generate(20, Rates(0.3, 0.3, 0.3), seed=3)
    assert generate(20, Rates(), seed=3) != generate(20, Rates(), seed=4)


def test_rates_of_one_break_every_order_in_that_way_only() -> None:
    for payload in generate(50, Rates(invalid_address=1.0)):
        order = an_order(payload)
        assert address_problems(order.shipping_address)
        assert {line.sku for line in order.lines} <= SKUS
        assert order.payment_status is not PaymentStatus.PENDING
    for payload in generate(50, Rates(unknown_sku=1.0)):
        order = an_order(payload)
        unknown = [line.sku for line in order.lines if line.sku not in SKUS]
        assert len(unknown) == 1 and unknown[0].startswith("DISCONTINUED-")
        assert address_problems(order.shipping_address) == []
    for payload in generate(50, Rates(unpaid=1.0)):
        order = an_order(payload)
        assert payload["financial_status"] == "pending"
        assert order.payment_status is PaymentStatus.PENDING
        assert address_problems(order.shipping_address) == []


def test_configured_rates_are_roughly_met() -> None:
    orders = [an_order(p) for p in generate(2000, Rates(0.08, 0.05, 0.10))]
    bad_address = sum(bool(address_problems(o.shipping_address)) for o in orders) / len(orders)
    bad_sku = sum(any(ln.sku not in SKUS for ln in o.lines) for o in orders) / len(orders)
    unpaid = sum(o.payment_status is PaymentStatus.PENDING for o in orders) / len(orders)
    assert bad_address == pytest.approx(0.08, abs=0.025)
    assert bad_sku == pytest.approx(0.05, abs=0.02)
    assert unpaid == pytest.approx(0.10, abs=0.025)


def test_a_broken_catalogue_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text('[[products]]\nsku = "X"\nname = "X"\nprice = "cheap"\n')
    with pytest.raises(ConfigError, match="price"):
        make_plugin(tmp_path / "data", catalog_file=bad)
    with pytest.raises(ConfigError, match="cannot be read"):
        make_plugin(tmp_path / "data", catalog_file=tmp_path / "missing.toml")


# =========================================================================== mapping


def test_mapping_is_faithful() -> None:
    payload = generate(1, Rates())[0]
    payload["shipping_address"].update(
        first_name="Ada", last_name="Lund", province_code="AB", zip="114 55", company="Lund AB"
    )
    payload.update(
        financial_status="partially_refunded",
        shipping_lines=[{"code": "express", "price": "12.90"}, {"code": "x", "price": "1.10"}],
        gift=True,
        gift_message="Enjoy",
        tags="vip, minimal-packaging,",
    )
    order = an_order(payload)
    assert order.external_id == str(payload["id"])
    assert order.customer.name == order.shipping_address.name == "Ada Lund"
    assert order.shipping_address.region == "AB"
    assert order.shipping_address.postal_code == "114 55"
    assert order.shipping_address.company == "Lund AB"
    assert order.payment_status is PaymentStatus.PARTIALLY_REFUNDED
    assert order.service_level == "express"
    assert order.shipping_paid is not None and order.shipping_paid.amount == Decimal("14.00")
    assert order.is_gift and order.gift_message == "Enjoy"
    assert order.tags == ("vip", "minimal-packaging") and order.minimal_packaging
    assert order.lines[0].line_id == str(payload["line_items"][0]["id"])
    assert order.lines[0].unit_price.amount == Decimal(payload["line_items"][0]["price"])


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("paid", PaymentStatus.PAID),
        ("authorized", PaymentStatus.AUTHORIZED),
        ("pending", PaymentStatus.PENDING),
        ("partially_refunded", PaymentStatus.PARTIALLY_REFUNDED),
        ("refunded", PaymentStatus.REFUNDED),
        ("voided", PaymentStatus.VOIDED),
    ],
)
def test_financial_status_maps(status: str, expected: PaymentStatus) -> None:
    payload = generate(1, Rates())[0] | {"financial_status": status}
    assert an_order(payload).payment_status is expected


def test_an_undeliverable_address_still_maps_for_the_hub_to_hold() -> None:
    payload = generate(1, Rates())[0]
    payload["shipping_address"].update(address1=None, zip="1", city=None)
    order = an_order(payload)
    assert order.shipping_address.line1 == "" and order.shipping_address.city == ""
    assert address_problems(order.shipping_address)


_DELETE = object()


def _set(path: str, value: Any) -> Any:
    """A change to a generated payload: set the dotted path to value, or delete it."""

    def change(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set("line_items", _DELETE), "line_items"),
        (_set("line_items", []), "line_items"),
        (_set("line_items.0.price", "twelve"), "line_items.0.price"),
        (_set("line_items.0.price", 12.5), "line_items.0.price"),
        (_set("line_items.0.price", "NaN"), "line_items.0.price"),
        (_set("line_items.0.quantity", 0), "line_items.0.quantity"),
        (_set("line_items.0.quantity", True), "line_items.0.quantity"),
        (_set("line_items.0.sku", ""), "line_items.0.sku"),
        (_set("currency", "XYZ"), "currency"),
        (_set("currency", _DELETE), "currency"),
        (_set("shipping_address.country_code", _DELETE), "shipping_address.country_code"),
        (_set("shipping_address.country_code", "XX"), "shipping_address.country_code"),
        (_set("shipping_address", "Storgatan 1"), "shipping_address"),
        (_set("shipping_address.city", 42), "shipping_address.city"),
        (_set("created_at", "2026-03-02T09:00:00"), "created_at"),
        (_set("created_at", "yesterday"), "created_at"),
        (_set("financial_status", "partially_paid"), "financial_status"),
        (_set("shipping_lines.0.code", "overnight"), "shipping_lines.0.code"),
        (_set("id", _DELETE), "id"),
        (_set("id", "10 01"), "id"),
        (_set("gift", "yes"), "gift"),
        (_set("tags", ["ok", 3]), "tags"),
    ],
)
def test_structurally_broken_payloads_are_mapping_problems(change: Any, field: str) -> None:
    payload = generate(1, Rates())[0]
    change(payload)
    problem = mapped(payload)
    assert isinstance(problem, MappingProblem), problem
    assert problem.field == field and problem.message


# Arbitrary JSON, and strings that look nearly right to a parser.
TRICKY_STRINGS = st.sampled_from(
    ["", " ", "0", "-1", "1e999999", "NaN", "Infinity", "12,50", "XX", "eur", "2026-03-02"]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | TRICKY_STRINGS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
BASE_PAYLOADS = generate(6, Rates(0.3, 0.3, 0.3), seed=11)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        if isinstance(child, dict | list) and child:
            yield from _paths(child, (*prefix, key))


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = copy.deepcopy(draw(st.sampled_from(BASE_PAYLOADS)))
    for _ in range(draw(st.integers(1, 5))):
        paths = list(_paths(payload))
        if not paths:
            break
        *parents, key = draw(st.sampled_from(paths))
        target: Any = payload
        for part in parents:
            target = target[part]
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(JSON_VALUES)
    return payload


@settings(max_examples=400, deadline=None)
@given(st.one_of(mutated_payloads(), JSON_VALUES))
def test_mapping_never_raises(payload: Any) -> None:
    result = mapped(payload)
    assert isinstance(result, Order | MappingProblem)
    if isinstance(result, MappingProblem):
        assert result.field and result.message


# =========================================================================== webhooks


def test_signature_good_bad_and_missing(plugin: SandboxMarketplace) -> None:
    (payload,) = plugin.place_orders(1)
    request = plugin.signed_webhook("orders/create", payload)
    assert plugin.marketplace_verify_webhook(request) is True

    tampered = request.model_copy(update={"body": request.body.replace(b'"EUR"', b'"SEK"')})
    assert plugin.marketplace_verify_webhook(tampered) is False
    forged = {**request.headers, SIGNATURE_HEADER: signature(request.body, "guessed-secret")}
    assert (
        plugin.marketplace_verify_webhook(request.model_copy(update={"headers": forged})) is False
    )
    odd = {**request.headers, SIGNATURE_HEADER: "ünïcödé"}
    assert plugin.marketplace_verify_webhook(request.model_copy(update={"headers": odd})) is False
    missing = {k: v for k, v in request.headers.items() if k != SIGNATURE_HEADER}
    assert (
        plugin.marketplace_verify_webhook(request.model_copy(update={"headers": missing})) is False
    )


def test_parse_create_updated_cancelled_and_unknown_topics(plugin: SandboxMarketplace) -> None:
    (payload,) = plugin.place_orders(1)
    external_id = str(payload["id"])
    for topic in ("orders/create", "orders/updated"):
        (event,) = plugin.marketplace_parse_webhook(plugin.signed_webhook(topic, payload))
        assert event.kind is ChannelEventKind.ORDER_UPSERTED
        assert event.order is not None and event.order.external_id == external_id
        assert event.problem is None and event.occurred_at == T0

    cancelled = plugin.cancel_order(external_id)
    (event,) = plugin.marketplace_parse_webhook(
        plugin.signed_webhook("orders/cancelled", cancelled)
    )
    assert event.kind is ChannelEventKind.ORDER_CANCELLED and event.external_id == external_id
    assert event.reason == "cancelled at the channel (customer)"
    # Shopify also sends orders/updated on a cancel: the payload, not the topic, is the truth.
    (event,) = plugin.marketplace_parse_webhook(plugin.signed_webhook("orders/updated", cancelled))
    assert event.kind is ChannelEventKind.ORDER_CANCELLED

    (event,) = plugin.marketplace_parse_webhook(plugin.signed_webhook("app/uninstalled", {}))
    assert event.kind is ChannelEventKind.IGNORED and event.order is None
    assert event.reason == "topic app/uninstalled is not one the hub acts on"


def test_a_delivery_for_another_account_is_ignored(plugin: SandboxMarketplace) -> None:
    """Signed with this channel's secret (the signature covers the body only), but for an
    account this hub does not serve: its orders are not this hub's to ship."""
    (payload,) = plugin.place_orders(1)
    webhook = plugin.signed_webhook("orders/create", payload)
    foreign = webhook.model_copy(
        update={"headers": {**webhook.headers, ACCOUNT_HEADER: "another-shop"}}
    )
    assert plugin.marketplace_verify_webhook(foreign)
    (event,) = plugin.marketplace_parse_webhook(foreign)
    assert event.kind is ChannelEventKind.IGNORED and event.order is None
    assert event.reason == "account not configured: another-shop"
    assert event.external_id == str(payload["id"])
    (own,) = plugin.marketplace_parse_webhook(webhook)
    assert own.kind is ChannelEventKind.ORDER_UPSERTED


def test_redelivery_keeps_the_dedupe_key_and_a_new_version_gets_a_new_one(
    plugin: SandboxMarketplace, clock: FakeClock
) -> None:
    (payload,) = plugin.place_orders(1)
    first = plugin.signed_webhook("orders/create", payload)
    clock.advance(minutes=5)
    again = plugin.signed_webhook("orders/create", payload)
    assert again.body == first.body and again.received_at != first.received_at
    keys = [plugin.marketplace_parse_webhook(r)[0].dedupe_key for r in (first, again)]
    assert keys[0] == keys[1] == first.headers[EVENT_ID_HEADER]

    cancelled = plugin.cancel_order(str(payload["id"]))
    update = plugin.signed_webhook("orders/updated", cancelled)
    assert plugin.marketplace_parse_webhook(update)[0].dedupe_key not in keys


def test_an_unmappable_order_is_an_event_with_a_problem(plugin: SandboxMarketplace) -> None:
    (payload,) = plugin.place_orders(1)
    payload["line_items"][0]["quantity"] = -2
    (event,) = plugin.marketplace_parse_webhook(plugin.signed_webhook("orders/create", payload))
    assert event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
    assert event.problem == MappingProblem(
        field="line_items.0.quantity", message="must be at least 1"
    )
    assert event.external_id == str(payload["id"])


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"{not json", {}, "body: not JSON"),
        (b"\xff\xfe\x00", {}, "body: not JSON"),
        (b"[1, 2]", {}, "not a JSON object"),
        (b'{"line_items": []}', {}, "id: missing"),
        (b'{"id": 5}', {EVENT_ID_HEADER: None}, "x-sandbox-event-id"),
    ],
)
def test_a_malformed_body_is_a_permanent_error(
    plugin: SandboxMarketplace, body: bytes, headers: dict[str, Any], message: str
) -> None:
    request = plugin.signed_webhook("orders/create", {"id": 5})
    merged = {**request.headers, **headers}
    request = request.model_copy(
        update={"body": body, "headers": {k: v for k, v in merged.items() if v is not None}}
    )
    with pytest.raises(PermanentError, match=message):
        plugin.marketplace_parse_webhook(request)


@pytest.fixture(scope="module")
def shared_plugin() -> Iterator[SandboxMarketplace]:
    with tempfile.TemporaryDirectory() as tmp:
        yield make_plugin(Path(tmp))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(mutated_payloads(), JSON_VALUES),
    topic=st.sampled_from(
        ["orders/create", "orders/updated", "orders/cancelled", "orders/paid", ""]
    ),
)
def test_parsing_any_json_body_yields_events_or_a_permanent_error(
    shared_plugin: SandboxMarketplace, body: Any, topic: str
) -> None:
    request = shared_plugin.signed_webhook(topic, body if isinstance(body, dict) else {})
    if not isinstance(body, dict):
        request = request.model_copy(update={"body": json.dumps(body).encode()})
    try:
        events = shared_plugin.marketplace_parse_webhook(request)
    except PermanentError:
        return
    assert len(events) == 1


# =========================================================================== polling


def _fetch_all(
    plugin: SandboxMarketplace, after: datetime, before: datetime, page_size: int
) -> list[list[Any]]:
    pages, token = [], None
    while True:
        request = FetchRequest(
            updated_after=after, updated_before=before, page_token=token, page_size=page_size
        )
        page = plugin.marketplace_fetch_orders(request)
        pages.append(list(page.events))
        token = page.next_page_token
        if token is None:
            return pages


def test_fetch_pages_through_every_order_once_in_order_and_sees_a_cancel(
    plugin: SandboxMarketplace, clock: FakeClock
) -> None:
    placed: list[dict[str, Any]] = []
    for _ in range(4):  # batches a few seconds apart, many orders sharing one second
        placed += plugin.place_orders(30)
        clock.advance(seconds=3)
    window = (T0 - timedelta(minutes=1), clock.now)

    pages = _fetch_all(plugin, *window, page_size=50)
    assert [len(p) for p in pages] == [50, 50, 20]
    events = [e for page in pages for e in page]
    assert [e.external_id for e in events] == [str(p["id"]) for p in placed]
    positions = [(e.occurred_at, int(e.external_id)) for e in events]
    assert positions == sorted(positions)
    assert all(e.kind is ChannelEventKind.ORDER_UPSERTED and e.order for e in events)
    assert {e.dedupe_key for e in events} == {f"{p['id']}@{p['updated_at']}" for p in placed}

    victim = placed[10]
    clock.advance(seconds=1)
    cancelled = plugin.cancel_order(str(victim["id"]))
    assert cancelled["updated_at"] > victim["updated_at"]
    assert plugin.cancel_order(str(victim["id"])) == cancelled  # idempotent
    later = _fetch_all(plugin, window[1], clock.now + timedelta(seconds=1), page_size=50)
    (event,) = [e for page in later for e in page]
    assert event.kind is ChannelEventKind.ORDER_CANCELLED
    assert event.external_id == str(victim["id"])
    assert event.dedupe_key == f"{victim['id']}@{cancelled['updated_at']}"
    again = [e for page in _fetch_all(plugin, *window, page_size=50) for e in page]
    assert len(again) == 119 and str(victim["id"]) not in {e.external_id for e in again}


def test_fetch_window_is_half_open(plugin: SandboxMarketplace, clock: FakeClock) -> None:
    (payload,) = plugin.place_orders(1)
    at = datetime.fromisoformat(payload["updated_at"])
    assert _fetch_all(plugin, at, at + timedelta(seconds=1), 10) != [[]]
    assert _fetch_all(plugin, at - timedelta(seconds=1), at, 10) == [[]]


def test_fetch_refuses_foreign_tokens_and_accounts(plugin: SandboxMarketplace) -> None:
    window: dict[str, Any] = {"updated_after": T0, "updated_before": T0 + timedelta(days=1)}
    with pytest.raises(PermanentError, match="page_token"):
        plugin.marketplace_fetch_orders(FetchRequest(**window, page_token="bm9wZQ"))
    with pytest.raises(PermanentError, match="account"):
        plugin.marketplace_fetch_orders(FetchRequest(**window, account="other-shop"))


def test_a_polled_unmappable_order_is_an_event_with_a_problem(plugin: SandboxMarketplace) -> None:
    (payload,) = plugin.place_orders(1)

    def drop_lines(stored: dict[str, Any]) -> dict[str, Any]:
        return {**stored, "line_items": []}

    plugin.store.update_order("default", str(payload["id"]), drop_lines)
    page = plugin.marketplace_fetch_orders(
        FetchRequest(updated_after=T0, updated_before=T0 + timedelta(minutes=1))
    )
    (event,) = page.events
    assert event.order is None and event.problem is not None
    assert event.problem.field == "line_items"


# =========================================================================== confirmations


def test_confirm_shipment_is_idempotent_per_shipment(plugin: SandboxMarketplace) -> None:
    (payload,) = plugin.place_orders(1)
    order = an_order(payload)
    first = plugin.marketplace_confirm_shipment(shipment_of(order))
    again = plugin.marketplace_confirm_shipment(shipment_of(order))
    assert not first.already_confirmed and first.channel_reference.startswith("gid://sandbox/")
    assert again.already_confirmed and again.channel_reference == first.channel_reference
    assert plugin.confirmations(order.external_id) == [shipment_of(order)]


def test_confirm_shipment_refusals(plugin: SandboxMarketplace) -> None:
    one, two = (an_order(p) for p in plugin.place_orders(2))
    with pytest.raises(PermanentError, match="unknown"):
        plugin.marketplace_confirm_shipment(
            shipment_of(one).model_copy(update={"external_id": "999"})
        )
    plugin.marketplace_confirm_shipment(shipment_of(one, "shp-a"))
    with pytest.raises(PermanentError, match="units"):  # the whole order has shipped already
        plugin.marketplace_confirm_shipment(shipment_of(one, "shp-b"))
    with pytest.raises(PermanentError, match="another order"):
        plugin.marketplace_confirm_shipment(shipment_of(two, "shp-a"))
    stray = ShipmentLine(line_id="nope", sku="X", quantity=1)
    with pytest.raises(PermanentError, match="not on order"):
        plugin.marketplace_confirm_shipment(shipment_of(two).model_copy(update={"lines": (stray,)}))
    plugin.cancel_order(two.external_id)
    with pytest.raises(PermanentError, match="cancelled"):
        plugin.marketplace_confirm_shipment(shipment_of(two))
    assert plugin.confirmations(two.external_id) == []


def test_split_shipments_are_confirmed_line_by_line(plugin: SandboxMarketplace) -> None:
    payload = next(p for p in plugin.place_orders(20) if len(p["line_items"]) > 1)
    order = an_order(payload)
    whole = shipment_of(order)
    for n, line in enumerate(whole.lines):
        part = whole.model_copy(update={"shipment_id": f"part-{n}", "lines": (line,)})
        assert not plugin.marketplace_confirm_shipment(part).already_confirmed
    assert len(plugin.confirmations(order.external_id)) == len(order.lines)


# =========================================================================== the shop as a whole


def test_ids_are_unique_per_shop_and_numbers_count_up(tmp_path: Path) -> None:
    one = make_plugin(tmp_path / "one").place_orders(3)
    two = make_plugin(tmp_path / "two").place_orders(3)
    assert [p["name"] for p in one] == ["#1001", "#1002", "#1003"]
    assert {p["id"] for p in one}.isdisjoint({p["id"] for p in two})
    # Same seed, same customers: only the shop's ids differ.
    strip = ("id", "line_items")
    assert [{k: v for k, v in p.items() if k not in strip} for p in one] == [
        {k: v for k, v in p.items() if k not in strip} for p in two
    ]
    reopened = make_plugin(tmp_path / "one").place_orders(1)
    assert reopened[0]["name"] == "#1004"


def test_concurrent_placing_never_shares_an_order_number(plugin: SandboxMarketplace) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(plugin.place_orders, [5] * 16))
    numbers = [p["name"] for batch in batches for p in batch]
    assert len(numbers) == len(set(numbers)) == 80


def test_cancel_of_an_unknown_order_is_refused(plugin: SandboxMarketplace) -> None:
    with pytest.raises(PermanentError, match="unknown"):
        plugin.cancel_order("12345")
    with pytest.raises(PermanentError, match="unknown"):
        plugin.cancel_order("not-an-id")


# =========================================================================== through the host


def _host(plugin: SandboxMarketplace) -> PluginHost:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="marketplaces.sandbox")
    pm.check_pending()
    return PluginHost(pm, {"marketplaces.sandbox": plugin})


async def test_through_the_plugin_host(plugin: SandboxMarketplace) -> None:
    host = _host(plugin)
    deliveries = await host.simulate_orders("sandbox", 3)
    assert [await host.verify_webhook("sandbox", d) for d in deliveries] == [True] * 3
    parsed = [e for d in deliveries for e in await host.parse_webhook("sandbox", d)]

    page = await host.fetch_orders(
        "sandbox",
        FetchRequest(updated_after=T0, updated_before=T0 + timedelta(hours=1), page_size=2),
    )
    assert len(page.events) == 2 and page.next_page_token
    rest = await host.fetch_orders(
        "sandbox",
        FetchRequest(
            updated_after=T0,
            updated_before=T0 + timedelta(hours=1),
            page_token=page.next_page_token,
        ),
    )
    polled = [*page.events, *rest.events]
    assert [e.order for e in polled] == [e.order for e in parsed]
    assert rest.next_page_token is None

    assert polled[0].order is not None
    receipt = await host.confirm_shipment(shipment_of(polled[0].order))
    assert receipt.channel_reference and not receipt.already_confirmed


def test_settings_reject_unknown_keys_and_bad_rates() -> None:
    with pytest.raises(ValueError, match="extra"):
        SandboxMarketplaceSettings(invalid_adress_rate=0.1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="less than or equal to 1"):
        SandboxMarketplaceSettings(unknown_sku_rate=1.5)


# =========================================================================== contract suite


class TestSandboxMarketplaceContract(MarketplaceContract):
    @pytest.fixture
    def fetch_request(self, plugin: SandboxMarketplace) -> FetchRequest:
        plugin.place_orders(7)
        return FetchRequest(updated_after=T0, updated_before=T0 + timedelta(hours=1), page_size=3)

    @pytest.fixture
    def webhook(self, plugin: SandboxMarketplace) -> WebhookRequest:
        (payload,) = plugin.place_orders(1)
        return plugin.signed_webhook("orders/create", payload)

    @pytest.fixture
    def confirmation(self, plugin: SandboxMarketplace) -> ShipmentConfirmation:
        (payload,) = plugin.place_orders(1)
        return shipment_of(an_order(payload))

"""The sandbox carrier: rating, labels, voids and tracking (pure parts first, then the plugin
over a real SQLite file, then through the hub's plugin host)."""

from __future__ import annotations

import itertools
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub import hookspecs
from hub.domain.address import Address, Contact
from hub.domain.customs import EU_CUSTOMS_UNION, Customs, CustomsItem
from hub.domain.messages import (
    LabelLookup,
    LabelRequest,
    RateRequest,
    TrackRequest,
    VoidRequest,
    WebhookRequest,
)
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, DocumentKind, LabelFormat, Parcel
from hub.domain.tracking import PROGRESS_RANK, TrackingEvent, TrackingStatus, advance
from hub.errors import PermanentError
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.carriers.sandbox import SandboxCarrier, SandboxCarrierSettings
from plugins.carriers.sandbox.rates import SERVICES
from plugins.carriers.sandbox.timeline import (
    Route,
    Scenario,
    Scenarios,
    first_scan_at,
    scenario_of,
    schedule,
    timeline,
)
from plugins.carriers.sandbox.tracking_numbers import (
    luhn_check_digit,
    new_tracking_number,
    parse_tracking_number,
)
from plugins.carriers.sandbox.webhook import SIGNATURE_HEADER, signature
from plugins.carriers.sandbox.zones import Zone, zone_of
from tests.contract.carrier import CarrierContract

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86_400.0
BERLIN = Address(
    name="Hub Fulfilment GmbH",
    line1="Lagerstrasse 5",
    city="Berlin",
    postal_code="10115",
    country="DE",
)
DESTINATIONS = {
    "DE": Address(
        name="Erika Mustermann",
        line1="Heidestrasse 17",
        city="Koeln",
        postal_code="51147",
        country="DE",
    ),
    "FR": Address(
        name="Jeanne Martin", line1="12 rue de la Paix", city="Paris", postal_code="75002",
        country="FR",
    ),
    "US": Address(
        name="Jane Roe", line1="1 Main St", city="Springfield", region="IL", postal_code="62701",
        country="US",
    ),
}  # fmt: skip
ROUTE = Route("Berlin", "DE", "Paris", "FR")


def parcel(grams: int, mm: tuple[int, int, int] = (300, 200, 100)) -> Parcel:
    length, width, height = mm
    return Parcel(
        weight_grams=grams,
        dimensions=Dimensions(length_mm=length, width_mm=width, height_mm=height),
    )


def rate_request(
    destination: str = "DE", parcels: tuple[Parcel, ...] = (parcel(1200),), ship_date=T0
) -> RateRequest:
    return RateRequest(
        shipment_id="S-1001-1",
        ship_from=BERLIN,
        ship_to=DESTINATIONS[destination],
        parcels=parcels,
        service_level="standard",
        ship_date=ship_date,
        declared_value=Money(amount=Decimal("49.90"), currency="EUR"),
    )


def label_request(
    key: str = "label:order:sandbox:1001:S-1001-1",
    *,
    service_code: str = "SBX_STANDARD",
    destination: str = "DE",
    parcels: tuple[Parcel, ...] = (parcel(1200),),
    label_format: LabelFormat = LabelFormat.PDF,
    shipment_id: str = "S-1001-1",
    ship_date: datetime | None = None,
) -> LabelRequest:
    return LabelRequest(
        idempotency_key=key,
        shipment_id=shipment_id,
        order_reference="sandbox:1001",
        service_code=service_code,
        ship_from=BERLIN,
        ship_to=DESTINATIONS[destination],
        recipient=Contact(name="Erika Mustermann", email="erika@example.com"),
        parcels=parcels,
        label_format=label_format,
        declared_value=Money(amount=Decimal("49.90"), currency="EUR"),
        ship_date=ship_date or datetime.now(UTC),
        customs=None if destination in EU_CUSTOMS_UNION else CUSTOMS,
    )


CUSTOMS = Customs(
    items=(
        CustomsItem(
            sku="TEE-ORG-BLK-M",
            description="Organic cotton T-shirt",
            hs_code="610910",
            origin_country="PT",
            quantity=2,
            unit_value=Money(amount=Decimal("24.95"), currency="EUR"),
            unit_weight_grams=180,
        ),
    )
)


def make_carrier(tmp_path: Path, **settings: Any) -> SandboxCarrier:
    runtime = PluginRuntime(data_dir=tmp_path, config_dir=tmp_path)
    return SandboxCarrier(SandboxCarrierSettings(**settings), runtime)


def host_for(carrier: SandboxCarrier) -> PluginHost:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(carrier, name="carriers.sandbox")
    pm.check_pending()
    return PluginHost(pm, {"carriers.sandbox": carrier})


def tracking_number_with(scenario: Scenario, service: str = "SBX_STANDARD") -> str:
    for _ in range(10_000):
        number = new_tracking_number(SERVICES[service], Zone.EU)
        if scenario_of(number) is scenario:
            return number
    raise AssertionError(f"no {scenario} parcel in 10,000 tracking numbers")


# ----------------------------------------------------------------------------- rating


def test_zones_follow_the_countries():
    assert zone_of("DE", "DE") is Zone.DOMESTIC
    assert zone_of("DE", "FR") is Zone.EU
    assert zone_of("DE", "GB") is Zone.WORLD  # outside the customs union since 2021
    assert zone_of("DE", "US") is Zone.WORLD


def test_quotes_cover_every_service_and_cost_more_further_away(tmp_path):
    carrier = make_carrier(tmp_path)
    by_zone = {
        dest: {q.service_code: q for q in carrier.carrier_quote(rate_request(dest))}
        for dest in ("DE", "FR", "US")
    }
    for quotes in by_zone.values():
        assert set(quotes) == set(SERVICES)
        for quote in quotes.values():
            assert quote.carrier == "sandbox"
            assert quote.price.currency == "EUR"
            assert isinstance(quote.price.amount, Decimal)
    standard = [by_zone[d]["SBX_STANDARD"] for d in ("DE", "FR", "US")]
    assert standard[0].price.amount < standard[1].price.amount < standard[2].price.amount
    co2e = [q.co2e_grams or 0 for q in standard]
    assert 0 < co2e[0] < co2e[1] < co2e[2]
    assert [q.price.amount for q in standard] == [
        Decimal("5.99"),
        Decimal("13.49"),
        Decimal("27.99"),
    ]


def test_green_variant_is_flagged_and_priced_with_its_surcharge(tmp_path):
    quotes = {q.service_code: q for q in make_carrier(tmp_path).carrier_quote(rate_request())}
    green, standard = quotes["SBX_STANDARD_GREEN"], quotes["SBX_STANDARD"]
    assert green.eco_options == ("carbon_neutral",)
    assert standard.eco_options == ()
    assert green.price.amount == standard.price.amount + Decimal("0.25")
    # Compensated, not avoided: the physical estimate is the same network's.
    assert green.co2e_grams == standard.co2e_grams


def test_every_quote_is_labelled_in_pdf_or_zpl_for_any_number_of_parcels(tmp_path):
    carrier = make_carrier(tmp_path)
    for parcels in ((parcel(1200),), (parcel(1200), parcel(800))):
        for quote in carrier.carrier_quote(rate_request(parcels=parcels)):
            assert quote.label_formats == (LabelFormat.PDF, LabelFormat.ZPL)


def test_the_eco_option_is_printed_on_the_label_and_part_of_the_purchase(tmp_path):
    carrier = make_carrier(tmp_path)
    green = label_request(
        service_code="SBX_STANDARD_GREEN", label_format=LabelFormat.ZPL, parcels=(parcel(900),) * 2
    )
    mark = b"^FDCARBON NEUTRAL^FS"  # a field of its own, besides the service name
    label = carrier.carrier_buy_label(green.model_copy(update={"eco_option": "carbon_neutral"}))
    assert label.document.content.count(mark) == 2  # one per parcel
    plain = carrier.carrier_buy_label(green.model_copy(update={"idempotency_key": "label:plain"}))
    assert mark not in plain.document.content
    # The same key with another eco option is another purchase, refused as such.
    with pytest.raises(PermanentError, match="SBX-4090"):
        carrier.carrier_buy_label(green)


def test_an_eco_option_the_service_does_not_offer_is_refused_before_charging(tmp_path):
    carrier = make_carrier(tmp_path)
    with pytest.raises(PermanentError, match=r"SBX-4007: .*'carbon_neutral'.* SBX_STANDARD"):
        carrier.carrier_buy_label(
            label_request().model_copy(update={"eco_option": "carbon_neutral"})
        )
    assert carrier.charges() == []


@pytest.mark.parametrize(
    ("grams", "mm", "billable", "price"),
    [
        (500, (200, 150, 50), 500, "5.49"),  # first band: 300 g dimensional, 500 g actual
        (1200, (300, 200, 100), 1200, "5.99"),  # up to 2 kg
        (500, (500, 400, 300), 12_000, "13.99"),  # light but bulky: 60,000 cm3 / 5000 = 12 kg
        (500, (1000, 600, 400), 48_000, "27.99"),  # 48 kg dimensional: 18.99 + 18 kg x 0.50
    ],
)
def test_price_follows_billable_weight(tmp_path, grams, mm, billable, price):
    quotes = make_carrier(tmp_path).carrier_quote(rate_request(parcels=(parcel(grams, mm),)))
    standard = next(q for q in quotes if q.service_code == "SBX_STANDARD")
    assert standard.billable_weight_grams == billable
    assert standard.price.amount == Decimal(price)


def test_each_parcel_is_rated_on_its_own(tmp_path):
    one = make_carrier(tmp_path).carrier_quote(rate_request(parcels=(parcel(1200),)))
    two = make_carrier(tmp_path).carrier_quote(
        rate_request(parcels=(parcel(1200), parcel(500, (500, 400, 300))))
    )
    price = {q.service_code: q.price.amount for q in one}
    price_two = {q.service_code: q for q in two}
    assert price_two["SBX_STANDARD"].price.amount == price["SBX_STANDARD"] + Decimal("13.99")
    assert price_two["SBX_STANDARD"].billable_weight_grams == 1200 + 12_000


def test_co2e_is_tonne_km_times_intensity(tmp_path):
    quotes = make_carrier(tmp_path).carrier_quote(rate_request("DE", (parcel(1200),)))
    # 0.0012 t x (40 km x 412 g/tkm by van + 400 km x 95 g/tkm by truck) = 65.4 g
    assert {q.co2e_grams for q in quotes} == {65}


def test_estimated_delivery_is_transit_days_on_the_compressed_clock(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=20_000)
    quotes = {q.service_code: q for q in carrier.carrier_quote(rate_request("DE"))}
    for code, days in (("SBX_EXPRESS", 1), ("SBX_STANDARD", 2), ("SBX_ECONOMY", 4)):
        expected = T0 + timedelta(seconds=days * DAY / 20_000)
        assert quotes[code].estimated_delivery == expected
    eu = {q.service_code: q for q in carrier.carrier_quote(rate_request("FR"))}
    assert eu["SBX_ECONOMY"].estimated_delivery == T0 + timedelta(seconds=5 * DAY / 20_000)


@pytest.mark.parametrize(
    ("bad", "message"),
    [(parcel(30_001), "maximum is 30 kg"), (parcel(1000, (1201, 100, 100)), "maximum is 120 cm")],
)
def test_parcels_over_the_limits_are_refused(tmp_path, bad, message):
    carrier = make_carrier(tmp_path)
    with pytest.raises(PermanentError, match=message):
        carrier.carrier_quote(rate_request(parcels=(parcel(1000), bad)))
    with pytest.raises(PermanentError, match=f"parcel 2 .*{message}"):
        carrier.carrier_buy_label(label_request(parcels=(parcel(1000), bad)))
    assert carrier.charges() == []


# ----------------------------------------------------------------------------- labels


def test_pdf_label_has_one_page_per_parcel(tmp_path):
    carrier = make_carrier(tmp_path)
    label = carrier.carrier_buy_label(label_request(parcels=(parcel(1200), parcel(800))))
    content = label.document.content
    assert label.document.label_format is LabelFormat.PDF
    assert content.startswith(b"%PDF")
    assert content.count(b"/Type /Page\n") == 2
    assert len(label.tracking_numbers) == 2 and len(set(label.tracking_numbers)) == 2


def test_zpl_label_has_a_code128_barcode_per_parcel(tmp_path):
    carrier = make_carrier(tmp_path)
    request = label_request(label_format=LabelFormat.ZPL, parcels=(parcel(1200), parcel(800)))
    label = carrier.carrier_buy_label(request)
    text = label.document.content.decode()
    assert text.startswith("^XA")
    assert text.count("^XA") == text.count("^XZ") == 2
    for number in label.tracking_numbers:
        assert f"^BCN,200,Y,N,N,A^FD{number}^FS" in text


def test_unprintable_format_and_unknown_service_are_refused(tmp_path):
    carrier = make_carrier(tmp_path)
    with pytest.raises(PermanentError, match="PNG is not offered"):
        carrier.carrier_buy_label(label_request(label_format=LabelFormat.PNG))
    with pytest.raises(PermanentError, match="unknown service code"):
        carrier.carrier_buy_label(label_request(service_code="SBX_TELEPORT"))


def test_tracking_numbers_carry_service_zone_and_check_digit(tmp_path):
    label = make_carrier(tmp_path).carrier_buy_label(
        label_request(service_code="SBX_EXPRESS", destination="US")
    )
    (number,) = label.tracking_numbers
    decoded = parse_tracking_number(number)
    assert decoded.service.code == "SBX_EXPRESS" and decoded.zone is Zone.WORLD
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="check digit"):
        parse_tracking_number(wrong)


def test_same_key_and_request_returns_the_same_label_and_charges_once(tmp_path):
    carrier = make_carrier(tmp_path)
    first = carrier.carrier_buy_label(label_request(ship_date=T0))
    # A retry by the hub is rebuilt with a fresh ship_date: still the same purchase.
    again = carrier.carrier_buy_label(label_request(ship_date=T0 + timedelta(minutes=3)))
    assert again == first
    charges = carrier.charges()
    assert [(c.label_id, c.kind, c.amount) for c in charges] == [
        (first.label_id, "label", first.price)
    ]


def test_same_key_with_a_different_request_is_refused(tmp_path):
    carrier = make_carrier(tmp_path)
    carrier.carrier_buy_label(label_request())
    with pytest.raises(PermanentError, match="idempotency key reused with a different request"):
        carrier.carrier_buy_label(label_request(service_code="SBX_EXPRESS"))
    assert len(carrier.charges()) == 1


def test_concurrent_purchases_under_one_key_charge_once(tmp_path):
    carrier = make_carrier(tmp_path)
    request = label_request()
    with ThreadPoolExecutor(max_workers=8) as pool:
        labels = list(pool.map(lambda _: carrier.carrier_buy_label(request), range(8)))
    assert len({label.label_id for label in labels}) == 1
    assert len(carrier.charges()) == 1


def test_label_latency_delays_the_answer_after_the_charge(tmp_path):
    carrier = make_carrier(tmp_path, label_latency_seconds=0.05)
    started = time.monotonic()
    carrier.carrier_buy_label(label_request())
    assert time.monotonic() - started >= 0.05
    assert len(carrier.charges()) == 1


def test_find_label_by_key_or_shipment(tmp_path):
    carrier = make_carrier(tmp_path)
    bought = carrier.carrier_buy_label(label_request("key-1"))
    by_key = carrier.carrier_find_label(LabelLookup(idempotency_key="key-1", shipment_id="other"))
    by_shipment = carrier.carrier_find_label(
        LabelLookup(idempotency_key="key-unknown", shipment_id="S-1001-1")
    )
    assert by_key == bought and by_shipment == bought
    nothing = LabelLookup(idempotency_key="key-unknown", shipment_id="S-9")
    assert carrier.carrier_find_label(nothing) is None


# ----------------------------------------------------------------------------- voids


def test_void_before_pickup_refunds_once_and_cancels_tracking(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=1.0)  # real time: pickup is hours away
    label = carrier.carrier_buy_label(label_request())
    void = VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    first = carrier.carrier_void_label(void)
    again = carrier.carrier_void_label(void)
    assert first.voided and again.voided and again.message == "already voided"
    assert [c.kind for c in carrier.charges()] == ["label", "refund"]
    assert sum(c.amount.amount for c in carrier.charges()) == 0
    events = carrier.carrier_track(TrackRequest(tracking_number=label.tracking_numbers[0])).events
    assert [e.carrier_code for e in events] == ["LC", "VD"]
    assert events[-1].status is TrackingStatus.CANCELLED
    # Voided parcels are no longer found by shipment, only by their key.
    lookup = LabelLookup(idempotency_key="other", shipment_id="S-1001-1")
    assert carrier.carrier_find_label(lookup) is None


def test_void_after_pickup_is_refused(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=1e9)  # picked up microseconds after purchase
    label = carrier.carrier_buy_label(label_request())
    time.sleep(0.001)
    result = carrier.carrier_void_label(
        VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    )
    assert not result.voided and result.message == "already in the network"
    assert [c.kind for c in carrier.charges()] == ["label"]


def test_void_of_an_unknown_or_mismatched_label_is_refused(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=1.0)
    label = carrier.carrier_buy_label(label_request())
    with pytest.raises(PermanentError, match="unknown label"):
        carrier.carrier_void_label(VoidRequest(label_id="SBLNOPE", tracking_numbers=()))
    with pytest.raises(PermanentError, match="do not all belong"):
        carrier.carrier_void_label(
            VoidRequest(label_id=label.label_id, tracking_numbers=("SB210000000000000",))
        )


# ----------------------------------------------------------------------------- tracking


def test_timeline_moves_forward_and_ends_delivered():
    number = tracking_number_with(Scenario.ON_TIME)
    clock = 20_000.0
    journey = schedule(number, T0, clock, ROUTE)
    seen: list[str] = []
    for step in range(200):
        now = T0 + timedelta(seconds=step * 0.1)
        events = timeline(number, T0, now, clock, ROUTE)
        assert all(e.occurred_at <= now for e in events)
        assert events == journey[: len(events)]  # only ever grows at the end
        assert len(events) >= len(seen)
        seen = [e.carrier_code for e in events]
    assert seen[0] == "LC" and seen[-1] == "DL"
    assert [e.status for e in journey][-3:] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    promised = T0 + timedelta(seconds=3 * DAY / clock)  # standard to the EU: 3 days
    assert journey[0].estimated_delivery == promised
    assert journey[-1].occurred_at < promised
    locations = {e.location for e in journey}
    assert {"Berlin, DE", "Leipzig hub, DE", "Paris-Roissy hub, FR", "Paris, FR"} <= locations


def test_delayed_parcels_report_weather_and_a_later_estimate():
    number = tracking_number_with(Scenario.DELAYED)
    journey = schedule(number, T0, 1.0, ROUTE)
    promised = journey[0].estimated_delivery
    assert promised is not None
    (delay,) = [e for e in journey if e.carrier_code == "XW"]
    assert delay.status is TrackingStatus.EXCEPTION and "Weather delay" in delay.description
    assert delay.estimated_delivery is not None and delay.estimated_delivery > promised
    assert journey[-1].status is TrackingStatus.DELIVERED
    assert journey[-1].occurred_at > promised


def test_failed_attempt_is_followed_by_delivery_the_next_day():
    number = tracking_number_with(Scenario.FAILED_ATTEMPT)
    journey = schedule(number, T0, 1.0, ROUTE)
    codes = [e.carrier_code for e in journey]
    assert codes[-4:] == ["OD", "NH", "OD", "DL"]
    first_out, failed, second_out, delivered = journey[-4:]
    assert failed.status is TrackingStatus.DELIVERY_FAILED
    assert first_out.occurred_at < failed.occurred_at < second_out.occurred_at
    assert second_out.occurred_at - first_out.occurred_at == timedelta(days=1)
    assert delivered.occurred_at > second_out.occurred_at
    assert first_out.estimated_delivery is not None
    assert failed.estimated_delivery == first_out.estimated_delivery + timedelta(days=1)


def test_scenarios_come_in_the_configured_shares():
    numbers = [new_tracking_number(SERVICES["SBX_STANDARD"], Zone.EU) for _ in range(3000)]
    shares = {s: sum(scenario_of(n) is s for n in numbers) / 3000 for s in Scenario}
    assert 0.05 < shares[Scenario.DELAYED] < 0.11  # about 8%
    assert 0.02 < shares[Scenario.FAILED_ATTEMPT] < 0.06  # about 4%
    always = Scenarios(delay_rate=1.0, failed_attempt_rate=0.0)
    assert {scenario_of(n, always) for n in numbers[:50]} == {Scenario.DELAYED}


def test_pickup_is_the_first_scan():
    number = tracking_number_with(Scenario.ON_TIME)
    scan = first_scan_at(number, T0, 1.0, ROUTE)
    assert timedelta(hours=2) <= scan - T0 < timedelta(hours=6)
    assert [e.carrier_code for e in timeline(number, T0, scan, 1.0, ROUTE)] == ["LC", "PU"]


def test_tracking_through_the_hook_on_a_fast_clock_reaches_delivered(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=1e9)  # a 6-day journey lasts 0.5 ms
    label = carrier.carrier_buy_label(label_request(service_code="SBX_ECONOMY", destination="US"))
    request = TrackRequest(tracking_number=label.tracking_numbers[0])
    deadline = time.monotonic() + 2
    events = carrier.carrier_track(request).events
    while events[-1].status is not TrackingStatus.DELIVERED and time.monotonic() < deadline:
        time.sleep(0.001)
        events = carrier.carrier_track(request).events
    assert events[0].carrier_code == "LC" and events[-1].status is TrackingStatus.DELIVERED
    assert "CC" in [e.carrier_code for e in events]  # outside the EU: customs
    assert all(a.occurred_at < b.occurred_at for a, b in itertools.pairwise(events))


def test_configured_delay_rate_reaches_the_journey(tmp_path):
    carrier = make_carrier(tmp_path, clock_speed=1e9, delay_rate=1.0, failed_attempt_rate=0.0)
    label = carrier.carrier_buy_label(label_request())
    time.sleep(0.002)
    events = carrier.carrier_track(TrackRequest(tracking_number=label.tracking_numbers[0])).events
    assert "XW" in [e.carrier_code for e in events]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1Z999AA10123456784", "not a sandbox tracking number"),
        ("SB210000000000001", "check digit"),
        (new_tracking_number(SERVICES["SBX_STANDARD"], Zone.DOMESTIC), "unknown tracking number"),
    ],
)
def test_unknown_tracking_numbers_are_refused(tmp_path, number, message):
    with pytest.raises(PermanentError, match=message):
        make_carrier(tmp_path).carrier_track(TrackRequest(tracking_number=number))


@settings(max_examples=200, deadline=None)
@given(
    service=st.sampled_from(sorted(SERVICES)),
    zone=st.sampled_from(list(Zone)),
    serial=st.integers(min_value=0, max_value=10**12 - 1),
    clock_speed=st.floats(min_value=1.0, max_value=1e9),
    simulated_offsets=st.lists(st.floats(min_value=0, max_value=12 * DAY), max_size=30),
)
def test_timeline_never_moves_backwards(service, zone, serial, clock_speed, simulated_offsets):
    body = f"{SERVICES[service].digit}{zone.digit}{serial:012d}"
    number = f"SB{body}{luhn_check_digit(body)}"
    seen: list[TrackingEvent] = []
    status = TrackingStatus.UNKNOWN
    for offset in sorted(simulated_offsets):
        now = T0 + timedelta(seconds=offset / clock_speed)
        events = timeline(number, T0, now, clock_speed, ROUTE)
        assert events[: len(seen)] == seen  # nothing seen before changes or goes away
        ranks = [PROGRESS_RANK[e.status] for e in events]
        assert ranks == sorted(ranks)
        for event in events[len(seen) :]:
            assert PROGRESS_RANK[advance(status, event)] >= PROGRESS_RANK[status]
            status = advance(status, event)
        seen = events


# ----------------------------------------------------------------------------- webhooks


def webhook(headers: dict[str, str], body: bytes) -> WebhookRequest:
    return WebhookRequest(plugin="sandbox", headers=headers, body=body, received_at=T0)


def test_signed_tracking_push_is_verified_and_mapped(tmp_path):
    carrier = make_carrier(tmp_path, webhook_secret="s3cret")
    events = schedule(tracking_number_with(Scenario.FAILED_ATTEMPT), T0, 1.0, ROUTE)
    headers, body = carrier.signed_tracking_webhook(events)
    update = carrier.carrier_parse_tracking_webhook(webhook(headers, body))
    assert list(update.events) == events


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-sandbox-signature": "bm90IGl0"}, {"x-sandbox-signature": "ünïcode"}],
)
def test_push_with_a_bad_or_missing_signature_is_refused(tmp_path, headers):
    carrier = make_carrier(tmp_path)
    _, body = carrier.signed_tracking_webhook(
        schedule(tracking_number_with(Scenario.ON_TIME), T0, 1.0, ROUTE)
    )
    with pytest.raises(PermanentError, match="invalid signature"):
        carrier.carrier_parse_tracking_webhook(webhook(headers, body))


def test_push_signed_with_another_secret_is_refused(tmp_path):
    sender = make_carrier(tmp_path / "a", webhook_secret="one")
    receiver = make_carrier(tmp_path / "b", webhook_secret="two")
    headers, body = sender.signed_tracking_webhook([])
    with pytest.raises(PermanentError, match="invalid signature"):
        receiver.carrier_parse_tracking_webhook(webhook(headers, body))


def test_malformed_push_names_the_field(tmp_path):
    carrier = make_carrier(tmp_path)
    body = b'{"events": [{"tracking_number": "SB1", "code": "DL", "occurred_at": "yesterday"}]}'
    headers = {SIGNATURE_HEADER: signature("sandbox-carrier-dev-secret", body)}
    with pytest.raises(PermanentError, match=r"events\.0\.occurred_at"):
        carrier.carrier_parse_tracking_webhook(webhook(headers, body))
    not_json = b"<xml/>"
    headers = {SIGNATURE_HEADER: signature("sandbox-carrier-dev-secret", not_json)}
    with pytest.raises(PermanentError, match="not JSON"):
        carrier.carrier_parse_tracking_webhook(webhook(headers, not_json))


# ----------------------------------------------------------------------------- settings, host


def test_settings_refuse_typos_and_impossible_rates():
    with pytest.raises(ValidationError):
        SandboxCarrierSettings.model_validate({"clock_sped": 5})
    with pytest.raises(ValidationError, match="must not exceed 1"):
        SandboxCarrierSettings(delay_rate=0.7, failed_attempt_rate=0.5)
    with pytest.raises(ValidationError):
        SandboxCarrierSettings(clock_speed=0)
    assert "dev-secret" not in repr(SandboxCarrierSettings())


async def test_quote_and_buy_through_the_plugin_host(tmp_path):
    carrier = make_carrier(tmp_path)
    host = host_for(carrier)
    quotes = await host.quote("sandbox", rate_request("FR", ship_date=datetime.now(UTC)))
    cheapest = quotes[0]
    assert cheapest.service_code == "SBX_ECONOMY"
    request = label_request(service_code=cheapest.service_code, destination="FR")
    label = await host.buy_label("sandbox", request)
    again = await host.buy_label("sandbox", request)
    assert again.tracking_numbers == label.tracking_numbers
    assert label.price == cheapest.price
    assert label.document.content.startswith(b"%PDF")
    found = await host.find_label(
        "sandbox", LabelLookup(idempotency_key=request.idempotency_key, shipment_id="x")
    )
    assert found == label
    update = await host.track("sandbox", TrackRequest(tracking_number=label.tracking_numbers[0]))
    assert update.events[0].carrier_code == "LC"
    assert len(carrier.charges()) == 1


class TestSandboxCarrierContract(CarrierContract):
    @pytest.fixture
    def plugin(self, tmp_path: Path) -> SandboxCarrier:
        return make_carrier(tmp_path)


def test_a_parcel_leaving_the_customs_union_needs_a_declaration(tmp_path):
    carrier = make_carrier(tmp_path)
    undeclared = label_request(destination="US").model_copy(update={"customs": None})
    with pytest.raises(PermanentError, match="SBX-4006: customs"):
        carrier.carrier_buy_label(undeclared)
    assert carrier.charges() == []


def test_a_label_abroad_comes_with_its_cn23_and_a_label_at_home_without(tmp_path):
    carrier = make_carrier(tmp_path)
    abroad = carrier.carrier_buy_label(label_request(destination="US"))
    (cn23,) = abroad.papers
    assert cn23.kind is DocumentKind.CUSTOMS_DECLARATION
    assert cn23.label_format is LabelFormat.PDF and cn23.content.startswith(b"%PDF")
    for printed in (b"CN 23", b"Organic cotton T-shirt", b"610910", b"PT", b"49.90 EUR", b"DAP"):
        assert printed in cn23.content, printed
    assert abroad.tracking_numbers[0].encode() in cn23.content
    # The same key gets the same papers back, from the store.
    assert carrier.carrier_buy_label(label_request(destination="US")).papers == abroad.papers
    home = carrier.carrier_buy_label(label_request("label:other", destination="FR"))
    assert home.papers == ()


def test_the_cn23_declares_what_the_buyer_paid_for_shipping(tmp_path):
    charged = CUSTOMS.model_copy(
        update={"shipping_charges": Money(amount=Decimal("4.90"), currency="EUR")}
    )
    request = label_request(destination="US").model_copy(update={"customs": charged})
    (cn23,) = make_carrier(tmp_path).carrier_buy_label(request).papers
    assert b"Postal charges/fees" in cn23.content and b"4.90 EUR" in cn23.content


def test_a_store_from_before_papers_is_upgraded_in_place(tmp_path):
    carrier = make_carrier(tmp_path)
    path = carrier.store.path
    with sqlite3.connect(path) as conn:  # the version 1 file: no papers table
        conn.execute("DROP TABLE papers")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    reopened = make_carrier(tmp_path)
    label = reopened.carrier_buy_label(label_request(destination="US"))
    assert len(label.papers) == 1
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == "2"

"""The DHL Parcel DE adapter against respx-mocked DHL APIs, over payloads built from DHL's own
specs and examples (Parcel DE Shipping v2 OpenAPI 2.1.13, Authentication API 2.0.5, Shipment
Tracking - Unified; fixtures in tests/plugins/fixtures/dhl)."""

from __future__ import annotations

import base64
import copy
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.domain.address import Address, Contact
from hub.domain.customs import ContentsType, Customs, CustomsItem, Incoterm
from hub.domain.messages import (
    LabelLookup,
    LabelRequest,
    RateRequest,
    TrackRequest,
    VoidRequest,
)
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, DocumentKind, LabelFormat, Parcel
from hub.domain.tracking import TrackingStatus
from hub.errors import AmbiguousOutcomeError, PermanentError, TransientError
from hub.plugin import PluginRuntime
from plugins.carriers.dhl import DhlCarrier, DhlSettings, mapping, responses, tracking
from tests.contract.carrier import CarrierContract
from tests.contract.common import host_for

FIXTURES = Path(__file__).parent / "fixtures" / "dhl"
BASE = "https://api-sandbox.dhl.com"
ORDERS = "/parcel/de/shipping/v2/orders"
TOKEN = "/parcel/de/account/auth/ropc/v1/token"
TRACK_URL = "https://api-eu.dhl.com/track/shipments"
NUMBER = "340434310428091700"
BERLIN = ZoneInfo("Europe/Berlin")
T = TrackingStatus


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


DOCS = fixture("label_documents.json")
PDF = base64.b64decode(DOCS["pdf"])


def answer(items: list[dict[str, Any]], status: int | None = None) -> httpx.Response:
    """A ``LabelDataResponse`` for the given items: 200 for one, 207 (multistatus) for more."""
    code = status or (200 if len(items) == 1 else 207)
    title = {200: "OK", 207: "Multistatus", 400: "Bad Request"}[code]
    body = {"status": {"title": title, "statusCode": code, "status": code}, "items": items}
    return httpx.Response(code, json=body)


def shipments_of(request: httpx.Request) -> list[dict[str, Any]]:
    shipments: list[dict[str, Any]] = json.loads(request.content)["shipments"]
    return shipments


def all_valid(request: httpx.Request) -> httpx.Response:
    return answer([fixture("validate_item_ok.json") for _ in shipments_of(request)])


def error(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=fixture(name), headers=headers)


# --------------------------------------------------------------------------- fixtures


PRICES = [
    {"product": "V01PAK", "max_weight_grams": 2000, "price": "5.19", "transit_days": 1},
    {"product": "V01PAK", "max_weight_grams": 31500, "price": "9.49"},
    {"product": "V62KP", "max_weight_grams": 1000, "price": "3.99"},
    {"product": "V53WPAK", "max_weight_grams": 5000, "price": "17.99", "destinations": ["GB"]},
    {"product": "V66WPI", "max_weight_grams": 1000, "price": "6.90"},
]


def make_settings(**overrides: Any) -> DhlSettings:
    values: dict[str, Any] = {
        "api_key": "hub-test-api-key",
        "api_secret": "hub-test-api-secret",
        "username": "user-valid",
        "password": "hub-test-gkp-password",
        "ekp": "3333333333",
        "participation": {"V53WPAK": "02"},
        "prices": PRICES,
        # Tests must not wait on the client-side pacing (DHL's own limits are 429-tested).
        "requests_per_second": 1000,
        "tracking_requests_per_second": 1000,
    }
    return DhlSettings.model_validate(values | overrides)


@pytest.fixture
def runtime(tmp_path: Path) -> PluginRuntime:
    return PluginRuntime(data_dir=tmp_path, config_dir=tmp_path)


@pytest.fixture
def dhl() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(TOKEN, name="token").respond(json=fixture("oauth_token.json"))
        router.post(ORDERS, params={"validate": "true"}, name="validate").mock(
            side_effect=all_valid
        )
        router.post(ORDERS, name="create").respond(json=fixture("create_pdf.json"))
        router.delete(ORDERS, name="delete").respond(json=fixture("delete_ok.json"))
        router.get(TRACK_URL, name="track").respond(json=fixture("track_delivered.json"))
        yield router


@pytest.fixture
async def plugin(dhl: respx.MockRouter, runtime: PluginRuntime) -> AsyncIterator[DhlCarrier]:
    carrier = DhlCarrier(make_settings(), runtime)
    yield carrier
    await carrier.aclose()


def warehouse() -> Address:
    return Address(
        name="Versand",
        company="Hub Fulfilment GmbH",
        line1="Lagerstrasse 5",
        line2="Halle 3",
        city="Berlin",
        postal_code="10115",
        country="DE",
    )


def customer(**overrides: Any) -> Address:
    values: dict[str, Any] = {
        "name": "Erika Mustermann",
        "line1": "Heidestrasse 17",
        "line2": "3. Etage",
        "city": "Koeln",
        "postal_code": "51147",
        "country": "DE",
    }
    return Address(**(values | overrides))


def london() -> Address:
    return Address(
        name="Joe Black",
        line1="10 Downing Street",
        city="London",
        postal_code="SW1A 2AA",
        country="GB",
    )


PARCEL = Parcel(
    weight_grams=1200, dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=100)
)
SHIP_DATE = datetime(2099, 6, 23, 13, 0, tzinfo=UTC)
"""Far ahead, so ``shipDate`` is never moved to today."""


def rate_request(**overrides: Any) -> RateRequest:
    values: dict[str, Any] = {
        "shipment_id": "S-1001-1",
        "ship_from": warehouse(),
        "ship_to": customer(),
        "parcels": (PARCEL,),
        "service_level": "standard",
        "ship_date": SHIP_DATE,
        "declared_value": Money(amount=Decimal("49.90"), currency="EUR"),
    }
    return RateRequest(**(values | overrides))


def customs(**overrides: Any) -> Customs:
    values: dict[str, Any] = {
        "contents": ContentsType.MERCHANDISE,
        "incoterm": Incoterm.DAP,
        "invoice_number": "INV-1001",
        "items": (
            CustomsItem(
                sku="TS-RED-M",
                description="Red T-Shirt, cotton",
                hs_code="61091000",
                origin_country="FR",
                quantity=2,
                unit_value=Money(amount=Decimal("12.50"), currency="EUR"),
                unit_weight_grams=250,
            ),
        ),
    }
    return Customs(**(values | overrides))


def label_request(**overrides: Any) -> LabelRequest:
    values: dict[str, Any] = {
        "idempotency_key": "label:shopify:1001:S-1001-1",
        "shipment_id": "S-1001-1",
        "order_reference": "shopify:1001",
        "service_code": "V01PAK",
        "ship_from": warehouse(),
        "ship_to": customer(),
        "recipient": Contact(name="Erika Mustermann", email="erika@example.com", phone="+49 221 1"),
        "parcels": (PARCEL,),
        "label_format": LabelFormat.PDF,
        "declared_value": Money(amount=Decimal("49.90"), currency="EUR"),
        "ship_date": SHIP_DATE,
    }
    return LabelRequest(**(values | overrides))


def sent(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def query(route: respx.Route, index: int = -1) -> httpx.QueryParams:
    params: httpx.QueryParams = route.calls[index].request.url.params
    return params


# --------------------------------------------------------------------------- settings


def test_settings_need_a_secret_for_oauth_and_refuse_png() -> None:
    with pytest.raises(ValidationError, match="api_secret is required"):
        make_settings(api_secret=None)
    make_settings(auth="basic", api_secret=None)
    with pytest.raises(ValidationError, match="PDF and ZPL2"):
        make_settings(label_format="PNG")
    with pytest.raises(ValidationError, match="two letters or digits"):
        make_settings(participation={"V01PAK": "1"})
    with pytest.raises(ValidationError):
        make_settings(unknown_key=1)
    with pytest.raises(ValidationError):
        make_settings(prices=[])
    with pytest.raises(ValidationError, match="IANA"):
        make_settings(tracking_timezone="Mars/Olympus")


def test_secrets_stay_secret_and_billing_numbers_compose() -> None:
    config = make_settings()
    for secret in ("hub-test-api-key", "hub-test-api-secret", "hub-test-gkp-password"):
        assert secret not in repr(config)
    assert config.billing_number("V01PAK", "01") == "33333333330101"
    assert config.billing_number("V53WPAK", "53") == "33333333335302"


def test_ref_no_keeps_short_keys_and_hashes_long_ones() -> None:
    assert mapping.ref_no("label:shopify:1001:S-1001-1", 0, 1) == "label:shopify:1001:S-1001-1"
    assert mapping.ref_no("label:shopify:1001:S-1001-1", 1, 2) == "label:shopify:1001:S-1001-1-2"
    long_key = "label:amazon:123-4567890-1234567:S-123-4567890-1234567-1"
    hashed = mapping.ref_no(long_key, 0, 1)
    assert hashed.startswith("hub-") and len(hashed) == 35
    assert hashed == mapping.ref_no(long_key, 0, 1)  # stable across retries
    assert len(mapping.ref_no("short", 0, 1)) == 35  # under refNo's 8-character minimum


def test_ship_date_is_never_in_the_past() -> None:
    today = date(2026, 6, 23)
    late_evening = datetime(2026, 6, 22, 23, 30, tzinfo=UTC)  # 01:30 on the 23rd in Berlin
    assert mapping.ship_date(late_evening, BERLIN, today) == today
    assert mapping.ship_date(datetime(2026, 6, 1, tzinfo=UTC), BERLIN, today) == today
    assert mapping.ship_date(datetime(2026, 6, 25, 9, tzinfo=UTC), BERLIN, today) == date(
        2026, 6, 25
    )


# --------------------------------------------------------------------------- quotes


async def test_quote_dry_runs_each_priced_product_and_its_gogreen_variant(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    quotes = await plugin.carrier_quote(rate_request())

    # V62KP's price line stops at 1 kg: the 1.2 kg parcel is not even sent for it.
    assert dhl["validate"].call_count == 1
    body = sent(dhl["validate"])
    assert body["profile"] == "STANDARD_GRUPPENPROFIL"
    plain, eco = body["shipments"]
    assert plain == {
        "product": "V01PAK",
        "billingNumber": "33333333330101",
        "shipDate": "2099-06-23",
        "shipper": {
            "name1": "Hub Fulfilment GmbH",
            "name2": "Versand",
            "addressStreet": "Lagerstrasse 5",
            "city": "Berlin",
            "name3": "Halle 3",
            "postalCode": "10115",
            "country": "DEU",
        },
        "consignee": {
            "name1": "Erika Mustermann",
            "addressStreet": "Heidestrasse 17",
            "city": "Koeln",
            "additionalAddressInformation1": "3. Etage",
            "postalCode": "51147",
            "country": "DEU",
        },
        "details": {
            "weight": {"uom": "g", "value": 1200},
            "dim": {"uom": "mm", "length": 300, "width": 200, "height": 100},
        },
    }
    assert eco == plain | {"services": {"goGreenPlus": True}}
    request = dhl["validate"].calls.last.request
    assert request.headers["authorization"] == "Bearer UtN71yyK8y8tuargZzmttyx8Y7Lp"
    assert request.headers["accept-language"] == "en-US"
    assert "dhl-api-key" not in request.headers

    (quote,) = quotes
    assert quote.carrier == "dhl" and quote.service_code == "V01PAK"
    assert quote.service_name == "DHL Paket"
    assert quote.price == Money(amount=Decimal("5.19"), currency="EUR")
    assert quote.eco_options == ("gogreen_plus",)
    assert quote.co2e_grams is None
    assert quote.billable_weight_grams == 1200
    assert quote.estimated_delivery == datetime(2099, 6, 24, 16, tzinfo=UTC)  # 18:00 CEST


async def test_gogreen_plus_refused_by_dhl_is_not_offered(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["validate"].mock(
        side_effect=lambda _: answer(
            [fixture("validate_item_warning.json"), fixture("validate_item_gogreen_error.json")]
        )
    )
    (quote,) = await plugin.carrier_quote(rate_request())
    assert quote.eco_options == ()


async def test_products_dhl_refuses_are_not_quoted(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    light = Parcel(
        weight_grams=800, dimensions=Dimensions(length_mm=250, width_mm=170, height_mm=30)
    )
    ok, refused = fixture("validate_item_ok.json"), fixture("validate_item_weight_error.json")
    # V01PAK plain + eco, then V62KP plain + eco: DHL takes V01PAK only.
    dhl["validate"].mock(side_effect=lambda _: answer([ok, ok, refused, refused]))
    quotes = await plugin.carrier_quote(rate_request(parcels=(light,)))
    assert [q.service_code for q in quotes] == ["V01PAK"]
    assert [s["product"] for s in sent(dhl["validate"])["shipments"]] == [
        "V01PAK",
        "V01PAK",
        "V62KP",
        "V62KP",
    ]


async def test_when_dhl_refuses_everything_the_error_names_the_property(
    runtime: PluginRuntime, dhl: respx.MockRouter
) -> None:
    carrier = DhlCarrier(make_settings(gogreen_plus=False), runtime)
    dhl["validate"].mock(
        side_effect=lambda _: httpx.Response(400, json=fixture("validate_error_postal_code.json"))
    )
    with pytest.raises(PermanentError) as caught:
        await carrier.carrier_quote(rate_request())
    message = str(caught.value)
    assert "V01PAK: consignee.postalCode: Please enter a valid postcode." in message
    assert "consignee.city: The city does not match the postcode." in message
    await carrier.aclose()


async def test_a_schema_error_without_items_is_permanent(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["validate"].mock(return_value=error(400, "error_400_schema.json"))
    with pytest.raises(PermanentError, match=r"HTTP 400: JSON schema validation failed"):
        await plugin.carrier_quote(rate_request())


async def test_quote_abroad_dry_runs_international_products_with_a_stand_in_declaration(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    light = Parcel(
        weight_grams=900, dimensions=Dimensions(length_mm=250, width_mm=170, height_mm=30)
    )
    quotes = await plugin.carrier_quote(rate_request(ship_to=london(), parcels=(light,)))
    shipments = sent(dhl["validate"])["shipments"]
    assert [s["product"] for s in shipments] == ["V53WPAK", "V53WPAK", "V66WPI", "V66WPI"]
    assert shipments[0]["billingNumber"] == "33333333335302"
    assert shipments[0]["consignee"]["country"] == "GBR"
    assert shipments[0]["customs"] == {
        "exportType": "COMMERCIAL_GOODS",
        "postalCharges": {"currency": "EUR", "value": 0},
        "items": [
            {
                "itemDescription": "Merchandise",
                "packagedQuantity": 1,
                "itemValue": {"currency": "EUR", "value": 49.9},
                "itemWeight": {"uom": "g", "value": 900},
            }
        ],
    }
    assert [(q.service_code, q.price.amount) for q in quotes] == [
        ("V53WPAK", Decimal("17.99")),
        ("V66WPI", Decimal("6.90")),
    ]


async def test_quotes_say_several_parcels_are_labelled_in_zpl_only(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    (one,) = {q.label_formats for q in await plugin.carrier_quote(rate_request())}
    assert one == (LabelFormat.PDF, LabelFormat.ZPL)
    (two,) = {
        q.label_formats for q in await plugin.carrier_quote(rate_request(parcels=(PARCEL,) * 2))
    }
    assert two == (LabelFormat.ZPL,)


async def test_what_a_label_would_refuse_is_not_quoted(
    runtime: PluginRuntime, dhl: respx.MockRouter
) -> None:
    light = Parcel(
        weight_grams=900, dimensions=Dimensions(length_mm=250, width_mm=170, height_mm=30)
    )
    carrier = DhlCarrier(make_settings(), runtime)
    forced = DhlCarrier(make_settings(label_format="PDF"), runtime)
    try:
        with pytest.raises(PermanentError, match="parcels: each parcel is its own DHL shipment"):
            await carrier.carrier_quote(rate_request(ship_to=london(), parcels=(light, light)))
        with pytest.raises(PermanentError, match=r"parcels: .* label_format is PDF"):
            await forced.carrier_quote(rate_request(parcels=(PARCEL, PARCEL)))
        (one,) = {q.label_formats for q in await forced.carrier_quote(rate_request())}
    finally:
        await carrier.aclose()
        await forced.aclose()
    assert one == (LabelFormat.PDF,)
    assert dhl["validate"].call_count == 1  # only the one-parcel quote was dry run


async def test_quote_within_the_eu_needs_no_declaration(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    paris = customer(city="Paris", postal_code="75001", country="FR")
    quotes = await plugin.carrier_quote(rate_request(ship_to=paris))
    # V53WPAK is priced for GB only; V66WPI stops at 1 kg: nothing priced for France.
    assert quotes == [] and not dhl["validate"].called
    small = Parcel(weight_grams=500, dimensions=PARCEL.dimensions)
    await plugin.carrier_quote(rate_request(ship_to=paris, parcels=(small,)))
    assert all("customs" not in s for s in sent(dhl["validate"])["shipments"])


async def test_quote_from_outside_germany_is_refused(plugin: DhlCarrier) -> None:
    vienna = customer(city="Wien", postal_code="1010", country="AT")
    with pytest.raises(PermanentError, match=r"ship_from.country: .* not AT"):
        await plugin.carrier_quote(rate_request(ship_from=vienna))


async def test_many_parcels_are_dry_run_thirty_shipments_at_a_time(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    quotes = await plugin.carrier_quote(rate_request(parcels=(PARCEL,) * 16))
    assert dhl["validate"].call_count == 2  # 16 parcels x (plain + GoGreen Plus) = 32
    assert [len(sent(dhl["validate"], i)["shipments"]) for i in range(2)] == [30, 2]
    assert quotes[0].price.amount == Decimal("83.04")  # 16 x 5.19
    assert quotes[0].billable_weight_grams == 16 * 1200


async def test_an_address_dhl_could_not_take_is_refused_before_any_call(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    long_street = customer(line1="Heidestrasse 17, Hinterhaus, Aufgang B, bei Familie Muster")
    with pytest.raises(PermanentError, match=r"ship_to.line1: .* 50 characters"):
        await plugin.carrier_quote(rate_request(ship_to=long_street))
    assert not dhl.calls


# --------------------------------------------------------------------------- auth


async def test_the_token_is_fetched_once_with_the_password_grant(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    await plugin.carrier_quote(rate_request())
    await plugin.carrier_buy_label(label_request())
    assert dhl["token"].call_count == 1
    form = dict(httpx.QueryParams(dhl["token"].calls.last.request.content.decode()))
    assert form == {
        "grant_type": "password",
        "username": "user-valid",
        "password": "hub-test-gkp-password",
        "client_id": "hub-test-api-key",
        "client_secret": "hub-test-api-secret",
    }


async def test_a_401_refreshes_the_token_and_retries_once(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    await plugin.carrier_quote(rate_request())  # token cached
    dhl["create"].mock(
        side_effect=[
            error(401, "error_401.json"),
            httpx.Response(200, json=fixture("create_pdf.json")),
        ]
    )
    label = await plugin.carrier_buy_label(label_request())
    assert label.tracking_numbers == (NUMBER,)
    assert dhl["create"].call_count == 2
    assert dhl["token"].call_count == 2


async def test_a_second_401_is_permanent(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["validate"].mock(return_value=error(401, "error_401.json"))
    with pytest.raises(PermanentError, match="HTTP 401: Unauthorized for given resource"):
        await plugin.carrier_quote(rate_request())
    assert dhl["validate"].call_count == 2


async def test_refused_credentials_are_permanent(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["token"].respond(401, json=fixture("oauth_error_401.json"))
    with pytest.raises(PermanentError, match="DHL OAuth token: HTTP 401: Invalid client"):
        await plugin.carrier_quote(rate_request())
    assert not dhl["validate"].called


async def test_basic_auth_sends_the_api_key_and_the_portal_user(
    runtime: PluginRuntime, dhl: respx.MockRouter
) -> None:
    carrier = DhlCarrier(make_settings(auth="basic", api_secret=None), runtime)
    await carrier.carrier_quote(rate_request())
    headers = dhl["validate"].calls.last.request.headers
    assert headers["dhl-api-key"] == "hub-test-api-key"
    user, password = base64.b64decode(headers["authorization"].removeprefix("Basic ")).split(b":")
    assert (user, password) == (b"user-valid", b"hub-test-gkp-password")
    assert not dhl["token"].called
    dhl["validate"].mock(return_value=error(401, "error_401.json"))
    with pytest.raises(PermanentError, match="HTTP 401"):
        await carrier.carrier_quote(rate_request())
    assert dhl["validate"].call_count == 2  # nothing to refresh: no second try
    await carrier.aclose()


# --------------------------------------------------------------------------- transient errors


async def test_429_is_transient_with_retry_after(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["validate"].mock(return_value=error(429, "error_429.json", **{"Retry-After": "7"}))
    with pytest.raises(TransientError, match="Quota limit exceeded") as caught:
        await plugin.carrier_quote(rate_request())
    assert caught.value.retry_after == 7.0


async def test_5xx_on_a_dry_run_is_transient(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["validate"].mock(return_value=error(500, "error_500.json"))
    with pytest.raises(TransientError, match="HTTP 500"):
        await plugin.carrier_quote(rate_request())


async def test_a_timeout_on_a_dry_run_is_transient(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["validate"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(TransientError, match="ReadTimeout"):
        await plugin.carrier_quote(rate_request())


async def test_label_purchase_timeout_is_ambiguous(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError, match="refNo label:shopify:1001:S-1001-1"):
        await plugin.carrier_buy_label(label_request())
    assert dhl["create"].call_count == 1  # never resent


async def test_label_purchase_that_never_left_is_transient(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(TransientError, match="could not connect"):
        await plugin.carrier_buy_label(label_request())


async def test_label_purchase_500_is_ambiguous_but_503_is_transient(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].mock(return_value=error(500, "error_500.json"))
    with pytest.raises(AmbiguousOutcomeError, match="HTTP 500 after the request reached DHL"):
        await plugin.carrier_buy_label(label_request())
    dhl["create"].mock(return_value=error(503, "error_503.json"))
    with pytest.raises(TransientError, match="HTTP 503"):
        await plugin.carrier_buy_label(label_request())


# --------------------------------------------------------------------------- labels


async def test_pdf_label(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    label = await plugin.carrier_buy_label(label_request())

    body = sent(dhl["create"])
    (shipment,) = body["shipments"]
    assert shipment["refNo"] == "label:shopify:1001:S-1001-1"
    assert shipment["product"] == "V01PAK" and shipment["billingNumber"] == "33333333330101"
    assert "services" not in shipment and "customs" not in shipment
    # No recipient contact without share_recipient_contact (GDPR consent).
    assert "email" not in shipment["consignee"] and "phone" not in shipment["consignee"]
    assert dict(query(dhl["create"])) == {
        "docFormat": "PDF",
        "includeDocs": "include",
        "mustEncode": "false",
    }
    assert label.label_id == NUMBER and label.tracking_numbers == (NUMBER,)
    assert label.service_code == "V01PAK"
    assert label.price == Money(amount=Decimal("5.19"), currency="EUR")
    assert label.document.label_format is LabelFormat.PDF and label.document.content == PDF
    assert label.tracking_url is not None and label.tracking_url.endswith(f"piececode={NUMBER}")


async def test_gogreen_plus_and_print_format(runtime: PluginRuntime, dhl: respx.MockRouter) -> None:
    carrier = DhlCarrier(
        make_settings(print_format="910-300-400", share_recipient_contact=True), runtime
    )
    await carrier.carrier_buy_label(label_request(eco_option="gogreen_plus"))
    (shipment,) = sent(dhl["create"])["shipments"]
    assert shipment["services"] == {"goGreenPlus": True}
    assert shipment["consignee"]["email"] == "erika@example.com"
    assert "phone" not in shipment["consignee"]  # never transmitted within Germany
    assert query(dhl["create"])["printFormat"] == "910-300-400"
    with pytest.raises(PermanentError, match=r"eco_option: .*'carbon_neutral'"):
        await carrier.carrier_buy_label(label_request(eco_option="carbon_neutral"))
    await carrier.aclose()


async def test_two_parcels_in_zpl_make_two_shipments_and_one_document(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].respond(207, json=fixture("create_zpl_two_parcels.json"))
    heavy = Parcel(weight_grams=4000, dimensions=PARCEL.dimensions)
    label = await plugin.carrier_buy_label(
        label_request(parcels=(PARCEL, heavy), label_format=LabelFormat.ZPL)
    )
    shipments = sent(dhl["create"])["shipments"]
    assert [s["refNo"] for s in shipments] == [
        "label:shopify:1001:S-1001-1-1",
        "label:shopify:1001:S-1001-1-2",
    ]
    assert [s["details"]["weight"]["value"] for s in shipments] == [1200, 4000]
    assert query(dhl["create"])["docFormat"] == "ZPL2"
    assert label.tracking_numbers == (NUMBER, "340434310428091717")
    assert label.price.amount == Decimal("14.68")  # 5.19 + 9.49
    content = label.document.content.decode()
    assert content.startswith("^XA") and content.count("^XZ") == 2


async def test_several_pdf_parcels_or_png_are_refused_before_buying(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    with pytest.raises(PermanentError, match=r"parcels: .* ask for ZPL"):
        await plugin.carrier_buy_label(label_request(parcels=(PARCEL, PARCEL)))
    with pytest.raises(PermanentError, match=r"label_format: .* not PNG"):
        await plugin.carrier_buy_label(label_request(label_format=LabelFormat.PNG))
    with pytest.raises(PermanentError, match="service_code: 'V99XX'"):
        await plugin.carrier_buy_label(label_request(service_code="V99XX"))
    with pytest.raises(PermanentError, match="service_code: V01PAK ships within Germany only"):
        await plugin.carrier_buy_label(label_request(ship_to=london(), customs=customs()))
    with pytest.raises(PermanentError, match="service_code: no price line for V62KP"):
        await plugin.carrier_buy_label(label_request(service_code="V62KP"))
    assert not dhl["create"].called


async def test_a_refused_label_names_the_property(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].respond(400, json=fixture("validate_error_postal_code.json"))
    with pytest.raises(PermanentError, match=r"consignee.postalCode: Please enter a valid"):
        await plugin.carrier_buy_label(label_request())
    assert not dhl["delete"].called


async def test_a_partly_refused_shipment_deletes_the_booked_parcels(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].respond(207, json=fixture("create_partial_207.json"))
    with pytest.raises(PermanentError, match=r"parcels.1 details.dim: The girth exceeds"):
        await plugin.carrier_buy_label(
            label_request(parcels=(PARCEL, PARCEL), label_format=LabelFormat.ZPL)
        )
    assert query(dhl["delete"]).multi_items() == [
        ("profile", "STANDARD_GRUPPENPROFIL"),
        ("shipment", NUMBER),
    ]


async def test_booked_parcels_that_cannot_be_deleted_make_it_ambiguous(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].respond(207, json=fixture("create_partial_207.json"))
    dhl["delete"].respond(400, json=fixture("delete_not_found.json"))
    with pytest.raises(AmbiguousOutcomeError, match=f"{NUMBER} it did book could not be deleted"):
        await plugin.carrier_buy_label(
            label_request(parcels=(PARCEL, PARCEL), label_format=LabelFormat.ZPL)
        )


async def test_a_label_offered_as_a_link_is_downloaded(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["create"].respond(json=fixture("create_pdf_url_only.json"))
    download = dhl.get("/parcel/de/shipping/v2/labels", name="download").respond(
        content=PDF, headers={"content-type": "application/pdf"}
    )
    label = await plugin.carrier_buy_label(label_request())
    assert label.tracking_numbers == (NUMBER,)  # DHL's example sends the number as a JSON number
    assert label.document.content == PDF
    assert "authorization" not in download.calls.last.request.headers


async def test_an_unusable_answer_after_booking_is_ambiguous(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    unreadable = fixture("create_pdf.json")
    unreadable["items"][0]["label"] = {"b64": "not base64 at all!"}
    dhl["create"].respond(json=unreadable)
    with pytest.raises(AmbiguousOutcomeError, match=f"booked S-1001-1 as {NUMBER}"):
        await plugin.carrier_buy_label(label_request())
    foreign = fixture("create_pdf_url_only.json")
    foreign["items"][0]["label"]["url"] = "https://labels.example.com/x.pdf"
    dhl["create"].respond(json=foreign)
    with pytest.raises(AmbiguousOutcomeError, match="not an https DHL address"):
        await plugin.carrier_buy_label(label_request())
    dhl["create"].respond(json={"status": {"title": "OK", "status": 200}, "items": []})
    with pytest.raises(AmbiguousOutcomeError, match="answered for 0 of 1 shipments"):
        await plugin.carrier_buy_label(label_request())


async def test_label_abroad_carries_the_customs_declaration_and_returns_the_cn23(
    runtime: PluginRuntime, dhl: respx.MockRouter
) -> None:
    carrier = DhlCarrier(
        make_settings(share_recipient_contact=True, eori="DE123456789012345"), runtime
    )
    dhl["create"].respond(json=fixture("create_international_customs.json"))
    request = label_request(
        service_code="V53WPAK",
        ship_to=london(),
        recipient=Contact(name="Joe Black", email="joe@example.co.uk", phone="+44 20 7946 0000"),
        customs=customs(),
    )
    label = await carrier.carrier_buy_label(request)
    (shipment,) = sent(dhl["create"])["shipments"]
    assert shipment["billingNumber"] == "33333333335302"
    assert shipment["consignee"]["phone"] == "+44 20 7946 0000"
    assert shipment["customs"] == {
        "exportType": "COMMERCIAL_GOODS",
        "postalCharges": {"currency": "EUR", "value": 0},
        "items": [
            {
                "itemDescription": "Red T-Shirt, cotton",
                "packagedQuantity": 2,
                "hsCode": "61091000",
                "countryOfOrigin": "FRA",
                "itemValue": {"currency": "EUR", "value": 12.5},
                "itemWeight": {"uom": "g", "value": 250},
            }
        ],
        "invoiceNo": "INV-1001",
        "shipperCustomsRef": "DE123456789012345",
    }
    assert "services" not in shipment
    assert label.price.amount == Decimal("17.99")
    (cn23,) = label.papers  # printed and attached with the label
    assert cn23.kind is DocumentKind.CUSTOMS_DECLARATION and cn23.label_format is LabelFormat.PDF
    assert cn23.content == base64.b64decode(DOCS["cn23_pdf"])

    paid = Money(amount=Decimal("4.90"), currency="EUR")
    await carrier.carrier_buy_label(
        request.model_copy(
            update={
                "customs": customs(incoterm=Incoterm.DDP).model_copy(
                    update={"shipping_charges": paid}
                )
            }
        )
    )
    (ddp,) = sent(dhl["create"])["shipments"]
    assert ddp["services"] == {"postalDeliveryDutyPaid": True}
    assert ddp["customs"]["postalCharges"] == {"currency": "EUR", "value": 4.9}
    await carrier.aclose()


async def test_customs_problems_are_refused_before_buying(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    abroad = label_request(service_code="V53WPAK", ship_to=london())
    with pytest.raises(PermanentError, match="customs: DE -> GB leaves the EU customs union"):
        await plugin.carrier_buy_label(abroad)
    with pytest.raises(PermanentError, match=r"customs.incoterm: .* not EXW"):
        await plugin.carrier_buy_label(
            abroad.model_copy(update={"customs": customs(incoterm=Incoterm.EXW)})
        )
    two = abroad.model_copy(
        update={"customs": customs(), "parcels": (PARCEL, PARCEL), "label_format": LabelFormat.ZPL}
    )
    with pytest.raises(PermanentError, match="parcels: each parcel is its own DHL shipment"):
        await plugin.carrier_buy_label(two)
    assert not dhl["create"].called


async def test_no_lookup_by_reference(plugin: DhlCarrier) -> None:
    assert plugin.capabilities == frozenset()
    with pytest.raises(PermanentError, match="by shipment number only"):
        await plugin.carrier_find_label(
            LabelLookup(idempotency_key="label:shopify:1001:S-1001-1", shipment_id="S-1001-1")
        )


async def test_warnings_are_logged_without_personal_data(
    plugin: DhlCarrier, dhl: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    warned = fixture("create_pdf.json")
    warned["items"][0]["validationMessages"] = fixture("validate_item_warning.json")[
        "validationMessages"
    ]
    dhl["create"].mock(side_effect=[error(401, "error_401.json"), httpx.Response(200, json=warned)])
    with caplog.at_level(logging.DEBUG, logger="plugins.carriers.dhl"):
        await plugin.carrier_buy_label(label_request())
    text = caplog.text
    assert NUMBER in text and "consignee" in text
    for secret in (
        "hub-test-api-key",
        "hub-test-api-secret",
        "hub-test-gkp-password",
        "UtN71yyK8y8tuargZzmttyx8Y7Lp",
        "Heidestrasse",
        "Mustermann",
        "erika@example.com",
    ):
        assert secret not in text


# --------------------------------------------------------------------------- voids


async def test_void_deletes_every_shipment_number(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    result = await plugin.carrier_void_label(
        VoidRequest(label_id=NUMBER, tracking_numbers=(NUMBER,))
    )
    assert result.voided and result.message == f"{NUMBER}: deleted"
    assert query(dhl["delete"]).multi_items() == [
        ("profile", "STANDARD_GRUPPENPROFIL"),
        ("shipment", NUMBER),
    ]
    two = {
        "status": {"title": "Multistatus", "status": 207},
        "items": [
            {"shipmentNo": NUMBER, "sstatus": {"title": "OK", "status": 200}},
            {"shipmentNo": "340434310428091717", "sstatus": {"title": "OK", "status": 200}},
        ],
    }
    dhl["delete"].respond(207, json=two)
    result = await plugin.carrier_void_label(
        VoidRequest(label_id=NUMBER, tracking_numbers=(NUMBER, "340434310428091717"))
    )
    assert result.voided
    assert query(dhl["delete"]).get_list("shipment") == [NUMBER, "340434310428091717"]


async def test_a_void_dhl_refuses_says_why(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["delete"].respond(400, json=fixture("delete_not_found.json"))
    result = await plugin.carrier_void_label(VoidRequest(label_id=NUMBER, tracking_numbers=()))
    assert not result.voided
    assert "Unknown shipment number" in result.message and "manifested" in result.message


# --------------------------------------------------------------------------- tracking


async def test_tracking_delivered(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    update = await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))

    request = dhl["track"].calls.last.request
    assert request.headers["dhl-api-key"] == "hub-test-api-key"
    assert dict(request.url.params) == {
        "trackingNumber": NUMBER,
        "language": "en",
        "service": "parcel-de",
    }
    assert [e.status for e in update.events] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    assert [e.carrier_code for e in update.events] == ["pre-transit"] + ["transit"] * 4 + [
        "delivered"
    ]
    delivered = update.events[-1]
    assert delivered.tracking_number == NUMBER
    assert delivered.description == "The shipment has been successfully delivered"
    assert delivered.location == "51147 Köln, DE"
    assert delivered.occurred_at == datetime(2026, 6, 24, 11, 2, tzinfo=UTC)  # 13:02 CEST
    assert update.events[0].location is None


async def test_tracking_failed_attempt_then_pickup(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["track"].respond(json=fixture("track_failed_then_pickup.json"))
    update = await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))
    assert [e.status for e in update.events] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERY_FAILED,  # "will be taken to a retail outlet": not there yet
        TrackingStatus.AVAILABLE_FOR_PICKUP,
    ]
    assert update.events[-1].estimated_delivery == datetime(2026, 6, 24, 16, tzinfo=UTC)


async def test_tracking_with_only_a_status_and_a_time_frame(
    plugin: DhlCarrier, dhl: respx.MockRouter
) -> None:
    dhl["track"].respond(json=fixture("track_pre_transit_only.json"))
    (event,) = (await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))).events
    assert event.status is TrackingStatus.PRE_TRANSIT
    assert event.estimated_delivery == datetime(2026, 6, 24, 11, tzinfo=UTC)


async def test_tracking_returned_to_sender(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["track"].respond(json=fixture("track_returned.json"))
    update = await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))
    assert [e.status for e in update.events] == [TrackingStatus.RETURN_TO_SENDER] * 2
    assert update.events[-1].carrier_code == "delivered"  # DHL's code, kept as it came


async def test_tracking_not_yet_known_is_empty(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["track"].respond(404, json=fixture("track_not_found.json"))
    update = await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))
    assert update.events == ()


async def test_tracking_errors(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    dhl["track"].respond(401, json=fixture("track_unauthorized.json"))
    with pytest.raises(PermanentError, match="HTTP 401: Invalid API key"):
        await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))
    dhl["track"].respond(429, json=fixture("error_429.json"), headers={"Retry-After": "60"})
    with pytest.raises(TransientError) as caught:
        await plugin.carrier_track(TrackRequest(tracking_number=NUMBER))
    assert caught.value.retry_after == 60.0
    with pytest.raises(PermanentError, match="tracking_number"):
        await plugin.carrier_track(TrackRequest(tracking_number="34043/../x"))


async def test_tracking_key_of_its_own(runtime: PluginRuntime, dhl: respx.MockRouter) -> None:
    carrier = DhlCarrier(make_settings(tracking_api_key="hub-test-tracking-key"), runtime)
    await carrier.carrier_track(TrackRequest(tracking_number=NUMBER))
    assert dhl["track"].calls.last.request.headers["dhl-api-key"] == "hub-test-tracking-key"
    await carrier.aclose()


@pytest.mark.parametrize(
    ("code", "wording", "status"),
    [
        ("pre-transit", "The instruction data ... electronically", T.PRE_TRANSIT),
        ("transit", "The shipment has been loaded onto the delivery vehicle", T.OUT_FOR_DELIVERY),
        ("transit", "Die Sendung wurde in das Zustellfahrzeug geladen", T.OUT_FOR_DELIVERY),
        ("transit", "Die Sendung liegt in der Filiale zur Abholung bereit", T.AVAILABLE_FOR_PICKUP),
        ("failure", "The recipient was not at home: delivery attempt", T.DELIVERY_FAILED),
        ("failure", "The shipment was damaged", T.EXCEPTION),
        ("delivered", "The shipment has been successfully delivered", T.DELIVERED),
        ("delivered", "Die Sendung wurde an den Absender zurückgesendet", T.RETURN_TO_SENDER),
        (None, "Shipment is out with courier for delivery", T.OUT_FOR_DELIVERY),
        (None, "Delivered", T.DELIVERED),
        ("unknown", "Processed at LEIPZIG - GERMANY", T.IN_TRANSIT),
        ("unknown", "Something new", T.UNKNOWN),
    ],
)
def test_event_statuses(code: str | None, wording: str, status: TrackingStatus) -> None:
    assert tracking.status_of(code, wording) is status


def test_a_malformed_timestamp_names_the_field() -> None:
    payload = fixture("track_delivered.json")
    payload["shipments"][0]["events"][2]["timestamp"] = "yesterday"
    with pytest.raises(PermanentError, match=r"shipments.0.events.2.timestamp"):
        tracking.parse_tracking(NUMBER, payload, BERLIN)


# --------------------------------------------------------------------------- parsers, fuzzed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_KEYS = ["timestamp", "location", "statusCode", "status", "description"]
TIMESTAMPS = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.text(max_size=25),
)


@st.composite
def mutated_tracking(draw: st.DrawFn) -> Any:
    payload = fixture(
        draw(st.sampled_from(["track_delivered.json", "track_failed_then_pickup.json"]))
    )
    shipment = payload["shipments"][0]
    for event in shipment["events"]:
        for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=3)):
            if draw(st.booleans()):
                event.pop(key, None)
            elif key == "timestamp":
                event[key] = draw(TIMESTAMPS)
            elif key == "statusCode":
                event[key] = draw(st.sampled_from(["transit", "failure", "", "TRANSIT"]) | JSON)
            else:
                event[key] = draw(JSON)
    for key in draw(
        st.lists(
            st.sampled_from(["id", "status", "events", "estimatedTimeOfDelivery", "service"]),
            max_size=2,
        )
    ):
        shipment[key] = draw(TIMESTAMPS if key == "estimatedTimeOfDelivery" else JSON)
    return payload


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, mutated_tracking()))
def test_tracking_parser_never_crashes(payload: Any) -> None:
    try:
        update = tracking.parse_tracking(NUMBER, payload, BERLIN, "parcel-de")
    except PermanentError as exc:
        assert "DHL tracking" in str(exc)
        return
    times = [e.occurred_at for e in update.events]
    assert times == sorted(times)
    for event in update.events:
        assert event.tracking_number == NUMBER and event.carrier_code
        assert isinstance(event.status, TrackingStatus)
        assert event.occurred_at.tzinfo is not None


@st.composite
def mutated_label_answer(draw: st.DrawFn) -> Any:
    payload = fixture(draw(st.sampled_from(["create_pdf.json", "create_zpl_two_parcels.json"])))
    for item in payload["items"]:
        for key in draw(
            st.lists(st.sampled_from(["shipmentNo", "sstatus", "label", "validationMessages"]))
        ):
            item[key] = draw(JSON)
        if draw(st.booleans()):
            item["label"] = {"b64": draw(st.text(max_size=30)), "zpl2": draw(JSON)}
    return payload


def _items(payload: Any) -> int:
    items = payload.get("items") if isinstance(payload, dict) else None
    return len(items) if isinstance(items, list) else 1


@settings(max_examples=200)
@given(st.one_of(JSON, mutated_label_answer()), st.sampled_from([LabelFormat.PDF, LabelFormat.ZPL]))
def test_label_answer_parsers_never_crash(payload: Any, label_format: LabelFormat) -> None:
    message = responses.error_message(payload)
    assert message is None or message.strip()
    try:
        outcomes = responses.outcomes(payload, _items(payload), "DHL label")
    except PermanentError as exc:
        assert "DHL label" in str(exc)
        return
    for outcome in outcomes:
        assert outcome.ok or outcome.messages
        try:
            content = responses.document_bytes(outcome.label, label_format, "label")
        except responses.UnreadableLabel:
            continue
        assert content is None or content.lstrip().startswith(responses.MAGIC[label_format])


# --------------------------------------------------------------------------- machinery


async def test_through_the_plugin_host(plugin: DhlCarrier, dhl: respx.MockRouter) -> None:
    host = host_for(plugin)
    quotes = await host.quote("dhl", rate_request())
    assert [q.service_code for q in quotes] == ["V01PAK"]
    label = await host.buy_label("dhl", label_request(service_code=quotes[0].service_code))
    update = await host.track("dhl", TrackRequest(tracking_number=label.tracking_numbers[0]))
    assert update.events[-1].status is TrackingStatus.DELIVERED
    voided = await host.void_label(
        "dhl", VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    )
    assert voided.voided
    with pytest.raises(PermanentError, match="by shipment number only"):
        await host.find_label(
            "dhl", LabelLookup(idempotency_key="label:shopify:1001:S-1001-1", shipment_id="S-1")
        )


def booked_as_asked(request: httpx.Request) -> httpx.Response:
    """DHL's answer to ``POST /orders``: one booked item per shipment, its label in the
    ``docFormat`` asked for, from the recorded PDF and ZPL2 answers."""
    count = len(shipments_of(request))
    if request.url.params["docFormat"] == "ZPL2":
        recorded = fixture("create_zpl_two_parcels.json")["items"]
    else:
        recorded = fixture("create_pdf.json")["items"]
    items = []
    for index in range(count):
        item = copy.deepcopy(recorded[index % len(recorded)])
        item["shipmentNo"] = f"3404343104280917{index:02d}"
        items.append(item)
    return answer(items)


class TestDhlContract(CarrierContract):
    @pytest.fixture
    async def plugin(
        self, dhl: respx.MockRouter, runtime: PluginRuntime
    ) -> AsyncIterator[DhlCarrier]:
        dhl["create"].mock(side_effect=booked_as_asked)
        carrier = DhlCarrier(make_settings(), runtime)
        yield carrier
        await carrier.aclose()

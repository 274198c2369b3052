"""The UPS adapter against respx-mocked UPS APIs, with payloads shaped after UPS's OpenAPI specs
(github.com/UPS-API/api-documentation: Rating.yaml, Shipping.yaml, Tracking.yaml)."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Iterator
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

from hub import hookspecs
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
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.carriers.ups import CustomsDefaults, UpsCarrier, UpsSettings, mapping
from plugins.carriers.ups.client import trans_id_for
from plugins.carriers.ups.mapping import (
    parse_rate_response,
    parse_ship_response,
    parse_void_response,
    phone_digits,
    rate_request,
    ship_request,
    split_service_code,
    ups_datetime,
    void_query,
)
from plugins.carriers.ups.tracking import parse_track_response
from tests.contract.carrier import CarrierContract

FIXTURES = Path(__file__).parent / "fixtures" / "ups"
BASE = "https://wwwcie.ups.com"
TOKEN = "/security/v1/oauth/token"
SHOP = "/api/rating/v2409/Shoptimeintransit"
SHIP = "/api/shipments/v2409/ship"
LEAD = "1Z2220060290602143"
SECOND = "1Z2220060291994175"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def ups_settings(**overrides: Any) -> UpsSettings:
    values: dict[str, Any] = {
        "client_id": "hub-test-client-id",
        "client_secret": "not-a-real-secret",
        "account_number": "222006",
        "carbon_neutral": "off",
    }
    values.update(overrides)
    return UpsSettings.model_validate(values)


BERLIN = Address(
    name="Lager Team",
    company="Hub Fulfilment GmbH",
    line1="Lagerstrasse 5",
    city="Berlin",
    postal_code="10115",
    country="DE",
)
KOELN = Address(
    name="Erika Mustermann",
    line1="Heidestrasse 17",
    city="Koeln",
    postal_code="51147",
    country="DE",
)
PORTLAND = Address(
    name="Jane Doe",
    line1="1200 NW Naito Pkwy",
    line2="Apt 4",
    city="Portland",
    region="OR",
    postal_code="97209-2734",
    country="US",
)
BOX = Dimensions(length_mm=200, width_mm=300, height_mm=100)
SHIP_DATE = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def rate_req(**overrides: Any) -> RateRequest:
    values: dict[str, Any] = {
        "shipment_id": "S-1001-1",
        "ship_from": BERLIN,
        "ship_to": KOELN,
        "parcels": (Parcel(weight_grams=1200, dimensions=BOX),),
        "service_level": "standard",
        "ship_date": SHIP_DATE,
        "declared_value": Money(amount=Decimal("49.90"), currency="EUR"),
    }
    values.update(overrides)
    return RateRequest(**values)


def label_req(**overrides: Any) -> LabelRequest:
    values: dict[str, Any] = {
        "idempotency_key": "label:order:shopify:1001:S-1001-1",
        "shipment_id": "S-1001-1",
        "order_reference": "shopify:1001",
        "service_code": "11",
        "ship_from": BERLIN,
        "ship_to": KOELN,
        "recipient": Contact(name="Erika Mustermann", phone="+49 221 1234567"),
        "parcels": (
            Parcel(weight_grams=1200, dimensions=BOX),
            Parcel(
                weight_grams=2340, dimensions=Dimensions(length_mm=400, width_mm=300, height_mm=251)
            ),
        ),
        "declared_value": Money(amount=Decimal("49.90"), currency="EUR"),
        "ship_date": SHIP_DATE,
    }
    values.update(overrides)
    return LabelRequest(**values)


def body_of(route: respx.Route, call: int = -1) -> Any:
    return json.loads(route.calls[call].request.content)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(TOKEN, name="token").mock(
            return_value=httpx.Response(200, json=load("token.json"))
        )
        yield router


@pytest.fixture
async def ups(tmp_path: Path) -> AsyncIterator[UpsCarrier]:
    plugin = UpsCarrier(ups_settings(), PluginRuntime(data_dir=tmp_path, config_dir=tmp_path))
    yield plugin
    await plugin.aclose()


async def make_plugin(tmp_path: Path, **overrides: Any) -> UpsCarrier:
    return UpsCarrier(
        ups_settings(**overrides), PluginRuntime(data_dir=tmp_path, config_dir=tmp_path)
    )


# --------------------------------------------------------------------------- rating


async def test_quote_maps_shop_response_with_negotiated_rates(api, ups):
    shop = api.post(SHOP).mock(return_value=httpx.Response(200, json=load("rate_shop.json")))

    quotes = await ups.carrier_quote(rate_req())

    assert [(q.service_code, q.service_name) for q in quotes] == [
        ("11", "UPS Standard"),
        ("65", "UPS Saver"),
        ("07", "UPS Worldwide Express"),
        ("54", "UPS Worldwide Express Plus"),
    ]
    standard = quotes[0]
    assert standard.carrier == "ups"
    assert standard.price == Money(amount=Decimal("9.87"), currency="EUR")  # negotiated, not 14.32
    assert standard.billable_weight_grams == 1500
    assert standard.estimated_delivery == datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert standard.eco_options == ()

    sent = body_of(shop)["RateRequest"]
    shipment = sent["Shipment"]
    assert shipment["Shipper"]["ShipperNumber"] == "222006"
    assert shipment["ShipTo"]["Address"] == {
        "AddressLine": ["Heidestrasse 17"],
        "City": "Koeln",
        "CountryCode": "DE",
        "PostalCode": "51147",
        "ResidentialAddressIndicator": "Y",
    }
    assert shipment["Package"] == [
        {
            "PackagingType": {"Code": "02"},
            "Dimensions": {
                "UnitOfMeasurement": {"Code": "CM"},
                "Length": "30",
                "Width": "20",
                "Height": "10",
            },
            "PackageWeight": {"UnitOfMeasurement": {"Code": "KGS"}, "Weight": "1.2"},
        }
    ]
    assert shipment["ShipmentRatingOptions"] == {"NegotiatedRatesIndicator": "Y"}
    assert shipment["DeliveryTimeInformation"] == {
        "PackageBillType": "03",
        "Pickup": {"Date": "20261123"},
    }
    assert "ShipmentServiceOptions" not in shipment
    request = shop.calls[0].request
    assert request.headers["authorization"] == "Bearer " + load("token.json")["access_token"]
    assert len(request.headers["transid"]) == 32
    assert request.headers["transactionsrc"] == "fulfilment-hub"


async def test_carbon_neutral_is_offered_as_eco_quotes(api, tmp_path):
    plugin = await make_plugin(tmp_path, carbon_neutral="offer")
    shop = api.post(SHOP).mock(
        side_effect=[
            httpx.Response(200, json=load("rate_shop.json")),
            httpx.Response(200, json=load("rate_shop_carbon_neutral.json")),
        ]
    )
    try:
        quotes = await plugin.carrier_quote(rate_req())
    finally:
        await plugin.aclose()

    eco = [q for q in quotes if q.eco_options]
    assert [q.service_code for q in eco] == ["11-CN", "65-CN", "07-CN", "54-CN"]
    assert eco[0].service_name == "UPS Standard (carbon neutral)"
    assert eco[0].eco_options == ("carbon_neutral",)
    assert eco[0].price.amount == Decimal("10.01")
    assert "ShipmentServiceOptions" not in body_of(shop, 0)["RateRequest"]["Shipment"]
    assert body_of(shop, 1)["RateRequest"]["Shipment"]["ShipmentServiceOptions"] == {
        "UPScarbonneutralIndicator": ""
    }


async def test_carbon_neutral_refusal_leaves_plain_quotes(api, tmp_path):
    plugin = await make_plugin(tmp_path, carbon_neutral="offer")
    api.post(SHOP).mock(
        side_effect=[
            httpx.Response(200, json=load("rate_shop.json")),
            httpx.Response(400, json=load("error_validation.json")),
        ]
    )
    try:
        quotes = await plugin.carrier_quote(rate_req())
    finally:
        await plugin.aclose()
    assert len(quotes) == 4 and not any(q.eco_options for q in quotes)


def test_service_level_filters_the_shop():
    payload = load("rate_shop.json")
    express = parse_rate_response(
        payload, carrier="ups", service_level="express", carbon_neutral=None
    )
    economy = parse_rate_response(
        payload, carrier="ups", service_level="economy", carbon_neutral=None
    )
    assert [q.service_code for q in express] == ["65", "07", "54"]
    assert [q.service_code for q in economy] == ["11"]


def test_us_origin_rates_in_pounds_and_inches():
    request = rate_req(
        ship_from=PORTLAND,
        ship_to=PORTLAND,
        parcels=(Parcel(weight_grams=1000, dimensions=BOX),),
        declared_value=Money(amount=Decimal("20"), currency="USD"),
    )
    shipment = rate_request(request, ups_settings(), carbon_neutral=False)["RateRequest"][
        "Shipment"
    ]
    package = shipment["Package"][0]
    assert package["PackageWeight"] == {"UnitOfMeasurement": {"Code": "LBS"}, "Weight": "2.3"}
    assert package["Dimensions"]["UnitOfMeasurement"] == {"Code": "IN"}
    assert (package["Dimensions"]["Length"], package["Dimensions"]["Height"]) == ("12", "4")
    assert shipment["ShipTo"]["Address"]["PostalCode"] == "972092734"
    assert shipment["ShipTo"]["Address"]["StateProvinceCode"] == "OR"


def test_cross_border_rating_declares_the_invoice_total():
    request = rate_req(ship_to=PORTLAND)
    shipment = rate_request(request, ups_settings(), carbon_neutral=False)["RateRequest"][
        "Shipment"
    ]
    assert shipment["InvoiceLineTotal"] == {"CurrencyCode": "EUR", "MonetaryValue": "49.90"}
    assert shipment["ShipmentTotalWeight"]["Weight"] == "1.2"


def test_overweight_parcel_is_named():
    request = rate_req(parcels=(Parcel(weight_grams=71_000, dimensions=BOX),))
    with pytest.raises(PermanentError, match=r"parcels\[0\]\.weight_grams"):
        rate_request(request, ups_settings(), carbon_neutral=False)


# --------------------------------------------------------------------------- labels


async def test_buy_multi_piece_label_as_pdf(api, ups):
    ship = api.post(SHIP).mock(
        return_value=httpx.Response(200, json=load("ship_gif_two_packages.json"))
    )
    request = label_req()

    label = await ups.carrier_buy_label(request)

    assert label.label_id == LEAD
    assert label.tracking_numbers == (LEAD, SECOND)
    assert label.price == Money(amount=Decimal("19.74"), currency="EUR")
    assert label.service_code == "11"
    assert label.tracking_url == f"https://www.ups.com/track?tracknum={LEAD}"
    assert label.document.label_format is LabelFormat.PDF
    assert label.document.content.startswith(b"%PDF")
    assert b"/Count 2" in label.document.content  # one page per package

    sent = ship.calls[0].request
    assert sent.headers["transid"] == trans_id_for(request.idempotency_key)
    assert len(sent.headers["transid"]) == 32
    body = json.loads(sent.content)["ShipmentRequest"]
    shipment = body["Shipment"]
    assert body["Request"]["RequestOption"] == "validate"
    assert shipment["ReferenceNumber"] == [{"Value": "S-1001-1"}]
    assert shipment["Service"] == {"Code": "11", "Description": "UPS Standard"}
    assert shipment["PaymentInformation"] == {
        "ShipmentCharge": [{"Type": "01", "BillShipper": {"AccountNumber": "222006"}}]
    }
    assert shipment["Shipper"]["Name"] == "Hub Fulfilment GmbH"
    assert shipment["ShipTo"]["AttentionName"] == "Erika Mustermann"
    assert shipment["ShipTo"]["Phone"] == {"Number": "492211234567"}
    assert [p["PackageWeight"]["Weight"] for p in shipment["Package"]] == ["1.2", "2.4"]
    assert shipment["Package"][1]["Dimensions"] == {
        "UnitOfMeasurement": {"Code": "CM"},
        "Length": "40",
        "Width": "30",
        "Height": "26",
    }
    assert all(p["Packaging"] == {"Code": "02"} for p in shipment["Package"])
    assert "InternationalForms" not in shipment.get("ShipmentServiceOptions", {})
    assert body["LabelSpecification"]["LabelImageFormat"] == {"Code": "GIF"}


async def test_buy_cross_border_label_in_zpl_with_customs(api, tmp_path):
    customs = CustomsDefaults(
        contents="Cotton T-shirts", hs_code="610910", origin_country="PT", incoterm="DDP"
    )
    plugin = await make_plugin(tmp_path, customs=customs, carbon_neutral="always")
    ship = api.post(SHIP).mock(
        return_value=httpx.Response(200, json=load("ship_zpl_international.json"))
    )
    request = label_req(
        ship_to=PORTLAND,
        recipient=Contact(name="Jane Doe", phone="(503) 555-0142"),
        parcels=(Parcel(weight_grams=1200, dimensions=BOX),),
        label_format=LabelFormat.ZPL,
        service_code="65",
    )
    try:
        label = await plugin.carrier_buy_label(request)
    finally:
        await plugin.aclose()

    assert label.tracking_numbers == ("1Z2220066790451232",)
    assert label.price == Money(amount=Decimal("42.80"), currency="EUR")
    assert label.document.label_format is LabelFormat.ZPL
    assert label.document.content.startswith(b"^XA") and b"^XZ" in label.document.content
    (invoice,) = label.papers  # UPS's Form: the commercial invoice, to print with the label
    assert invoice.kind is DocumentKind.COMMERCIAL_INVOICE
    assert invoice.label_format is LabelFormat.PDF and invoice.content.startswith(b"%PDF")

    body = body_of(ship)["ShipmentRequest"]
    shipment = body["Shipment"]
    assert body["LabelSpecification"] == {
        "LabelImageFormat": {"Code": "ZPL"},
        "LabelStockSize": {"Height": "6", "Width": "4"},
    }
    assert shipment["Description"] == "Cotton T-shirts"
    assert shipment["ShipTo"]["Phone"] == {"Number": "5035550142"}
    assert shipment["PaymentInformation"]["ShipmentCharge"][1] == {
        "Type": "02",
        "BillShipper": {"AccountNumber": "222006"},
    }
    options = shipment["ShipmentServiceOptions"]
    assert options["UPScarbonneutralIndicator"] == ""
    forms = options["InternationalForms"]
    assert forms["FormType"] == ["01"]
    assert forms["TermsOfShipment"] == "DDP"
    assert forms["ReasonForExport"] == "SALE"
    assert forms["CurrencyCode"] == "EUR"
    assert forms["InvoiceNumber"] == "S-1001-1"
    assert forms["InvoiceDate"] == "20261123"
    assert forms["FreightCharges"] == {"MonetaryValue": "0.00"}  # nothing charged to the buyer
    assert forms["Product"] == [
        {
            "Description": ["Cotton T-shirts"],
            "Unit": {"Number": "1", "UnitOfMeasurement": {"Code": "PCS"}, "Value": "49.90"},
            "OriginCountryCode": "PT",
            "PartNumber": "S-1001-1",
            "CommodityCode": "610910",
        }
    ]
    sold_to = forms["Contacts"]["SoldTo"]
    assert sold_to["AttentionName"] == "Jane Doe"
    assert sold_to["Address"]["CountryCode"] == "US"


def test_us_domestic_reference_goes_on_each_package():
    request = label_req(
        ship_from=PORTLAND,
        ship_to=PORTLAND,
        recipient=Contact(name="Jane Doe"),
        declared_value=Money(amount=Decimal("20"), currency="USD"),
    )
    body = ship_request(
        request,
        ups_settings(address_validation=False),
        service_code="03",
        carbon_neutral=False,
        customs=None,
        label_format=LabelFormat.PDF,
    )["ShipmentRequest"]
    shipment = body["Shipment"]
    assert body["Request"]["RequestOption"] == "nonvalidate"
    assert "ReferenceNumber" not in shipment
    assert [p["ReferenceNumber"] for p in shipment["Package"]] == [[{"Value": "S-1001-1"}]] * 2
    assert shipment["Package"][0]["PackageWeight"]["UnitOfMeasurement"] == {"Code": "LBS"}
    assert "Phone" not in shipment["ShipTo"]  # optional at home, required across borders


async def test_the_hubs_per_item_declaration_becomes_the_commercial_invoice(api, ups):
    ship = api.post(SHIP).mock(
        return_value=httpx.Response(200, json=load("ship_zpl_international.json"))
    )
    declared = Customs(
        contents=ContentsType.GIFT,
        incoterm=Incoterm.DAP,
        invoice_number="1001",
        shipping_charges=Money(amount=Decimal("6.90"), currency="EUR"),
        items=(
            CustomsItem(
                sku="TEE-ORG-BLK-M",
                description="Organic cotton T-shirt, black, M",
                hs_code="610910",
                origin_country="PT",
                quantity=2,
                unit_value=Money(amount=Decimal("24.00"), currency="EUR"),
                unit_weight_grams=180,
            ),
            CustomsItem(
                sku="MUG-CER-350",
                description="Ceramic mug 350 ml",
                hs_code="691200",
                origin_country="SE",
                quantity=1,
                unit_value=Money(amount=Decimal("16.00"), currency="EUR"),
                unit_weight_grams=350,
            ),
        ),
    )
    request = label_req(
        ship_to=PORTLAND,
        recipient=Contact(name="Jane Doe", phone="(503) 555-0142"),
        parcels=(Parcel(weight_grams=1200, dimensions=BOX),),
        service_code="65",
        label_format=LabelFormat.ZPL,
        customs=declared,
    )
    await ups.carrier_buy_label(request)

    forms = body_of(ship)["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"][
        "InternationalForms"
    ]
    assert (forms["TermsOfShipment"], forms["ReasonForExport"]) == ("DAP", "GIFT")
    assert forms["InvoiceNumber"] == "1001"
    assert [
        (p["PartNumber"], p["CommodityCode"], p["OriginCountryCode"], p["Unit"]["Number"])
        for p in forms["Product"]
    ] == [("TEE-ORG-BLK-M", "610910", "PT", "2"), ("MUG-CER-350", "691200", "SE", "1")]
    assert forms["Product"][0]["Description"] == ["Organic cotton T-shirt, black, M"]
    assert forms["FreightCharges"] == {"MonetaryValue": "6.90"}  # required on invoice forms


async def test_cross_border_label_needs_customs_settings(api, ups):
    ship = api.post(SHIP)
    with pytest.raises(PermanentError, match=r"customs: DE -> US"):
        await ups.carrier_buy_label(label_req(ship_to=PORTLAND))
    assert not ship.called


async def test_cross_border_label_needs_a_recipient_phone(api, tmp_path):
    customs = CustomsDefaults(contents="Books", origin_country="DE")
    plugin = await make_plugin(tmp_path, customs=customs)
    try:
        with pytest.raises(PermanentError, match=r"recipient\.phone"):
            await plugin.carrier_buy_label(
                label_req(ship_to=PORTLAND, recipient=Contact(name="Jane Doe"))
            )
    finally:
        await plugin.aclose()


async def test_eco_quote_code_buys_a_carbon_neutral_label(api, ups):
    ship = api.post(SHIP).mock(
        return_value=httpx.Response(200, json=load("ship_gif_two_packages.json"))
    )
    label = await ups.carrier_buy_label(
        label_req(service_code="11-CN", label_format=LabelFormat.PNG)
    )
    shipment = body_of(ship)["ShipmentRequest"]["Shipment"]
    assert shipment["Service"]["Code"] == "11"
    assert shipment["ShipmentServiceOptions"] == {"UPScarbonneutralIndicator": ""}
    assert label.service_code == "11-CN"
    assert label.document.content.startswith(b"\x89PNG")


async def test_the_chosen_eco_option_is_sent_as_the_carbon_neutral_indicator(api, ups):
    ship = api.post(SHIP).mock(side_effect=ship_answer)
    await ups.carrier_buy_label(label_req(eco_option="carbon_neutral"))
    options = body_of(ship)["ShipmentRequest"]["Shipment"]["ShipmentServiceOptions"]
    assert options == {"UPScarbonneutralIndicator": ""}
    await ups.carrier_buy_label(label_req(idempotency_key="label:plain"))
    assert "ShipmentServiceOptions" not in body_of(ship)["ShipmentRequest"]["Shipment"]
    with pytest.raises(PermanentError, match=r"eco_option: UPS offers 'carbon_neutral'"):
        await ups.carrier_buy_label(label_req(eco_option="gogreen_plus"))
    assert ship.call_count == 2


async def test_quotes_name_every_format_or_the_one_the_settings_force(api, tmp_path):
    api.post(SHOP).mock(return_value=httpx.Response(200, json=load("rate_shop.json")))
    two = rate_req(parcels=(Parcel(weight_grams=1200, dimensions=BOX),) * 2)
    for forced, formats in (
        (None, (LabelFormat.PDF, LabelFormat.ZPL, LabelFormat.PNG)),
        ("ZPL", (LabelFormat.ZPL,)),
    ):
        plugin = await make_plugin(tmp_path, label_format=forced)
        try:
            quotes = await plugin.carrier_quote(two)
        finally:
            await plugin.aclose()
        assert quotes and {q.label_formats for q in quotes} == {formats}


async def test_validation_error_names_ups_codes(api, ups):
    api.post(SHIP).mock(return_value=httpx.Response(400, json=load("error_validation.json")))
    with pytest.raises(PermanentError) as info:
        await ups.carrier_buy_label(label_req())
    message = str(info.value)
    assert "HTTP 400" in message
    assert "120802: Address Validation Error on ShipTo address" in message
    assert "120206: Missing or invalid ShipTo StateProvinceCode" in message


async def test_expired_token_is_refreshed_and_the_call_retried_once(api, ups):
    api.routes["token"].mock(
        side_effect=[
            httpx.Response(200, json=load("token.json")),
            httpx.Response(200, json=load("token_refreshed.json")),
        ]
    )
    ship = api.post(SHIP).mock(
        side_effect=[
            httpx.Response(401, json=load("error_unauthorized.json")),
            httpx.Response(200, json=load("ship_gif_two_packages.json")),
        ]
    )
    label = await ups.carrier_buy_label(label_req())

    assert label.tracking_numbers == (LEAD, SECOND)
    assert api.routes["token"].call_count == 2
    token_call = api.routes["token"].calls[0].request
    assert (
        token_call.headers["authorization"]
        == "Basic " + base64.b64encode(b"hub-test-client-id:not-a-real-secret").decode()
    )
    assert token_call.headers["x-merchant-id"] == "222006"
    assert token_call.content == b"grant_type=client_credentials"
    second = ship.calls[1].request
    assert second.headers["authorization"].endswith("second-token.sig")
    assert second.headers["transid"] == ship.calls[0].request.headers["transid"]


async def test_a_second_401_is_not_retried_again(api, ups):
    shop = api.post(SHOP).mock(
        return_value=httpx.Response(401, json=load("error_unauthorized.json"))
    )
    with pytest.raises(PermanentError, match="250002"):
        await ups.carrier_quote(rate_req())
    assert shop.call_count == 2
    assert api.routes["token"].call_count == 2


async def test_rate_limit_is_transient_with_retry_after(api, ups):
    api.post(SHOP).mock(
        return_value=httpx.Response(
            429, json=load("error_rate_limit.json"), headers={"Retry-After": "7"}
        )
    )
    with pytest.raises(TransientError) as info:
        await ups.carrier_quote(rate_req())
    assert info.value.retry_after == 7
    assert "10429" in str(info.value)


async def test_server_errors(api, ups):
    api.post(SHOP).mock(return_value=httpx.Response(500, json=load("error_server.json")))
    with pytest.raises(TransientError, match="HTTP 500"):
        await ups.carrier_quote(rate_req())

    ship = api.post(SHIP).mock(return_value=httpx.Response(503, json=load("error_server.json")))
    with pytest.raises(TransientError, match="HTTP 503"):
        await ups.carrier_buy_label(label_req())
    # Anything else from the server may have come after the label was made: never retry it.
    ship.mock(return_value=httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(AmbiguousOutcomeError, match="HTTP 502"):
        await ups.carrier_buy_label(label_req())


async def test_timeout_after_sending_a_label_request_is_ambiguous(api, ups):
    api.post(SHIP).mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(AmbiguousOutcomeError, match="ReadTimeout"):
        await ups.carrier_buy_label(label_req())


async def test_connection_refused_before_sending_is_transient(api, ups):
    api.post(SHIP).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError, match="could not connect"):
        await ups.carrier_buy_label(label_req())


async def test_unusable_success_answer_is_ambiguous_not_a_failure(api, ups):
    payload = load("ship_gif_two_packages.json")
    results = payload["ShipmentResponse"]["ShipmentResults"]
    results["PackageResults"][1]["ShippingLabel"]["GraphicImage"] = base64.b64encode(
        b"not a gif"
    ).decode()
    api.post(SHIP).mock(return_value=httpx.Response(200, json=payload))
    with pytest.raises(AmbiguousOutcomeError, match=f"shipment {LEAD}.*package 2"):
        await ups.carrier_buy_label(label_req())


async def test_labels_cannot_be_looked_up(ups):
    assert UpsCarrier.capabilities == frozenset()
    with pytest.raises(PermanentError, match="price"):
        await ups.carrier_find_label(LabelLookup(idempotency_key="k", shipment_id="S-1"))


def test_trans_id_is_the_key_or_its_stable_digest():
    assert trans_id_for("label-S-1") == "label-S-1"
    long_key = "label:order:shopify:1001:S-1001-1"
    assert trans_id_for(long_key) == trans_id_for(long_key)
    assert len(trans_id_for(long_key)) == 32 and trans_id_for(long_key) != long_key[:32]


# --------------------------------------------------------------------------- void


async def test_void_single_package(api, ups):
    route = api.delete(f"/api/shipments/v2409/void/cancel/{LEAD}").mock(
        return_value=httpx.Response(200, json=load("void_voided.json"))
    )
    result = await ups.carrier_void_label(VoidRequest(label_id=LEAD, tracking_numbers=(LEAD,)))
    assert result.voided and result.message == "Voided"
    assert "trackingnumber" not in route.calls[0].request.url.params


async def test_void_multi_piece_lists_its_packages(api, ups):
    route = api.delete(f"/api/shipments/v2409/void/cancel/{LEAD}").mock(
        return_value=httpx.Response(200, json=load("void_two_packages.json"))
    )
    result = await ups.carrier_void_label(
        VoidRequest(label_id=LEAD, tracking_numbers=(LEAD, SECOND))
    )
    assert result.voided
    assert route.calls[0].request.url.params["trackingnumber"] == f'["{LEAD}","{SECOND}"]'


async def test_void_partial_and_refused(api, ups):
    route = api.delete(f"/api/shipments/v2409/void/cancel/{LEAD}")
    route.mock(return_value=httpx.Response(200, json=load("void_partial.json")))
    partial = await ups.carrier_void_label(
        VoidRequest(label_id=LEAD, tracking_numbers=(LEAD, SECOND))
    )
    assert not partial.voided and SECOND in partial.message

    route.mock(return_value=httpx.Response(400, json=load("error_void_refused.json")))
    refused = await ups.carrier_void_label(VoidRequest(label_id=LEAD, tracking_numbers=(LEAD,)))
    assert not refused.voided
    assert (
        refused.message
        == "190102: The shipment cannot be voided: the package has already been picked up."
    )


async def test_void_is_idempotent():
    # UPS answers a repeated void with status 1, "Voided or Already Voided" (Shipping.yaml).
    again = load("void_voided.json")
    again["VoidShipmentResponse"]["SummaryResult"]["Status"]["Description"] = "Already Voided"
    result = parse_void_response(again)
    assert result.voided and result.message == "Already Voided"


def test_void_query_shapes():
    assert void_query(LEAD, (LEAD,)) == {}
    assert void_query(LEAD, (SECOND,)) == {"trackingnumber": SECOND}


# --------------------------------------------------------------------------- tracking


async def test_track_to_delivered(api, ups):
    route = api.get(f"/api/track/v1/details/{LEAD}").mock(
        return_value=httpx.Response(200, json=load("track_delivered.json"))
    )
    update = await ups.carrier_track(TrackRequest(tracking_number=LEAD))

    statuses = [(e.carrier_code, e.status) for e in update.events]
    assert statuses == [
        ("FS", TrackingStatus.DELIVERED),
        ("OT", TrackingStatus.OUT_FOR_DELIVERY),
        ("AR", TrackingStatus.IN_TRANSIT),
        ("DP", TrackingStatus.IN_TRANSIT),
        ("OR", TrackingStatus.IN_TRANSIT),
        ("PU", TrackingStatus.IN_TRANSIT),
        ("MP", TrackingStatus.PRE_TRANSIT),
    ]
    delivered = update.events[0]
    assert delivered.occurred_at == datetime(2026, 11, 25, 13, 30, 12, tzinfo=UTC)
    assert delivered.location == "Koeln, DE"
    assert delivered.description == "DELIVERED"
    assert delivered.estimated_delivery is None
    assert update.events[1].occurred_at == datetime(2026, 11, 25, 7, 15, 2, tzinfo=UTC)
    assert all(e.tracking_number == LEAD for e in update.events)
    params = route.calls[0].request.url.params
    assert params["locale"] == "en_US"
    assert route.calls[0].request.headers["transactionsrc"] == "fulfilment-hub"


def test_track_out_for_delivery_with_delivery_window():
    update = parse_track_response(load("track_out_for_delivery.json"), "1Z2220066790451232")
    first, customs, departed, label = update.events
    assert first.status is TrackingStatus.OUT_FOR_DELIVERY and first.carrier_code == "OF"
    assert first.estimated_delivery == datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert first.location == "Portland, OR, US"
    assert customs.status is TrackingStatus.EXCEPTION
    assert customs.occurred_at.isoformat() == "2026-11-26T03:12:00-05:00"
    assert departed.occurred_at == datetime(2026, 11, 25, 21, 15, tzinfo=UTC)
    assert label.status is TrackingStatus.PRE_TRANSIT and label.location is None


async def test_track_unknown_number(api, ups):
    api.get("/api/track/v1/details/1Z2220066790451299").mock(
        return_value=httpx.Response(404, json=load("track_not_found.json"))
    )
    update = await ups.carrier_track(TrackRequest(tracking_number="1Z2220066790451299"))
    assert update.events == ()
    assert parse_track_response(load("track_warning_only.json"), "1Z2220066790451299").events == ()


def test_ups_datetime_reads_ups_clock_shapes():
    assert ups_datetime("20261125", "74700", default=datetime.min.time()) == datetime(
        2026, 11, 25, 7, 47, tzinfo=UTC
    )
    assert ups_datetime("20261125", "1230", default=datetime.min.time()) == datetime(
        2026, 11, 25, 12, 30, tzinfo=UTC
    )
    assert ups_datetime("20261332", "1230", default=datetime.min.time()) is None
    assert ups_datetime("", None, default=datetime.min.time()) is None


def test_phone_digits():
    assert phone_digits("+49 221 1234567", "DE") == "492211234567"
    assert phone_digits("(503) 555-0142", "US") == "5035550142"
    assert phone_digits("call me", "DE") is None
    assert phone_digits(None, "DE") is None


def test_split_service_code():
    assert split_service_code("65-CN") == ("65", True)
    assert split_service_code("65") == ("65", False)


def test_settings_keep_the_secret_out_of_repr():
    text = repr(ups_settings())
    assert "not-a-real-secret" not in text
    with pytest.raises(ValueError, match="account_number"):
        ups_settings(account_number="12")


# --------------------------------------------------------------------------- parsers, fuzzed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
UPS_KEYS = st.sampled_from(
    [
        "RateResponse", "RatedShipment", "Service", "Code", "TotalCharges", "BillingWeight",
        "ShipmentResponse", "ShipmentResults", "PackageResults", "TrackingNumber",
        "ShippingLabel", "GraphicImage", "VoidShipmentResponse", "SummaryResult", "Status",
        "trackResponse", "shipment", "package", "activity", "status", "type", "date", "time",
    ]
)  # fmt: skip


def _parse_rates(payload: object) -> object:
    return parse_rate_response(
        payload, carrier="ups", service_level="standard", carbon_neutral=None
    )


def _parse_label(payload: object) -> object:
    return parse_ship_response(
        payload,
        service_code="11",
        label_format=LabelFormat.PDF,
        tracking_url="{tracking_number}",
        now=SHIP_DATE,
    )


def _parse_track(payload: object) -> object:
    return parse_track_response(payload, LEAD)


def run_parsers(payload: object) -> None:
    """Every parser answers a model or a PermanentError naming the field, nothing else."""
    for parser in (_parse_rates, _parse_label, parse_void_response, _parse_track):
        with contextlib.suppress(PermanentError):
            parser(payload)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | st.dictionaries(UPS_KEYS, JSON, max_size=4))
def test_parsers_never_crash_on_arbitrary_json(payload):
    run_parsers(payload)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


FIXTURE_NAMES = [
    "rate_shop.json", "ship_gif_two_packages.json", "ship_zpl_international.json",
    "void_partial.json", "track_delivered.json", "track_out_for_delivery.json",
]  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXTURE_NAMES), st.data())
def test_parsers_survive_mutated_real_payloads(name, data):
    payload = copy.deepcopy(load(name))
    paths = _paths(payload)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(paths))
        replacement = data.draw(JSON | st.just("__delete__"))
        try:
            parent = payload
            for step in path[:-1]:
                parent = parent[step]
            if replacement == "__delete__":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation already changed this branch
    run_parsers(payload)


@given(
    st.dictionaries(
        st.sampled_from(["type", "code", "description", "statusCode"]),
        st.text(max_size=4) | st.sampled_from(["D", "I", "M", "MV", "X", "U", "P", "OT", "011"]),
    ),
    st.text(alphabet="0123456789", min_size=0, max_size=8),
    st.text(alphabet="0123456789", min_size=0, max_size=6),
)
def test_tracking_parser_maps_any_activity(status, day, clock):
    payload = {
        "trackResponse": {
            "shipment": [
                {
                    "package": [
                        {
                            "trackingNumber": LEAD,
                            "activity": [{"status": status, "date": day, "time": clock}],
                        }
                    ]
                }
            ]
        }
    }
    for event in parse_track_response(payload, LEAD).events:
        assert isinstance(event.status, TrackingStatus)
        assert event.carrier_code and event.occurred_at.tzinfo is not None


# --------------------------------------------------------------------------- machinery


async def test_through_the_hub_host(api, ups):
    api.post(SHOP).mock(return_value=httpx.Response(200, json=load("rate_shop.json")))
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    pm.register(ups, name="carriers.ups")
    pm.check_pending()
    host = PluginHost(pm, {"carriers.ups": ups})

    quotes = await host.quote("ups", rate_req())

    assert quotes[0].service_code == "11" and quotes[0].price.amount == Decimal("9.87")
    with pytest.raises(PermanentError):
        await host.find_label("ups", LabelLookup(idempotency_key="k", shipment_id="S-1001-1"))


def ship_answer(request: httpx.Request) -> httpx.Response:
    """UPS's Ship answer to what was asked: one package result per ``Package``, with labels in
    the ``LabelImageFormat`` asked for (GIF, or ZPL), from the recorded answers."""
    asked = json.loads(request.content)["ShipmentRequest"]
    count = len(asked["Shipment"]["Package"])
    code = asked["LabelSpecification"]["LabelImageFormat"]["Code"]
    payload = load("ship_gif_two_packages.json")
    results = payload["ShipmentResponse"]["ShipmentResults"]
    recorded = results["PackageResults"]
    zpl = load("ship_zpl_international.json")["ShipmentResponse"]["ShipmentResults"]
    packages = []
    for index in range(count):
        package = copy.deepcopy(recorded[index % len(recorded)])
        package["TrackingNumber"] = (LEAD, SECOND)[index] if index < 2 else f"1Z2220060{index:09d}"
        if code == "ZPL":
            package["ShippingLabel"] = copy.deepcopy(zpl["PackageResults"][0]["ShippingLabel"])
        packages.append(package)
    results["PackageResults"] = packages
    return httpx.Response(200, json=payload)


class TestUpsContract(CarrierContract):
    @pytest.fixture
    async def plugin(self, api, ups):
        api.post(SHOP).mock(return_value=httpx.Response(200, json=load("rate_shop.json")))
        api.post(SHIP).mock(side_effect=ship_answer)
        api.get(url__regex=r"/api/track/v1/details/.+").mock(
            return_value=httpx.Response(200, json=load("track_delivered.json"))
        )
        api.delete(url__regex=r"/api/shipments/v2409/void/cancel/.+").mock(
            return_value=httpx.Response(200, json=load("void_two_packages.json"))
        )
        return ups


@pytest.mark.parametrize(
    "image",
    [
        {"ImageFormat": {"Code": "PDF"}, "GraphicImage": "not base64!"},
        {"ImageFormat": {"Code": "HTML"}, "GraphicImage": "PGh0bWw+"},
    ],
)
def test_an_unreadable_invoice_is_left_out_never_the_label(image, caplog):
    payload = load("ship_zpl_international.json")
    payload["ShipmentResponse"]["ShipmentResults"]["Form"]["Image"] = image
    label = mapping.parse_ship_response(
        payload,
        service_code="65",
        label_format=LabelFormat.ZPL,
        tracking_url="https://www.ups.com/track?tracknum={tracking_number}",
        now=datetime(2026, 11, 23, tzinfo=UTC),
    )
    assert label.papers == () and label.tracking_numbers == ("1Z2220066790451232",)
    assert "international forms left out" in caplog.text

"""The PostNord adapter against respx-mocked PostNord APIs, over payloads built from PostNord's
own specs (Booking APIs 3.5.29.1, Track & Trace v7 ``ResponseDto``, Transit Time 2.0.3 and its
example) and the Joaqim/karrio connector's live-captured shapes (fixtures in
tests/plugins/fixtures/postnord). PostNord publishes no list of Track & Trace ``eventCode``
values, so the fixtures' event codes are placeholders; statuses come from each event's
``status``, which is PostNord's documented ``ItemStatus``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    WebhookRequest,
)
from hub.domain.money import Money
from hub.domain.shipment import Dimensions, LabelFormat, Parcel
from hub.domain.tracking import TrackingStatus
from hub.errors import AmbiguousOutcomeError, NotReadyError, PermanentError, TransientError
from hub.plugin import PluginRuntime
from plugins.carriers.postnord import PostnordCarrier, PostnordSettings, responses, tracking
from plugins.carriers.postnord.mapping import customer_reference, error_message
from plugins.carriers.postnord.schemas import LabelPrintout
from plugins.carriers.postnord.store import BookingState
from tests.contract.carrier import CarrierContract
from tests.contract.common import host_for

FIXTURES = Path(__file__).parent / "fixtures" / "postnord"
BASE = "https://atapi2.postnord.com"
API_KEY = "0123456789abcdef0123456789abcdef"
CUSTOMER = "20219446"
KEY = "label:shopify:1001:S-1001-1"
ITEM = "00370730253620001015"
NOW = datetime(2026, 6, 23, 13, 0, tzinfo=UTC)
REFERENCE_PATH = r"^/rest/shipment/v7/trackandtrace/customernumber/\d+/reference/[^/]+/public$"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def answer(status: int, name: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=fixture(name), headers=headers)


PRICES = [
    ("17", "SE", 5000, "79.00"),
    ("17", "SE", 20000, "119.00"),
    ("19", "SE", 5000, "59.00"),
    ("19", "SE", 20000, "89.00"),
    ("18", "SE", 5000, "99.00"),
    ("18", "SE", 35000, "149.00"),
    ("17", "DK", 5000, "129.00"),
    ("19", "DK", 5000, "109.00"),
    ("18", "DK", 20000, "189.00"),
    ("17", "NO", 5000, "199.00"),
    ("18", "NO", 20000, "249.00"),
    ("18", "EU", 20000, "299.00"),
    ("18", "WORLD", 20000, "499.00"),
]


def make_settings(**overrides: Any) -> PostnordSettings:
    values: dict[str, Any] = {
        "api_key": API_KEY,
        "customer_number": CUSTOMER,
        "application_id": 1438,
        "prices": [
            {"service": s, "zone": z, "max_weight_grams": w, "price": p} for s, z, w, p in PRICES
        ],
        "eori_number": "SE5561234711",
        "voec_number": "NO2026001",
    }
    return PostnordSettings.model_validate(values | overrides)


@pytest.fixture
def runtime(tmp_path: Path) -> PluginRuntime:
    return PluginRuntime(data_dir=tmp_path, config_dir=tmp_path)


@pytest.fixture
def postnord() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/rest/shipment/v3/edi/labels/pdf", name="book_pdf").mock(
            side_effect=lambda _: answer(200, "booking_pdf.json")
        )
        router.post("/rest/shipment/v3/edi/labels/zpl", name="book_zpl").mock(
            side_effect=lambda _: answer(200, "booking_zpl_two_parcels.json")
        )
        router.post("/rest/shipment/v3/labels/ids/pdf", name="reprint_pdf").mock(
            side_effect=lambda _: answer(200, "labels_by_ids_pdf.json")
        )
        router.post("/rest/shipment/v3/edi", name="edi").mock(
            side_effect=lambda _: answer(201, "deletion_ok.json")
        )
        router.get("/rest/shipment/v5/trackandtrace/findByIdentifier.json", name="track").mock(
            side_effect=lambda _: answer(200, "tracking_delivered.json")
        )
        router.get(path__regex=REFERENCE_PATH, name="by_reference").mock(
            side_effect=lambda _: answer(200, "find_by_reference.json")
        )
        router.get("/rest/transport/v2/transittime/addresstoaddress", name="transit").mock(
            side_effect=lambda _: answer(200, "transit_times.json")
        )
        yield router


def build(runtime: PluginRuntime, **overrides: Any) -> PostnordCarrier:
    carrier = PostnordCarrier(make_settings(**overrides), runtime)
    carrier.clock = lambda: NOW
    return carrier


@pytest.fixture
async def plugin(
    postnord: respx.MockRouter, runtime: PluginRuntime
) -> AsyncIterator[PostnordCarrier]:
    carrier = build(runtime)
    yield carrier
    await carrier.aclose()


def warehouse() -> Address:
    return Address(
        name="Hub Fulfilment",
        company="Hub Fulfilment AB",
        line1="Drottninggatan 53",
        city="Stockholm",
        postal_code="111 21",
        country="SE",
    )


def customer(country: str = "SE") -> Address:
    addresses = {
        "SE": ("Svea Larsson", "Armégatan 38", "Solna", "171 71"),
        "DK": ("Mette Hansen", "Vesterbrogade 12", "København V", "1620"),
        "NO": ("Ola Nordmann", "Karl Johans gate 22", "Oslo", "0159"),
        "DE": ("Erika Mustermann", "Heidestrasse 17", "Koeln", "51147"),
        "US": ("Nick Fury", "2700 S Jefferson Ave", "St. Louis", "63104"),
    }
    name, line1, city, postal = addresses[country]
    region = "MO" if country == "US" else None
    return Address(
        name=name, line1=line1, city=city, postal_code=postal, country=country, region=region
    )


PARCEL = Parcel(
    weight_grams=1200, dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=100)
)
RECIPIENT = Contact(name="Svea Larsson", email="svea@example.se", phone="070-123 45 67")
ABROAD = Contact(name="Ola Nordmann", email="ola@example.no", phone="+47 912 34 567")


def rate_request(**overrides: Any) -> RateRequest:
    values: dict[str, Any] = {
        "shipment_id": "S-1001-1",
        "ship_from": warehouse(),
        "ship_to": customer(),
        "parcels": (PARCEL,),
        "service_level": "standard",
        "ship_date": datetime(2026, 6, 23, 12, 0, tzinfo=UTC),
        "declared_value": Money(amount=Decimal("499.00"), currency="SEK"),
    }
    return RateRequest(**(values | overrides))


def label_request(**overrides: Any) -> LabelRequest:
    values: dict[str, Any] = {
        "idempotency_key": KEY,
        "shipment_id": "S-1001-1",
        "order_reference": "shopify:1001",
        "service_code": "19",
        "ship_from": warehouse(),
        "ship_to": customer(),
        "recipient": RECIPIENT,
        "parcels": (PARCEL,),
        "label_format": LabelFormat.PDF,
        "declared_value": Money(amount=Decimal("499.00"), currency="SEK"),
        "ship_date": datetime(2026, 6, 23, 14, 0, tzinfo=UTC),
    }
    return LabelRequest(**(values | overrides))


def customs(*values: str, currency: str = "NOK") -> Customs:
    return Customs(
        contents=ContentsType.MERCHANDISE,
        incoterm=Incoterm.DAP,
        items=tuple(
            CustomsItem(
                sku=f"SKU-{index}",
                description="Cotton T-shirt",
                hs_code="610910",
                origin_country="PT",
                quantity=2,
                unit_value=Money(amount=Decimal(value), currency=currency),
                unit_weight_grams=180,
            )
            for index, value in enumerate(values)
        ),
    )


def sent(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def query(route: respx.Route, index: int = -1) -> dict[str, str]:
    return dict(route.calls[index].request.url.params)


# --------------------------------------------------------------------------- settings


def test_settings_check_prices_services_and_zone() -> None:
    with pytest.raises(ValidationError, match="not a service this adapter books"):
        make_settings(prices=[{"service": "99", "zone": "SE", "max_weight_grams": 1, "price": 1}])
    with pytest.raises(ValidationError, match="zone"):
        make_settings(prices=[{"service": "18", "zone": "XX", "max_weight_grams": 1, "price": 1}])
    with pytest.raises(ValidationError, match="prices"):
        make_settings(prices=[])
    with pytest.raises(ValidationError, match="unknown service codes"):
        make_settings(services=("17", "42"))
    with pytest.raises(ValidationError, match="IANA time zone"):
        make_settings(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        make_settings(api_token="typo")


def test_the_api_key_stays_secret() -> None:
    config = make_settings()
    assert API_KEY not in repr(config)
    assert API_KEY not in str(config.model_dump())


# --------------------------------------------------------------------------- quotes


async def test_quotes_come_from_the_price_list_without_a_call(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    quotes = await plugin.carrier_quote(rate_request())
    assert [(q.service_code, q.service_name, q.price.amount) for q in quotes] == [
        ("17", "PostNord MyPack Home", Decimal("79.00")),
        ("19", "PostNord MyPack Collect", Decimal("59.00")),
        ("18", "PostNord Parcel", Decimal("99.00")),
    ]
    for quote in quotes:
        assert quote.carrier == "postnord" and quote.price.currency == "SEK"
        assert quote.billable_weight_grams == 1200
        assert quote.eco_options == ("climate_compensation",)
        assert quote.estimated_delivery is None and quote.co2e_grams is None
        assert quote.label_formats == (LabelFormat.PDF, LabelFormat.ZPL)
    # multiPDF / multiZPL: several parcels come in one document in either format.
    for quote in await plugin.carrier_quote(rate_request(parcels=(PARCEL, PARCEL))):
        assert quote.label_formats == (LabelFormat.PDF, LabelFormat.ZPL)
    assert not postnord.calls


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("DK", [("17", "129.00"), ("19", "109.00"), ("18", "189.00")]),
        ("NO", [("17", "199.00"), ("18", "249.00")]),
        ("DE", [("18", "299.00")]),
        ("US", [("18", "499.00")]),
    ],
)
async def test_zones_are_nordic_countries_then_eu_then_world(
    plugin: PostnordCarrier, country: str, expected: list[tuple[str, str]]
) -> None:
    quotes = await plugin.carrier_quote(rate_request(ship_to=customer(country)))
    assert [(q.service_code, str(q.price.amount)) for q in quotes] == expected


async def test_weight_bands_parcels_and_volumetric_weight(
    postnord: respx.MockRouter, runtime: PluginRuntime
) -> None:
    carrier = build(runtime)
    heavy = Parcel(weight_grams=6000, dimensions=PARCEL.dimensions)
    quotes = await carrier.carrier_quote(rate_request(parcels=(PARCEL, heavy)))
    # 59 + 89 for MyPack Collect; two parcels' weights billed.
    assert [(q.service_code, q.price.amount, q.billable_weight_grams) for q in quotes] == [
        ("17", Decimal("198.00"), 7200),
        ("19", Decimal("148.00"), 7200),
        ("18", Decimal("248.00"), 7200),
    ]
    await carrier.aclose()

    bulky = Parcel(
        weight_grams=1000, dimensions=Dimensions(length_mm=600, width_mm=400, height_mm=400)
    )
    carrier = build(runtime, volumetric_divisor_cm3_per_kg=3571, climate_compensation=False)
    quotes = await carrier.carrier_quote(rate_request(parcels=(bulky,)))
    assert quotes[0].billable_weight_grams == 26883  # 96,000 cm3 / 3571 cm3 per kg
    assert [q.service_code for q in quotes] == ["18"]  # only Parcel has a band up to 35 kg
    assert quotes[0].eco_options == ()
    await carrier.aclose()


async def test_transit_times_add_arrival_and_drop_unbookable_services(
    postnord: respx.MockRouter, runtime: PluginRuntime
) -> None:
    entries = fixture("transit_times.json")
    entries[4]["isBookable"] = False  # MyPack Collect (19) cannot be booked on this route
    postnord["transit"].mock(return_value=httpx.Response(200, json=entries))
    carrier = build(runtime, transit_times=True)
    quotes = await carrier.carrier_quote(rate_request())

    assert query(postnord["transit"]) == {
        "startTime": "2026-06-23T14:00",  # 12:00 UTC is 14:00 in Stockholm
        "serviceCodes": "17,19,18",
        "originPostalCode": "11121",
        "originCountryCode": "SE",
        "destinationPostalCode": "17171",
        "destinationCountryCode": "SE",
        "apikey": API_KEY,
    }
    assert [(q.service_code, q.estimated_delivery) for q in quotes] == [
        ("17", datetime(2026, 6, 24, 19, 0, tzinfo=UTC)),  # 21:00 local
        ("18", datetime(2026, 6, 24, 16, 0, tzinfo=UTC)),  # the plain entry, not "Before 9"
    ]
    await carrier.aclose()


async def test_transit_time_failures_never_fail_a_quote(
    postnord: respx.MockRouter, runtime: PluginRuntime
) -> None:
    postnord["transit"].mock(return_value=answer(403, "error_403_gateway.json"))
    carrier = build(runtime, transit_times=True)
    quotes = await carrier.carrier_quote(rate_request())
    assert [q.service_code for q in quotes] == ["17", "19", "18"]
    assert all(q.estimated_delivery is None for q in quotes)
    # Outside the Nordics Transit Time has nothing to say: no call at all.
    await carrier.carrier_quote(rate_request(ship_to=customer("DE")))
    assert postnord["transit"].call_count == 1
    await carrier.aclose()


# --------------------------------------------------------------------------- labels


async def test_a_booking_sends_the_edi_instruction_and_returns_the_label(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    label = await plugin.carrier_buy_label(label_request())

    assert query(postnord["book_pdf"]) == {
        "labelType": "standard",
        "locale": "sv",
        "paperSize": "A4",
        "multiPDF": "true",
        "apikey": API_KEY,
    }
    body = sent(postnord["book_pdf"])
    assert body == {
        "messageDate": "2026-06-23T13:00:00Z",
        "messageFunction": "Instruction",
        "messageId": body["messageId"],
        "application": {"applicationId": 1438, "name": "fulfilment-hub", "version": "1.0"},
        "updateIndicator": "Original",
        "shipment": [
            {
                "dateAndTimes": {"loadingDate": "2026-06-23T14:00:00Z"},
                "service": {"basicServiceCode": "19", "additionalServiceCode": ["A4"]},
                "numberOfPackages": {"value": 1},
                "totalGrossWeight": {"value": 1.2, "unit": "KGM"},
                "references": [{"referenceNo": KEY, "referenceType": "CU"}],
                "parties": {
                    "consignor": {
                        "issuerCode": "Z12",
                        "partyIdentification": {"partyId": CUSTOMER, "partyIdType": "160"},
                        "party": {
                            "nameIdentification": {
                                "name": "Hub Fulfilment",
                                "companyName": "Hub Fulfilment AB",
                            },
                            "address": {
                                "streets": ["Drottninggatan 53"],
                                "postalCode": "11121",
                                "city": "Stockholm",
                                "countryCode": "SE",
                            },
                        },
                    },
                    "consignee": {
                        "party": {
                            "nameIdentification": {"name": "Svea Larsson"},
                            "address": {
                                "streets": ["Armégatan 38"],
                                "postalCode": "17171",
                                "city": "Solna",
                                "countryCode": "SE",
                            },
                            "contact": {
                                "contactName": "Svea Larsson",
                                "emailAddress": "svea@example.se",
                                "phoneNo": "+46701234567",
                                "smsNo": "+46701234567",
                            },
                        }
                    },
                },
                "goodsItem": [
                    {
                        "packageTypeCode": "PC",
                        "numberOfPackageTypeCodeItems": {"value": 1},
                        "items": [
                            {
                                "itemIdentification": {"itemId": "0"},
                                "grossWeight": {"value": 1.2, "unit": "KGM"},
                                "dimensions": {
                                    "length": {"value": 30.0, "unit": "CMT"},
                                    "width": {"value": 20.0, "unit": "CMT"},
                                    "height": {"value": 10.0, "unit": "CMT"},
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    assert len(body["messageId"]) == 36
    assert label.label_id == KEY
    assert label.tracking_numbers == (ITEM,)
    assert label.service_code == "19"
    assert label.price == Money(amount=Decimal("59.00"), currency="SEK")
    assert label.document.label_format is LabelFormat.PDF
    assert label.document.content.startswith(b"%PDF")
    assert label.tracking_url == f"https://tracking.postnord.com/se/?id={ITEM}"
    assert label.created_at == NOW
    record = plugin.store.load(KEY)
    assert record is not None and record.state is BookingState.BOOKED
    assert record.shipment_id == "70730253620001008"


async def test_two_parcels_in_zpl_get_a_parcel_id_each_in_one_document(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    request = label_request(
        service_code="18", parcels=(PARCEL, PARCEL), label_format=LabelFormat.ZPL
    )
    label = await plugin.carrier_buy_label(request)

    params = query(postnord["book_zpl"])
    assert params["multiZPL"] == "true" and "paperSize" not in params
    shipment = sent(postnord["book_zpl"])["shipment"][0]
    assert len(shipment["goodsItem"]) == 2 and shipment["numberOfPackages"] == {"value": 2}
    assert shipment["totalGrossWeight"] == {"value": 2.4, "unit": "KGM"}
    assert "additionalServiceCode" not in shipment["service"]  # Parcel: nothing added
    assert label.tracking_numbers == ("00370730253620001022", "00370730253620001039")
    assert label.document.content.count(b"^XA") == 2  # raw text printout ("encoding": "none")
    assert label.price.amount == Decimal("198.00")


@pytest.mark.parametrize(
    ("contact", "codes"),
    [
        (RECIPIENT, ["A4"]),
        (Contact(name="Svea Larsson", phone="+46 70 123 45 67"), ["A3"]),
        (Contact(name="Svea Larsson"), ["A2"]),
    ],
)
async def test_mypack_collect_notifies_by_email_sms_or_letter(
    plugin: PostnordCarrier,
    postnord: respx.MockRouter,
    contact: Contact,
    codes: list[str],
) -> None:
    await plugin.carrier_buy_label(label_request(recipient=contact))
    assert sent(postnord["book_pdf"])["shipment"][0]["service"]["additionalServiceCode"] == codes


async def test_mypack_home_adds_flexchange_and_the_eco_option(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    await plugin.carrier_buy_label(
        label_request(service_code="17", eco_option="climate_compensation")
    )
    service = sent(postnord["book_pdf"])["shipment"][0]["service"]
    assert service == {"basicServiceCode": "17", "additionalServiceCode": ["C7", "D9"]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_code": "17", "recipient": Contact(name="Svea")}, r"recipient.phone: .*C7"),
        ({"service_code": "18", "recipient": Contact(name="Svea")}, r"recipient.phone: PostNord"),
        ({"service_code": "19", "ship_to": customer("NO")}, r"ship_to.country: MyPack Collect"),
        ({"service_code": "42"}, r"service_code: '42'"),
        ({"label_format": LabelFormat.PNG}, r"label_format: PostNord makes PDF and ZPL"),
        ({"eco_option": "gogreen_plus"}, r"eco_option: 'gogreen_plus'"),
        ({"service_code": "17", "ship_to": customer("DE")}, r"service_code: no price band"),
        ({"ship_to": customer("SE").model_copy(update={"line1": "x" * 51})}, r"ship_to.line1"),
    ],
)
async def test_bookings_postnord_would_refuse_are_refused_before_any_call(
    plugin: PostnordCarrier,
    postnord: respx.MockRouter,
    overrides: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(PermanentError, match=message):
        await plugin.carrier_buy_label(label_request(**overrides))
    assert not postnord.calls


async def test_a_parcel_to_norway_carries_a_cn22(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    request = label_request(
        service_code="18",
        ship_to=customer("NO"),
        recipient=ABROAD,
        customs=customs("149.00", currency="SEK"),
    )
    await plugin.carrier_buy_label(request)
    shipment = sent(postnord["book_pdf"])["shipment"][0]
    assert "customsDeclarationCN23" not in shipment
    assert shipment["customsDeclarationCN22"] == {
        "categoryOfItem": {"categoryType": ["SALE OF GOODS"]},
        "detailedDescription": [
            {
                "rowNo": 1,
                "content": "Cotton T-shirt",
                "quantity": {"value": 2},
                "grossWeight": {"value": 0.36, "unit": "KGM"},
                "value": {"amount": 298.0, "currency": "SEK"},
                "hsTariffNumber": "610910",
                "countryCode": "PT",
            }
        ],
        "totalGrossWeight": {"value": 0.36, "unit": "KGM"},
        "totalValue": {"amount": 298.0, "currency": "SEK"},
        "EORIorPersonalIdNumber": "SE5561234711",
        "voec": "NO2026001",
    }
    assert shipment["termsOfDelivery"] == {
        "todConditionCode": "DAP",
        "todConditionCodeList": "1990",
    }
    assert query(postnord["book_pdf"])["locale"] == "no"


async def test_valuable_or_foreign_currency_goods_get_a_cn23(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    request = label_request(
        service_code="18",
        ship_to=customer("NO"),
        recipient=ABROAD,
        customs=customs("1900.00", "350.00"),
    )
    await plugin.carrier_buy_label(request)
    declaration = sent(postnord["book_pdf"])["shipment"][0]["customsDeclarationCN23"]
    assert declaration["totalValue"] == {"amount": 4500.0, "currency": "NOK"}
    assert declaration["postalCharges"] == {"amount": 249.0, "currency": "SEK"}
    assert declaration["dateOfPosting"] == "2026-06-23T14:00:00Z"
    assert [c["detailedDescRowNo"] for c in declaration["commercialItems"]] == [1, 2]


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (None, r"customs: a parcel from SE to NO crosses a customs border"),
        (customs(*["10.00"] * 14), r"customs.items: PostNord takes at most 13 lines"),
    ],
)
async def test_customs_problems_are_refused_before_any_call(
    plugin: PostnordCarrier,
    postnord: respx.MockRouter,
    declaration: Customs | None,
    message: str,
) -> None:
    request = label_request(
        service_code="18", ship_to=customer("NO"), recipient=ABROAD, customs=declaration
    )
    with pytest.raises(PermanentError, match=message):
        await plugin.carrier_buy_label(request)
    assert not postnord.calls


async def test_no_customs_inside_the_eu(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    await plugin.carrier_buy_label(
        label_request(service_code="17", ship_to=customer("DK"), recipient=ABROAD)
    )
    shipment = sent(postnord["book_pdf"])["shipment"][0]
    assert not [key for key in shipment if key.startswith(("customs", "termsOf"))]
    assert query(postnord["book_pdf"])["locale"] == "da"


# --------------------------------------------------------------------------- errors


async def test_a_refusal_inside_a_200_is_permanent(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(return_value=answer(200, "booking_refused.json"))
    with pytest.raises(PermanentError, match="grossWeight exceeds maximum for service"):
        await plugin.carrier_buy_label(label_request())
    record = plugin.store.load(KEY)
    assert record is not None and record.state is BookingState.FAILED
    assert (
        await plugin.carrier_find_label(LabelLookup(idempotency_key=KEY, shipment_id="S")) is None
    )


async def test_a_400_carries_postnords_fault_but_not_the_values(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(return_value=answer(400, "error_400_validation.json"))
    with pytest.raises(PermanentError) as caught:
        await plugin.carrier_buy_label(label_request())
    assert str(caught.value) == (
        f"PostNord booking {KEY}: HTTP 400: Invalid indata object EdiInstruction: consignee "
        "party postalCode is not valid for countryCode (postalCode) [API-005]"
    )


@pytest.mark.parametrize(
    ("status", "name"), [(401, "error_403_gateway.json"), (403, "error_403_gateway.json")]
)
async def test_a_rejected_key_is_permanent_and_not_retried(
    plugin: PostnordCarrier, postnord: respx.MockRouter, status: int, name: str
) -> None:
    # An API key has no token to refresh: a 401/403 means the key lacks the product.
    postnord["book_pdf"].mock(return_value=answer(status, name))
    with pytest.raises(PermanentError, match=f"HTTP {status}: Forbidden: Invalid API Key"):
        await plugin.carrier_buy_label(label_request())
    assert postnord["book_pdf"].call_count == 1


async def test_a_429_is_transient_with_retry_after(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(return_value=answer(429, "error_429.json", **{"Retry-After": "20"}))
    with pytest.raises(TransientError, match="Rate limit exceeded") as caught:
        await plugin.carrier_buy_label(label_request())
    assert caught.value.retry_after == 20.0
    record = plugin.store.load(KEY)
    assert record is not None and record.state is BookingState.FAILED  # turned away: no booking


async def test_a_503_is_transient_but_a_500_is_ambiguous(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(return_value=answer(503, "error_503.json"))
    with pytest.raises(TransientError, match="HTTP 503"):
        await plugin.carrier_buy_label(label_request())
    postnord["book_pdf"].mock(return_value=httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(AmbiguousOutcomeError, match="HTTP 500 after the request reached"):
        await plugin.carrier_buy_label(label_request())
    record = plugin.store.load(KEY)
    assert record is not None and record.state is BookingState.PENDING


async def test_a_timeout_after_sending_is_ambiguous_and_never_retried(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError, match="no answer after the request was sent"):
        await plugin.carrier_buy_label(label_request())
    assert postnord["book_pdf"].call_count == 1


async def test_a_connection_never_made_is_transient(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(TransientError, match="could not connect"):
        await plugin.carrier_buy_label(label_request())


async def test_tracking_5xx_is_transient(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["track"].mock(return_value=httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(TransientError, match="HTTP 502"):
        await plugin.carrier_track(TrackRequest(tracking_number=ITEM))


def test_error_envelopes_in_words() -> None:
    assert error_message(fixture("error_403_gateway.json")) == "Forbidden: Invalid API Key"
    nested = {"errorResponse": fixture("error_429.json")}
    assert error_message(nested) == (
        "The user has sent too many requests in a given amount of time.: Rate limit exceeded "
        "[API-429]"
    )
    assert error_message(["not", "an", "envelope"]) is None


# --------------------------------------------------------------------------- reconciling


async def test_an_unreadable_label_is_ambiguous_and_printed_again_by_parcel_id(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    broken = fixture("booking_pdf.json")
    broken["labelPrintout"][0]["printout"]["data"] = "not base64 at all!"
    postnord["book_pdf"].mock(return_value=httpx.Response(200, json=broken))
    with pytest.raises(AmbiguousOutcomeError, match=f"booked {KEY} \\(parcels {ITEM}\\)"):
        await plugin.carrier_buy_label(label_request())

    found = await plugin.carrier_find_label(LabelLookup(idempotency_key=KEY, shipment_id="S"))
    assert found is not None and found.tracking_numbers == (ITEM,)
    assert found.document.content.startswith(b"%PDF")
    # By the print id the booking answer gave (the parcel id when it gave none).
    print_id = "31eed2dad84b48a2ba92a26590a0a69f"
    assert sent(postnord["reprint_pdf"]) == [{"id": print_id, "labelType": "standard"}]
    assert query(postnord["reprint_pdf"])["multiPDF"] == "true"
    assert not postnord["by_reference"].called  # the parcel ids were known


async def test_a_lost_answer_is_found_by_reference_in_track_and_trace(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError):
        await plugin.carrier_buy_label(label_request())

    found = await plugin.carrier_find_label(LabelLookup(idempotency_key=KEY, shipment_id="S"))
    assert found is not None and found.tracking_numbers == (ITEM,)
    assert found.price.amount == Decimal("59.00")  # as recorded before the booking call
    assert sent(postnord["reprint_pdf"]) == [{"id": ITEM, "labelType": "standard"}]
    url = postnord["by_reference"].calls.last.request.url
    assert (
        url.path
        == f"/rest/shipment/v7/trackandtrace/customernumber/{CUSTOMER}/reference/{KEY}/public"
    )

    # The same key again books nothing: the record now knows the parcels.
    again = await plugin.carrier_buy_label(label_request())
    assert again.tracking_numbers == (ITEM,)
    assert postnord["book_pdf"].call_count == 1


async def test_a_young_booking_not_yet_shown_is_asked_about_again_later(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError):
        await plugin.carrier_buy_label(label_request())
    postnord["by_reference"].mock(return_value=answer(200, "find_by_reference_empty.json"))
    lookup = LabelLookup(idempotency_key=KEY, shipment_id="S-1001-1")

    plugin.clock = lambda: NOW + timedelta(seconds=30)
    with pytest.raises(NotReadyError, match="shows no booking") as caught:
        await plugin.carrier_find_label(lookup)
    assert caught.value.retry_after == 60.0

    plugin.clock = lambda: NOW + timedelta(minutes=11)
    assert await plugin.carrier_find_label(lookup) is None  # concluded: never booked
    record = plugin.store.load(KEY)
    assert record is not None and record.state is BookingState.FAILED


async def test_two_bookings_under_one_reference_need_a_person(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["book_pdf"].mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(AmbiguousOutcomeError):
        await plugin.carrier_buy_label(label_request())
    twice = fixture("find_by_reference.json")
    shipments = twice["TrackingInformationResponse"]["shipments"]
    shipments.append(shipments[0] | {"shipmentId": "70730253620009992"})
    postnord["by_reference"].mock(return_value=httpx.Response(200, json=twice))
    with pytest.raises(PermanentError, match="2 shipments under reference"):
        await plugin.carrier_find_label(LabelLookup(idempotency_key=KEY, shipment_id="S"))


async def test_nothing_attempted_means_nothing_to_find(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    lookup = LabelLookup(idempotency_key="label:never:booked", shipment_id="S-9")
    assert await plugin.carrier_find_label(lookup) is None
    assert not postnord.calls


def test_long_keys_become_short_stable_references() -> None:
    assert customer_reference(KEY) == KEY
    long_key = "label:amazon:123-4567890-1234567:S-123-4567890-1234567-1"
    reference = customer_reference(long_key)
    assert reference == customer_reference(long_key) and len(reference) == 35
    assert reference.startswith("hub-")
    assert customer_reference("a/b") != "a/b" and customer_reference("..") != ".."


# --------------------------------------------------------------------------- voids


async def test_a_void_sends_a_deletion_and_is_idempotent(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    label = await plugin.carrier_buy_label(label_request())
    request = VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    result = await plugin.carrier_void_label(request)

    assert result.voided and result.message == f"{KEY}: cancelled {ITEM}"
    body = sent(postnord["edi"])
    assert body["updateIndicator"] == "Deletion"
    assert body["messageId"] != sent(postnord["book_pdf"])["messageId"]
    assert body["shipment"] == [
        {
            "shipmentIdentification": {"shipmentId": "70730253620001008"},
            "service": {"basicServiceCode": "19"},
            "references": [{"referenceNo": KEY, "referenceType": "CU"}],
            "parties": {
                "consignor": sent(postnord["book_pdf"])["shipment"][0]["parties"]["consignor"]
            },
            "goodsItem": [
                {"packageTypeCode": "PC", "items": [{"itemIdentification": {"itemId": ITEM}}]}
            ],
        }
    ]
    again = await plugin.carrier_void_label(request)
    assert again.voided and "already cancelled" in again.message
    assert postnord["edi"].call_count == 1


async def test_a_deletion_answered_with_new_parcels_is_not_a_void(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    label = await plugin.carrier_buy_label(label_request())
    postnord["edi"].mock(return_value=answer(201, "deletion_duplicate.json"))
    result = await plugin.carrier_void_label(
        VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    )
    assert not result.voided and "00370730253620009999" in result.message


async def test_only_swedish_agreements_can_cancel_a_booking(
    postnord: respx.MockRouter, runtime: PluginRuntime
) -> None:
    carrier = build(runtime, issuer_code="Z11", customer_number="123456789")
    label = await carrier.carrier_buy_label(label_request())
    with pytest.raises(PermanentError, match="only under PostNord Sweden \\(Z12\\)"):
        await carrier.carrier_void_label(
            VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
        )
    assert not postnord["edi"].called
    assert label.tracking_url == f"https://tracking.postnord.com/se/?id={ITEM}"  # from PostNord
    await carrier.aclose()


async def test_a_void_without_a_record_says_why(plugin: PostnordCarrier) -> None:
    with pytest.raises(PermanentError, match="no booking record"):
        await plugin.carrier_void_label(VoidRequest(label_id="unknown", tracking_numbers=(ITEM,)))


# --------------------------------------------------------------------------- tracking


async def test_tracking_through_delivery_at_a_service_point(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    update = await plugin.carrier_track(TrackRequest(tracking_number=ITEM))

    assert query(postnord["track"]) == {"id": ITEM, "locale": "en", "apikey": API_KEY}
    assert [(e.carrier_code, e.status) for e in update.events] == [
        ("EDI_RECEIVED", TrackingStatus.PRE_TRANSIT),
        ("ARRIVED_AT_TERMINAL", TrackingStatus.IN_TRANSIT),
        ("DEPARTED_TERMINAL", TrackingStatus.IN_TRANSIT),
        ("AVAILABLE_AT_SERVICE_POINT", TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("DELIVERED", TrackingStatus.DELIVERED),
    ]
    delivered = update.events[-1]
    assert delivered.tracking_number == ITEM
    assert delivered.description == "The shipment item has been delivered"
    assert delivered.location == "ICA Nära Armégatan, 17171 Solna, SE"
    assert delivered.occurred_at == datetime(2026, 6, 25, 15, 3, 45, tzinfo=UTC)  # 17:03 CEST
    assert delivered.estimated_delivery == datetime(2026, 6, 24, 10, 0, tzinfo=UTC)
    assert update.events[0].location == "PostNord, SE"


async def test_tracking_picks_the_parcel_asked_about(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["track"].mock(return_value=answer(200, "tracking_in_transit_dk.json"))
    first = await plugin.carrier_track(TrackRequest(tracking_number="00370730253620001022"))
    assert [e.status for e in first.events] == [TrackingStatus.PRE_TRANSIT] + [
        TrackingStatus.IN_TRANSIT
    ] * 2
    assert first.events[1].occurred_at == datetime(2026, 6, 24, 7, 30, tzinfo=UTC)  # Denmark
    assert first.events[-1].estimated_delivery == datetime(2026, 6, 26, 14, 0, tzinfo=UTC)
    second = await plugin.carrier_track(TrackRequest(tracking_number="00370730253620001039"))
    assert (
        len(second.events) == 1
        and second.events[0].location == "Brøndby Pakkecenter, 2605 Brøndby, DK"
    )


async def test_unknown_parcels_have_no_events(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    postnord["track"].mock(return_value=answer(200, "tracking_not_found.json"))
    assert (await plugin.carrier_track(TrackRequest(tracking_number=ITEM))).events == ()
    postnord["track"].mock(return_value=httpx.Response(404, json={}))
    assert (await plugin.carrier_track(TrackRequest(tracking_number=ITEM))).events == ()


async def test_a_strange_tracking_number_never_reaches_a_url(
    plugin: PostnordCarrier, postnord: respx.MockRouter
) -> None:
    with pytest.raises(PermanentError, match="tracking_number"):
        await plugin.carrier_track(TrackRequest(tracking_number="../edi?x=1"))
    assert not postnord.calls


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("INFORMED", TrackingStatus.PRE_TRANSIT),
        ("EXPECTED_DELAY", TrackingStatus.IN_TRANSIT),
        ("AVAILABLE_FOR_DELIVERY_PAR_LOC", TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("DELIVERY_IMPOSSIBLE", TrackingStatus.DELIVERY_FAILED),
        ("DELIVERY_REFUSED", TrackingStatus.DELIVERY_FAILED),
        ("RETURNED", TrackingStatus.RETURN_TO_SENDER),
        ("STOPPED", TrackingStatus.EXCEPTION),
        ("OTHER", TrackingStatus.UNKNOWN),
        ("SOMETHING_NEW", TrackingStatus.UNKNOWN),
        (None, TrackingStatus.UNKNOWN),
    ],
)
def test_item_statuses(code: str | None, status: TrackingStatus) -> None:
    assert tracking.status_of(code) is status


def test_a_malformed_event_time_names_the_field() -> None:
    payload = fixture("tracking_delivered.json")
    payload["TrackingInformationResponse"]["shipments"][0]["items"][0]["events"][2]["eventTime"] = (
        "yesterday"
    )
    with pytest.raises(PermanentError, match=r"items.events.2.eventTime 'yesterday'"):
        tracking.parse_tracking(ITEM, payload, "Europe/Stockholm")


# --------------------------------------------------------------------------- parsers, fuzzed

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_KEYS = ["eventTime", "eventCode", "status", "eventDescription", "location"]
ITEM_KEYS = ["itemId", "status", "estimatedTimeOfArrival", "events"]


@st.composite
def mutated_tracking(draw: st.DrawFn) -> Any:
    payload = fixture(
        draw(st.sampled_from(["tracking_delivered.json", "tracking_in_transit_dk.json"]))
    )
    shipment = payload["TrackingInformationResponse"]["shipments"][0]
    for item in shipment["items"]:
        for key in draw(st.lists(st.sampled_from(ITEM_KEYS), max_size=2)):
            item[key] = draw(JSON)
        for event in item["events"] if isinstance(item.get("events"), list) else []:
            if not isinstance(event, dict):
                continue
            for key in draw(st.lists(st.sampled_from(EVENT_KEYS), max_size=3)):
                if draw(st.booleans()):
                    event.pop(key, None)
                else:
                    event[key] = draw(
                        JSON | st.datetimes().map(datetime.isoformat) | st.sampled_from(["", "Z"])
                    )
    for key in draw(
        st.lists(st.sampled_from(["shipmentId", "estimatedTimeOfArrival", "items"]), max_size=2)
    ):
        shipment[key] = draw(JSON)
    return payload


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    number=st.sampled_from([ITEM, "00370730253620001022", "70730253620001008"]),
    payload=st.one_of(JSON, mutated_tracking()),
)
def test_tracking_parser_never_crashes(number: str, payload: Any) -> None:
    try:
        update = tracking.parse_tracking(number, payload, "Europe/Stockholm")
    except PermanentError as exc:
        assert str(exc).startswith("PostNord tracking")
        return
    times = [event.occurred_at for event in update.events]
    assert times == sorted(times)
    for event in update.events:
        assert event.tracking_number == number and event.carrier_code
        assert isinstance(event.status, TrackingStatus)
        assert event.occurred_at.tzinfo is not None


@st.composite
def mutated_booking(draw: st.DrawFn) -> Any:
    payload = fixture(draw(st.sampled_from(["booking_pdf.json", "booking_zpl_two_parcels.json"])))
    info = payload["bookingResponse"]["idInformation"][0]
    for key in draw(
        st.lists(st.sampled_from(["status", "ids", "urls", "errorResponse"]), max_size=2)
    ):
        info[key] = draw(JSON)
    printout = payload["labelPrintout"][0]["printout"]
    for key in draw(st.lists(st.sampled_from(["data", "encoding", "type"]), max_size=2)):
        printout[key] = draw(JSON | st.sampled_from(["base64", "none", "^XA^XZ", "JVBERi0="]))
    return payload


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of(JSON, mutated_booking()), parcels=st.integers(1, 2), zpl=st.booleans())
def test_booking_parser_never_crashes(payload: Any, parcels: int, zpl: bool) -> None:
    fmt = LabelFormat.ZPL if zpl else LabelFormat.PDF
    try:
        read = responses.read_label_response(payload)
        made = responses.booked(read, parcels)
        content = responses.label_document(read.labelPrintout, fmt)
    except (responses.UnreadableAnswer, PermanentError) as exc:
        assert str(exc)
        return
    assert len(made.item_ids) == parcels and all(made.item_ids)
    assert responses.MAGIC[fmt] in content


@settings(max_examples=150)
@given(st.one_of(JSON, st.lists(st.builds(dict, JSON.filter(lambda v: isinstance(v, dict))))))
def test_deletion_and_printout_readers_never_crash(payload: Any) -> None:
    result = responses.deletion_result(payload, (ITEM,))
    assert result.message
    try:
        printouts: list[LabelPrintout] = responses.read_printouts(payload)
        responses.label_document(printouts, LabelFormat.PDF)
    except responses.UnreadableAnswer as exc:
        assert str(exc)


# --------------------------------------------------------------------------- machinery


async def test_through_the_plugin_host(plugin: PostnordCarrier, postnord: respx.MockRouter) -> None:
    host = host_for(plugin)
    quotes = await host.quote("postnord", rate_request())
    assert [q.service_code for q in quotes] == ["17", "19", "18"]
    label = await host.buy_label("postnord", label_request(service_code=quotes[1].service_code))
    found = await host.find_label("postnord", LabelLookup(idempotency_key=KEY, shipment_id="S"))
    assert found is not None and found.tracking_numbers == label.tracking_numbers
    update = await host.track("postnord", TrackRequest(tracking_number=label.tracking_numbers[0]))
    assert update.events[-1].status is TrackingStatus.DELIVERED
    voided = await host.void_label(
        "postnord", VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers)
    )
    assert voided.voided
    push = WebhookRequest(plugin="postnord", headers={}, body=b"{}", received_at=NOW)
    with pytest.raises(PermanentError, match="does not implement carrier_parse_tracking_webhook"):
        await host.parse_tracking_webhook("postnord", push)  # PostNord documents no push


async def test_logs_carry_ids_not_the_key_or_addresses(
    plugin: PostnordCarrier, postnord: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await plugin.carrier_buy_label(label_request())
        await plugin.carrier_track(TrackRequest(tracking_number=ITEM))
    text = caplog.text
    assert ITEM in text and "HTTP Request" in text  # httpx logs its requests...
    for secret in (API_KEY, "Svea", "Armégatan", "svea@example.se", "70123"):
        assert secret not in text  # ...without the key, which only the wire carries


def booked_as_asked(request: httpx.Request) -> httpx.Response:
    """PostNord's booking answer to what was asked: one item id per package, the printout in
    the format of the path (``/edi/labels/pdf`` or ``/zpl``), from the recorded answers."""
    count = json.loads(request.content)["shipment"][0]["numberOfPackages"]["value"]
    zpl = request.url.path.endswith("/zpl")
    payload = fixture("booking_zpl_two_parcels.json" if zpl else "booking_pdf.json")
    items = [f"003707302536200{index + 1:02d}015" for index in range(count)]
    info = payload["bookingResponse"]["idInformation"][0]
    shipment = [entry for entry in info["ids"] if entry["idType"] != "itemId"]
    info["ids"] = [
        {"idType": "itemId", "value": item, "printId": f"p{index}"}
        for index, item in enumerate(items)
    ] + shipment
    (printout,) = payload["labelPrintout"]
    printout["itemIds"] = [
        {"itemIds": item, "printId": f"p{index}", "basicServiceCode": "19", "status": "OK"}
        for index, item in enumerate(items)
    ]
    return httpx.Response(200, json=payload)


class TestPostnordContract(CarrierContract):
    @pytest.fixture
    async def plugin(
        self, postnord: respx.MockRouter, runtime: PluginRuntime
    ) -> AsyncIterator[PostnordCarrier]:
        postnord["book_pdf"].mock(side_effect=booked_as_asked)
        postnord["book_zpl"].mock(side_effect=booked_as_asked)
        # Many bookings in one test: no waiting on the client-side pacing.
        carrier = PostnordCarrier(make_settings(requests_per_second=1000), runtime)
        yield carrier
        await carrier.aclose()

    @pytest.fixture
    def rate_request(self) -> RateRequest:
        return rate_request(ship_date=datetime.now(UTC))

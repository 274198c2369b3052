"""Each carrier adapter end to end on a real Temporal server, as the only carrier: the hub
rates the shipment, buys the label, sends the tracking number to the channel and tracks the
parcel to delivery, against the carrier's request and response shapes (respx fakes built
from the adapter's own fixtures)."""

from __future__ import annotations

import httpx
import pytest
import respx

from hub.domain.address import Contact
from hub.domain.status import OrderStage
from hub.domain.tracking import TrackingStatus
from hub.plugin import Family
from tests.conftest import hub_runtime
from tests.e2e.carriers import BERLIN, BROOKLYN, DHL, UPS, USPS, only_carrier
from tests.e2e.orders import run_order
from tests.integration.test_durability import VALID_ONLY
from tests.plugins import test_dhl as dhl
from tests.plugins import test_postnord as postnord
from tests.plugins import test_ups as ups
from tests.plugins import test_usps as usps

pytestmark = pytest.mark.integration


async def test_ups_rates_labels_confirms_and_tracks_an_order(hub_settings):
    settings = hub_settings(
        **VALID_ONLY,
        carriers={"ups": UPS, "sandbox": {"enabled": False}},
    )
    with respx.mock(base_url=ups.BASE, assert_all_called=False) as api:
        api.post(ups.TOKEN).respond(200, json=ups.load("token.json"))
        rate = api.post(ups.SHOP).respond(200, json=ups.load("rate_shop.json"))
        ship = api.post(ups.SHIP).respond(200, json=ups.load("ship_gif_two_packages.json"))
        track = api.get(url__regex=r"/api/track/v1/details/.+").mock(side_effect=_ups_delivered)
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["ups"]
            state = await run_order(rt)
            market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
            confirmations = market.confirmations(state.order.external_id)  # type: ignore[attr-defined]

    assert state.stage is OrderStage.COMPLETED, state.details
    assert rate.called and ship.call_count == len(state.shipments) and track.called
    for shipment in state.shipments:
        assert shipment.carrier is not None and shipment.carrier.carrier == "ups"
        assert shipment.carrier.reason
        assert shipment.label is not None and shipment.label.tracking_number.startswith("1Z")
        assert shipment.tracking_status is TrackingStatus.DELIVERED
    assert {c.tracking_number for c in confirmations} == {
        s.label.tracking_number for s in state.shipments if s.label
    }
    assert {c.carrier for c in confirmations} == {"ups"}


def _ups_delivered(request: httpx.Request) -> httpx.Response:
    """UPS's delivered answer for whichever package is asked about (each is tracked)."""
    number = request.url.path.rsplit("/", 1)[-1]
    payload = ups.load("track_delivered.json")
    for shipment in payload["trackResponse"]["shipment"]:
        for package in shipment["package"]:
            package["trackingNumber"] = number
    return httpx.Response(200, json=payload)


async def test_usps_rates_labels_confirms_and_tracks_a_us_order(hub_settings, tmp_path):
    """USPS ships inside the US: the warehouse is in Brooklyn, the customer in St. Louis."""
    settings = only_carrier(hub_settings, tmp_path, "usps", USPS, BROOKLYN)
    nick = Contact(name="Nick Fury", email="nick@example.com", phone="+1 314 555 0100")
    with respx.mock(base_url=usps.BASE, assert_all_called=False) as api:
        api.post("/oauth2/v3/token").respond(json=usps.fixture("oauth_token.json"))
        api.post("/payments/v3/payment-authorization").respond(
            json=usps.fixture("payment_authorization.json")
        )
        rates = api.post("/prices/v3/total-rates/search").respond(
            json=usps.fixture("total_rates.json")
        )
        label = api.post("/labels/v3/label").mock(side_effect=lambda _: usps.pdf_label())
        track = api.get(f"/tracking/v3/tracking/{usps.TRACKING_NUMBER}").respond(
            json=usps.fixture("tracking_delivered.json")
        )
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["usps"]
            state = await run_order(rt, to=usps.customer(), customer=nick)
            market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
            confirmations = market.confirmations(state.order.external_id)  # type: ignore[attr-defined]

    assert state.stage is OrderStage.COMPLETED, state.details
    assert rates.called and label.call_count == 1 and track.called
    (shipment,) = state.shipments
    assert shipment.label is not None and shipment.label.tracking_number == usps.TRACKING_NUMBER
    assert label.calls[0].request.headers["x-idempotency-key"]  # USPS dedupes retries itself
    assert shipment.tracking_status is TrackingStatus.DELIVERED
    assert [c.tracking_number for c in confirmations] == [usps.TRACKING_NUMBER]


async def test_dhl_parcel_de_rates_labels_confirms_and_tracks_a_german_order(
    hub_settings, tmp_path
):
    """DHL Parcel DE ships from Germany: the warehouse is in Berlin, the customer in Cologne.
    Quotes come from the seller's price list, checked by DHL's `validate` dry run."""
    settings = only_carrier(hub_settings, tmp_path, "dhl", DHL, BERLIN)
    erika = Contact(name="Erika Mustermann", email="erika@example.com", phone="+49 221 1234567")
    with respx.mock(base_url=dhl.BASE, assert_all_called=False) as api:
        api.post(dhl.TOKEN).respond(json=dhl.fixture("oauth_token.json"))
        validate = api.post(dhl.ORDERS, params={"validate": "true"}).mock(side_effect=dhl.all_valid)
        create = api.post(dhl.ORDERS).respond(json=dhl.fixture("create_pdf.json"))
        track = api.get(dhl.TRACK_URL).respond(json=dhl.fixture("track_delivered.json"))
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["dhl"]
            state = await run_order(rt, to=dhl.customer(), customer=erika)
            market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
            confirmations = market.confirmations(state.order.external_id)  # type: ignore[attr-defined]

    assert state.stage is OrderStage.COMPLETED, state.details
    assert validate.called and create.call_count == 1 and track.called
    (shipment,) = state.shipments
    assert shipment.label is not None and shipment.label.tracking_number == dhl.NUMBER
    assert shipment.carrier is not None and shipment.carrier.service_code.startswith("V01PAK")
    assert shipment.tracking_status is TrackingStatus.DELIVERED
    assert [c.tracking_number for c in confirmations] == [dhl.NUMBER]


async def test_postnord_books_confirms_and_tracks_a_swedish_order(hub_settings):
    """PostNord from the default Stockholm warehouse to Solna: price list quote, EDI booking
    with the label, tracking to delivery."""
    postnord_settings = {
        "api_key": postnord.API_KEY,
        "customer_number": postnord.CUSTOMER,
        "application_id": 1438,
        "prices": [
            {"service": s, "zone": z, "max_weight_grams": w, "price": p}
            for s, z, w, p in postnord.PRICES
        ],
    }
    settings = hub_settings(
        **VALID_ONLY, carriers={"postnord": postnord_settings, "sandbox": {"enabled": False}}
    )
    svea = Contact(name="Svea Larsson", email="svea@example.se", phone="070-123 45 67")
    with respx.mock(base_url=postnord.BASE, assert_all_called=False) as api:
        book = api.post("/rest/shipment/v3/edi/labels/pdf").mock(
            side_effect=lambda _: postnord.answer(200, "booking_pdf.json")
        )
        track = api.get("/rest/shipment/v5/trackandtrace/findByIdentifier.json").mock(
            side_effect=lambda _: postnord.answer(200, "tracking_delivered.json")
        )
        async with hub_runtime(settings) as rt:
            assert rt.host.names(Family.CARRIERS) == ["postnord"]
            state = await run_order(rt, to=postnord.customer("SE"), customer=svea)
            market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
            confirmations = market.confirmations(state.order.external_id)  # type: ignore[attr-defined]

    assert state.stage is OrderStage.COMPLETED, state.details
    assert book.call_count == 1 and track.called
    (shipment,) = state.shipments
    assert shipment.label is not None and shipment.label.tracking_number == postnord.ITEM
    assert shipment.tracking_status is TrackingStatus.DELIVERED
    assert [c.tracking_number for c in confirmations] == [postnord.ITEM]

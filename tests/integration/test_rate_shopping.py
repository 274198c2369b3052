"""Rate shopping across carriers on the session's Temporal server: every enabled carrier quotes
the shipment, the carrier rules choose one (the reason is in the order's status), and exactly
that carrier's label is bought, as chosen: its service, eco option and label format, declaring
the goods of its own shipment. DHL is the real adapter against respx fakes of its API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
import respx

from hub.domain.address import Contact
from hub.domain.messages import LabelRequest, PurchasedLabel, Quote, RateRequest
from hub.domain.money import Money
from hub.domain.shipment import LabelFormat
from hub.domain.status import OrderStage
from hub.intake import IntakeOutcome
from hub.plugin import Family
from hub.workflows.contracts import OrderState
from hub.workflows.order import OrderWorkflow
from tests.conftest import ROOT, hub_runtime
from tests.e2e.carriers import BERLIN, DHL
from tests.e2e.catalog import catalog_file
from tests.e2e.orders import GOTHENBURG, SARA
from tests.integration.test_durability import VALID_ONLY
from tests.plugins import test_dhl as dhl

pytestmark = pytest.mark.integration

DHL_PAKET = {**DHL, "prices": [{"product": "V01PAK", "max_weight_grams": 31500, "price": "6.50"}]}
"""One product at a price between the sandbox's Economy and its Carbon Neutral Standard for the
socks' box (5.99 and 7.74 within Germany at 2-5 kg billable), so the rules decide who wins."""
ERIKA = Contact(name="Erika Mustermann", email="erika@example.com", phone="+49 221 1234567")
CRATE = (
    "[[products]]\n"
    'sku = "CRATE-OAK"\nname = "Oak crate"\nbarcode = "7350123499999"\nprice = "120.00"\n'
    "weight_grams = 14000\ndimensions_mm = [300, 250, 200]\n"
    'hs_code = "441520"\ncountry_of_origin = "SE"\n\n'
    '[[warehouses]]\ncode = "BER1"\nname = "Berlin"\n' + BERLIN + "\n\n"
    '[[stock]]\nwarehouse = "BER1"\nsku = "CRATE-OAK"\nlocation = "01-01-1"\non_hand = 20\n'
)
"""14 kg a crate: two do not go in one box (at most 25 kg), so an order of two is two parcels."""


def berlin_with_dhl(hub_settings: Any, catalog: Path, *, sandbox: bool = True, **rules: Any) -> Any:
    """A Berlin warehouse shipping with the sandbox carrier and DHL, by these carrier rules;
    the shop sells what the warehouse stocks (seed 21: the first order has two units)."""
    shop = {**VALID_ONLY["marketplaces"]["sandbox"], "catalog_file": str(catalog)}
    return hub_settings(
        marketplaces={"sandbox": shop},
        warehouses={"embedded": {"catalog_file": str(catalog)}},
        carriers={"dhl": DHL_PAKET, "sandbox": {"clock_speed": 400000, "enabled": sandbox}},
        carrier_choice=rules,
    )


def socks(tmp_path: Path) -> Path:
    return catalog_file(tmp_path, ["SOCK-WOOL-3PK"], warehouse_address=BERLIN)


@contextlib.contextmanager
def dhl_api() -> Iterator[tuple[respx.Route, respx.Route]]:
    """DHL's API faked from the adapter's recorded answers: its dry-run and booking routes."""
    with respx.mock(base_url=dhl.BASE, assert_all_called=False) as api:
        api.post(dhl.TOKEN).respond(json=dhl.fixture("oauth_token.json"))
        validate = api.post(dhl.ORDERS, params={"validate": "true"}).mock(side_effect=dhl.all_valid)
        create = api.post(dhl.ORDERS).respond(json=dhl.fixture("create_pdf.json"))
        api.get(dhl.TRACK_URL).respond(json=dhl.fixture("track_delivered.json"))
        yield validate, create


async def run(rt: Any, **changes: Any) -> OrderState:
    """The shop's next order, with `changes`, through the intake and to its end (90 s at most).
    No deliver-by date: DHL's price list gives no arrival estimate to meet one with."""
    (request,) = await rt.host.simulate_orders("sandbox", 1)
    (event,) = await rt.host.parse_webhook("sandbox", request)
    order = event.order.model_copy(update={"deliver_by": None, **changes})
    assert await rt.intake.submit(order) is IntakeOutcome.STARTED
    handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, order.workflow_id)
    try:
        state: OrderState = await asyncio.wait_for(handle.result(), timeout=90)
    except TimeoutError:
        state = await handle.query(OrderWorkflow.status)
        raise AssertionError(f"order stuck at {state.stage.value}: {state.details}") from None
    assert state.stage is OrderStage.COMPLETED, state.details
    return state


def to_cologne() -> dict[str, Any]:
    return {"shipping_address": dhl.customer(), "customer": ERIKA}


async def test_the_eco_rule_picks_dhl_and_its_label_is_bought_with_gogreen_plus(
    hub_settings, tmp_path
):
    settings = berlin_with_dhl(hub_settings, socks(tmp_path), prefer_eco_within_percent=50)
    with dhl_api() as (_, create):
        async with hub_runtime(settings) as rt:
            assert sorted(rt.host.names(Family.CARRIERS)) == ["dhl", "sandbox"]
            state = await run(rt, **to_cologne())
            sandbox = rt.host.plugin(Family.CARRIERS, "sandbox")
            sandbox_labels = sandbox.charges()  # type: ignore[attr-defined]

    (shipment,) = state.shipments
    choice = shipment.carrier
    assert choice is not None and shipment.label is not None
    assert (choice.carrier, choice.service_code, choice.eco_option) == (
        "dhl",
        "V01PAK",
        "gogreen_plus",
    )
    # The sandbox's Economy was cheaper; DHL's eco option beat the sandbox's Carbon Neutral.
    assert choice.reason == (
        "eco option within 50% of the cheapest; 6.50 EUR via dhl DHL Paket with gogreen_plus"
    )
    assert shipment.label.carrier == "dhl" and shipment.label.tracking_number == dhl.NUMBER
    (booked,) = [json.loads(call.request.content) for call in create.calls]
    assert [s["services"] for s in booked["shipments"]] == [{"goGreenPlus": True}]
    assert create.calls.last.request.url.params["docFormat"] == "PDF"
    assert sandbox_labels == []  # quoted, never asked for a label


async def test_without_the_eco_rule_the_cheapest_is_the_sandbox_and_dhl_sells_no_label(
    hub_settings, tmp_path
):
    settings = berlin_with_dhl(hub_settings, socks(tmp_path), prefer_eco_within_percent=0)
    with dhl_api() as (validate, create):
        async with hub_runtime(settings) as rt:
            state = await run(rt, **to_cologne())
            sandbox = rt.host.plugin(Family.CARRIERS, "sandbox")
            sandbox_labels = sandbox.charges()  # type: ignore[attr-defined]

    (shipment,) = state.shipments
    assert shipment.carrier is not None and shipment.label is not None
    assert (shipment.carrier.carrier, shipment.carrier.service_code) == ("sandbox", "SBX_ECONOMY")
    assert shipment.carrier.reason.startswith("cheapest of 5 eligible quote(s)")
    assert shipment.carrier.eco_option is None
    assert validate.called and not create.called
    assert [c.kind for c in sandbox_labels] == ["label"]
    assert shipment.label.carrier == "sandbox"


async def test_several_parcels_go_to_the_carrier_that_can_print_them(hub_settings, tmp_path):
    """DHL is cheaper for these parcels but labels several of them in ZPL only: at a PDF
    station the sandbox carrier gets the shipment, and DHL is never asked for a label."""
    crates = tmp_path / "crates.toml"
    crates.write_text(CRATE, encoding="utf-8")
    settings = berlin_with_dhl(hub_settings, crates, prefer_eco_within_percent=0)
    with dhl_api() as (validate, create):
        async with hub_runtime(settings) as rt:
            state = await run(rt, **to_cologne())

    (shipment,) = state.shipments
    assert shipment.packaging is not None and len(shipment.packaging.parcels) > 1
    choice = shipment.carrier
    assert choice is not None and shipment.label is not None
    assert "1 quote(s) that cannot be labelled as PDF left out" in choice.reason
    assert (choice.carrier, choice.label_format) == ("sandbox", LabelFormat.PDF)
    assert shipment.label.price.amount > 2 * Decimal("6.50")  # what DHL would have cost
    assert shipment.label.label_format is LabelFormat.PDF
    assert len(shipment.label.tracking_numbers) == len(shipment.packaging.parcels)
    assert validate.called and not create.called


async def test_a_carrier_that_cannot_print_the_station_format_labels_in_one_it_can(
    hub_settings, tmp_path
):
    """DHL alone, several parcels, a PDF station: the label is bought in ZPL, as DHL's quote
    said it could, recorded as such in the choice, the label and the stored document."""
    crates = tmp_path / "crates.toml"
    crates.write_text(CRATE, encoding="utf-8")
    settings = berlin_with_dhl(hub_settings, crates, sandbox=False, prefer_eco_within_percent=0)
    with dhl_api() as (_, create):
        create.mock(side_effect=dhl.booked_as_asked)
        async with hub_runtime(settings) as rt:
            state = await run(rt, **to_cologne())

    (shipment,) = state.shipments
    choice, label = shipment.carrier, shipment.label
    assert choice is not None and label is not None and shipment.packaging is not None
    assert "no quote can be labelled as PDF" in choice.reason
    assert choice.reason.endswith("labelled as ZPL")
    assert (choice.carrier, choice.label_format) == ("dhl", LabelFormat.ZPL)
    assert create.calls.last.request.url.params["docFormat"] == "ZPL2"
    assert label.label_format is LabelFormat.ZPL
    assert len(label.tracking_numbers) == len(shipment.packaging.parcels) == 2
    stored = Path(url2pathname(urlparse(label.document.uri).path))
    assert label.document.media_type == "application/x-zpl" and stored.suffix == ".zpl"
    assert stored.read_bytes().count(b"^XA") == 2


async def test_each_shipment_of_a_split_order_declares_its_own_goods(
    hub_settings, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The default catalogue keeps the hoodie in Stockholm and the cap in Rotterdam only: an
    order of both is two shipments, each rated and labelled at the value of its own lines."""
    products = tomllib.loads((ROOT / "config" / "catalog.toml").read_text())["products"]
    split = {"HOOD-MER-GRY-M", "CAP-CAN-NVY"}
    shop = tmp_path / "shop.toml"
    shop.write_text(
        "\n".join(
            f'[[products]]\nsku = "{p["sku"]}"\nname = "{p["name"]}"\nprice = "{p["price"]}"\n'
            f"weight_grams = {p['weight_grams']}\n"
            for p in products
            if p["sku"] in split
        ),
        encoding="utf-8",
    )
    marketplace = {**VALID_ONLY["marketplaces"]["sandbox"], "seed": 4, "catalog_file": str(shop)}
    async with hub_runtime(hub_settings(marketplaces={"sandbox": marketplace})) as rt:
        declared: dict[str, list[Money]] = {}
        quote, buy = rt.host.quote, rt.host.buy_label

        async def quoting(carrier: str, request: RateRequest) -> list[Quote]:
            declared.setdefault(request.shipment_id, []).append(request.declared_value)
            return await quote(carrier, request)

        async def buying(carrier: str, request: LabelRequest) -> PurchasedLabel:
            declared.setdefault(request.shipment_id, []).append(request.declared_value)
            return await buy(carrier, request)

        monkeypatch.setattr(rt.host, "quote", quoting)
        monkeypatch.setattr(rt.host, "buy_label", buying)
        state = await run(rt, shipping_address=GOTHENBURG, customer=SARA)

    assert {line.sku for line in state.order.lines} == split, "seed 4 orders both"
    assert len(state.shipments) == 2
    ordered = {line.line_id: line for line in state.order.lines}
    for shipment in state.shipments:
        (line,) = shipment.lines
        own = ordered[line.line_id].unit_price.amount * line.quantity
        assert own < state.order.total.amount
        # One quote (one carrier enabled) and one label, both at the shipment's own value.
        assert [v.amount for v in declared[shipment.shipment_id]] == [own, own]

"""`pick_shipment` and `release_stock` over the embedded WMS behind the real plugin host: the
pick attempt reaches the warehouse, short lines and moved units come back to the workflow."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pluggy
import pytest
from pydantic import ValidationError
from temporalio.testing import ActivityEnvironment

from hub import hookspecs
from hub.activities.orders import OrderActivities
from hub.documents import LocalDocumentStore
from hub.domain.address import Address, Contact
from hub.domain.carrier_choice import CarrierRules
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.shipment import Shipment
from hub.host import PluginHost
from hub.settings import PackingRules
from hub.workflows.contracts import (
    ReleaseInput,
    ReleaseOutcome,
    ReserveInput,
    ShipmentInput,
)
from plugins.warehouses.embedded import EmbeddedWarehouse
from tests.plugins.test_embedded_wms import assert_books_balance, build, level, line

KEY = "order:sandbox:1001"
ROTTERDAM = Address(
    name="Hub BV", line1="Waalhaven 50", city="Rotterdam", postal_code="3087 BM", country="NL"
)
ORDER = Order(
    marketplace="sandbox",
    external_id="1001",
    placed_at=datetime(2026, 11, 20, tzinfo=UTC),
    currency="EUR",
    lines=tuple(
        OrderLine(
            line_id=line_id,
            sku="LAMP-DESK-LED",
            quantity=quantity,
            unit_price=Money(amount=Decimal("69.00"), currency="EUR"),
        )
        for line_id, quantity in (("1", 3), ("2", 2))
    ),
    customer=Contact(name="Anna de Vries"),
    shipping_address=ROTTERDAM.model_copy(update={"name": "Anna de Vries"}),
)


@pytest.fixture
def wms(tmp_path: Path) -> EmbeddedWarehouse:
    return build(tmp_path / "data")


@pytest.fixture
def activities(wms: EmbeddedWarehouse, tmp_path: Path) -> OrderActivities:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(wms, name="warehouses.embedded")
    return OrderActivities(
        host=PluginHost(pm, {"warehouses.embedded": wms}),
        documents=LocalDocumentStore(tmp_path / "documents"),
        carrier_rules=CarrierRules(),
        packing_rules=PackingRules(),
    )


async def shipment(activities: OrderActivities) -> Shipment:
    env = ActivityEnvironment()
    reservation = await env.run(
        activities.reserve_stock,
        ReserveInput(order=ORDER, warehouse="embedded", reservation_key=KEY),
    )
    (allocation,) = reservation.allocations
    return Shipment(
        shipment_id="1001-1",
        warehouse=allocation.warehouse,
        ship_from=allocation.ship_from,
        lines=allocation.lines,
    )


def pick_input(shipment: Shipment, attempt: int) -> ShipmentInput:
    return ShipmentInput(
        order=ORDER,
        warehouse="embedded",
        reservation_key=KEY,
        shipment=shipment,
        pick_attempt=attempt,
    )


async def test_a_re_pick_attempt_reaches_the_warehouse(
    activities: OrderActivities, wms: EmbeddedWarehouse
) -> None:
    env = ActivityEnvironment()
    lamps = await shipment(activities)
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", -37, "stock take")
    first = await env.run(activities.pick_shipment, pick_input(lamps, 1))
    assert (first.pick_list_id, first.short_skus) == ("PL-1001-1", ("LAMP-DESK-LED",))
    assert first.short_lines == (line("2", "LAMP-DESK-LED", 2),)
    assert await env.run(activities.pick_shipment, pick_input(lamps, 1)) == first, "a retry"

    wms.adjust_stock("RTM1", "LAMP-DESK-LED", 2, "delivery")
    second = await env.run(activities.pick_shipment, pick_input(lamps, 2))
    assert (second.pick_list_id, second.short_skus, second.short_lines) == ("PL-1001-1", (), ())
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 0

    cancel = ReleaseInput(warehouse="embedded", reservation_key=KEY)
    assert await env.run(activities.release_stock, cancel) == ReleaseOutcome(put_back_units=5)
    assert await env.run(activities.release_stock, cancel) == ReleaseOutcome()
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 5
    assert_books_balance(wms)


async def test_ship_what_is_available_through_the_activity(
    activities: OrderActivities, wms: EmbeddedWarehouse
) -> None:
    env = ActivityEnvironment()
    lamps = await shipment(activities)
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", -37, "stock take")
    short = await env.run(activities.pick_shipment, pick_input(lamps, 1))
    partial = ReleaseInput(
        warehouse="embedded", reservation_key=KEY, lines=short.short_lines, release_id="1001-1:a"
    )
    assert await env.run(activities.release_stock, partial) == ReleaseOutcome(released_units=2)
    assert await env.run(activities.release_stock, partial) == ReleaseOutcome(released_units=2)
    assert level(wms, "RTM1", "LAMP-DESK-LED").reserved == 0
    # Handed to the carrier, then the order is closed: nothing comes back.
    kept = ReleaseInput(warehouse="embedded", reservation_key=KEY, kept_shipments=("1001-1",))
    assert await env.run(activities.release_stock, kept) == ReleaseOutcome()
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 0

    # A partial release without its id could happen twice: the contract refuses to build it.
    with pytest.raises(ValidationError, match="needs a release_id"):
        ReleaseInput(warehouse="embedded", reservation_key=KEY, lines=short.short_lines)

"""One order end to end on the session's Temporal dev server with the embedded plugins."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError

from hub.cli import describe_order
from hub.domain.address import Address
from hub.domain.holds import HoldCode
from hub.domain.shipment import DocumentKind
from hub.domain.status import FulfilmentStatus, OrderStage
from hub.domain.tracking import TrackingStatus
from hub.intake import IntakeOutcome
from hub.plugin import Family
from hub.webhooks import create_app
from hub.workflows.contracts import CancelRequest, FixAddress, FixSku
from hub.workflows.order import OrderWorkflow
from plugins.marketplaces.sandbox import SandboxMarketplace
from plugins.marketplaces.sandbox.geography import COUNTRIES
from plugins.marketplaces.sandbox.signing import ORDERS_CANCELLED
from tests.conftest import hub_runtime
from tests.integration.helpers import (
    edge_client,
    history_length,
    wait_for_state,
    wait_for_visibility,
    wait_until,
)

pytestmark = pytest.mark.integration

VALID_ONLY = {
    "marketplaces": {"sandbox": {"seed": 11, "invalid_address_rate": 0.0, "unknown_sku_rate": 0.0}}
}
HAPPY_PATH_EVENT_BUDGET = 40


async def run_cli(runtime, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        *args,
        env=runtime.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_happy_path_order_is_delivered_within_the_history_budget(hub_settings):
    async with hub_runtime(hub_settings(**VALID_ONLY)) as rt:
        (wid,) = await rt.place(1)
        state = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()

        assert state.stage is OrderStage.COMPLETED
        stages = [t.stage for t in state.stage_log]
        for stage in (
            OrderStage.VALIDATING,
            OrderStage.RESERVING,
            OrderStage.PICKING,
            OrderStage.PACKING,
            OrderStage.LABELLING,
            OrderStage.CONFIRMING,
            OrderStage.IN_TRANSIT,
            OrderStage.DELIVERED,
            OrderStage.COMPLETED,
        ):
            assert stage in stages
        for shipment in state.shipments:
            assert shipment.status is FulfilmentStatus.DELIVERED
            assert shipment.tracking_status is TrackingStatus.DELIVERED
            assert shipment.carrier is not None and shipment.carrier.reason
            assert shipment.packaging is not None and shipment.packaging.co2e_grams > 0
            assert shipment.label is not None
            assert (
                Path(shipment.label.document.uri.removeprefix("file://"))
                .read_bytes()
                .startswith(b"%PDF")
            )
        kinds = {key.split(":")[2] for key in state.notices_sent}
        assert {"shipped", "review_invitation"} <= kinds
        outbox = rt.host.plugin(Family.NOTIFIERS, "outbox")
        sent = {m.kind for m in outbox.messages(state.order.key)}  # type: ignore[attr-defined]
        assert {"shipped", "delivered", "review_invitation"} <= {str(k) for k in sent}
        market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
        assert len(market.confirmations(state.order.external_id)) == len(state.shipments)  # type: ignore[attr-defined]
        assert await history_length(rt.client, wid) <= HAPPY_PATH_EVENT_BUDGET


async def test_invalid_address_holds_and_a_fix_resumes(hub_settings):
    held = {
        "marketplaces": {
            "sandbox": {"seed": 5, "invalid_address_rate": 1.0, "unknown_sku_rate": 0.0}
        }
    }
    async with hub_runtime(hub_settings(**held)) as rt:
        (wid,) = await rt.place(1)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        assert state.hold is not None and state.hold.code is HoldCode.INVALID_ADDRESS
        assert state.details.startswith("on hold: shipping address")
        await wait_for_visibility(
            rt.client,
            f"WorkflowId='{wid}' AND Attention='invalid_address' AND OrderStage='on_hold'",
        )

        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                OrderWorkflow.fix_address, FixAddress(postal_code="1", line1="")
            )

        code, out = await run_cli(
            rt,
            "orders",
            "fix-address",
            wid,
            "--name",
            "Ada Lund",
            "--line1",
            "Storgatan 12",
            "--city",
            "Stockholm",
            "--postal-code",
            "114 55",
            "--country",
            "SE",
            "--region",
            "AB",
        )
        assert code == 0, out
        final = await handle.result()
        assert final.stage is OrderStage.COMPLETED
        assert final.order.shipping_address.postal_code == "114 55"


async def test_unknown_sku_holds_and_cli_rejects_then_accepts_a_fix(hub_settings):
    held = {
        "marketplaces": {
            "sandbox": {"seed": 3, "invalid_address_rate": 0.0, "unknown_sku_rate": 1.0}
        }
    }
    async with hub_runtime(hub_settings(**held)) as rt:
        (wid,) = await rt.place(1)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        assert state.hold is not None and state.hold.code is HoldCode.UNKNOWN_SKU
        code, out = await run_cli(
            rt, "orders", "fix-sku", wid, "--line", "no-such-line", "--sku", "MUG-CER-350"
        )
        assert code != 0 and "refused" in out
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        for line in state.order.lines:
            if "DISCONTINUED" in line.sku:
                await handle.execute_update(
                    OrderWorkflow.fix_sku, FixSku(line_id=line.line_id, sku="MUG-CER-350")
                )
        assert (await handle.result()).stage is OrderStage.COMPLETED


async def test_duplicate_delivery_starts_nothing_new(hub_settings):
    async with hub_runtime(hub_settings(**VALID_ONLY)) as rt:
        market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
        requests = await rt.host.simulate_orders("sandbox", 1)
        events = await rt.host.parse_webhook("sandbox", requests[0])
        order = events[0].order
        assert order is not None
        assert await rt.intake.submit(order) is IntakeOutcome.STARTED
        assert await rt.intake.submit(order) is IntakeOutcome.UPDATED
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, order.workflow_id)
        await handle.result()
        assert await rt.intake.submit(order) is IntakeOutcome.ALREADY_DONE
        runs = [wf async for wf in rt.client.list_workflows(f"WorkflowId='{order.workflow_id}'")]
        assert len(runs) == 1
        assert len(market.confirmations(order.external_id)) == 1  # type: ignore[attr-defined]


async def test_cancel_while_on_hold_releases_and_stops(hub_settings):
    held = {
        "marketplaces": {
            "sandbox": {"seed": 9, "invalid_address_rate": 1.0, "unknown_sku_rate": 0.0}
        }
    }
    async with hub_runtime(hub_settings(**held)) as rt:
        (wid,) = await rt.place(1)
        await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        await handle.signal(
            OrderWorkflow.cancel, CancelRequest(reason="customer changed their mind")
        )
        final = await handle.result()
        assert final.stage is OrderStage.CANCELLED
        assert final.cancel_reason == "customer changed their mind"
        assert final.hold is None


async def test_customer_without_email_still_gets_the_parcel(hub_settings):
    async with hub_runtime(hub_settings(**VALID_ONLY)) as rt:
        (request,) = await rt.host.simulate_orders("sandbox", 1)
        (event,) = await rt.host.parse_webhook("sandbox", request)
        assert event.order is not None
        order = event.order.model_copy(
            update={"customer": event.order.customer.model_copy(update={"email": None})}
        )
        assert await rt.intake.submit(order) is IntakeOutcome.STARTED
        state = await rt.client.get_workflow_handle_for(
            OrderWorkflow.run, order.workflow_id
        ).result()

        assert state.stage is OrderStage.COMPLETED
        assert state.notices_sent == []
        assert state.notices_failed and all("no email" in n for n in state.notices_failed)


async def test_no_carrier_for_destination_holds_then_cancel_releases_stock(hub_settings):
    """A permanent failure of a local activity (carrier choice) holds the order, not fails it."""
    every_country = {country.code: ["sandbox"] for country in COUNTRIES}
    settings = hub_settings(**VALID_ONLY, carrier_choice={"exclude": every_country})
    async with hub_runtime(settings) as rt:
        (wid,) = await rt.place(1)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        assert state.hold is not None and state.hold.code is HoldCode.NO_CARRIER
        assert "no carrier fits" in state.hold.message
        await wait_for_visibility(rt.client, f"WorkflowId='{wid}' AND Attention='no_carrier'")

        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="no carrier"))
        final = await handle.result()
        assert final.stage is OrderStage.CANCELLED
        wms = rt.host.plugin(Family.WAREHOUSES, "embedded")
        assert sum(level.reserved for level in wms.stock_levels()) == 0  # type: ignore[attr-defined]


async def test_parcel_leaving_the_eu_ships_with_a_customs_declaration(hub_settings):
    """The sandbox carrier refuses a label to the US without customs data: completing proves
    the hub declared every line (HS code, origin, value) from the warehouse's item data."""
    async with hub_runtime(hub_settings(**VALID_ONLY)) as rt:
        (request,) = await rt.host.simulate_orders("sandbox", 1)
        (event,) = await rt.host.parse_webhook("sandbox", request)
        assert event.order is not None
        us = Address(
            name="Grace Hopper",
            line1="2 Penn Plaza",
            city="New York",
            region="NY",
            postal_code="10121",
            country="US",
        )
        order = event.order.model_copy(
            update={
                "shipping_address": us,
                "customer": event.order.customer.model_copy(update={"phone": None}),
            }
        )
        assert await rt.intake.submit(order) is IntakeOutcome.STARTED
        state = await rt.client.get_workflow_handle_for(
            OrderWorkflow.run, order.workflow_id
        ).result()

        assert state.stage is OrderStage.COMPLETED, state.details
        assert all(s.label is not None for s in state.shipments)
        # The carrier's CN23 is stored next to the label and shown to ops with it.
        for shipment in state.shipments:
            assert shipment.label is not None
            (paper,) = shipment.label.papers
            assert paper.kind is DocumentKind.CUSTOMS_DECLARATION
            stored = Path(paper.document.uri.removeprefix("file://")).read_bytes()
            assert stored.startswith(b"%PDF") and paper.document.size_bytes == len(stored)
            assert f"papers  customs_declaration {paper.document.uri}" in describe_order(state)


async def test_cancellation_from_the_channel_stops_the_order_and_releases_stock(
    hub_settings, tmp_path
):
    """The channel's signed `orders/cancelled` webhook, through the real ASGI app, reaches a
    held order (after reservation, before any label) as a cancel request."""
    every_country = {country.code: ["sandbox"] for country in COUNTRIES}
    settings = hub_settings(**VALID_ONLY, carrier_choice={"exclude": every_country})
    async with hub_runtime(settings) as rt:
        market = rt.host.plugin(Family.MARKETPLACES, "sandbox")
        assert isinstance(market, SandboxMarketplace)
        (wid,) = await rt.place(1)
        state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD)
        cancelled = market.cancel_order(state.order.external_id, reason="customer")
        webhook = market.signed_webhook(ORDERS_CANCELLED, cancelled)

        app = create_app(rt.host, rt.intake, tmp_path / "rejects.jsonl")
        async with edge_client(app) as http:
            answer = await http.post(
                "/webhooks/sandbox", content=webhook.body, headers=webhook.headers
            )
        assert answer.status_code == 200 and answer.json()["accepted"] == ["cancel_sent"]

        final = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()
        assert final.stage is OrderStage.CANCELLED
        assert final.cancel_reason and "customer" in final.cancel_reason
        assert all(s.label is None for s in final.shipments)
        wms = rt.host.plugin(Family.WAREHOUSES, "embedded")
        assert sum(level.reserved for level in wms.stock_levels()) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("delay_rate", [1.0, 0.0], ids=["held-up", "on-time"])
async def test_a_parcel_running_late_gets_one_delay_notice(hub_settings, delay_rate):
    """Held up by weather, a parcel's new ETA passes the carrier's promise: the customer is
    told once, and the parcel still arrives. On time, nobody is told of a delay."""
    late = {"clock_speed": 400000, "delay_rate": delay_rate, "failed_attempt_rate": 0.0}
    async with hub_runtime(hub_settings(**VALID_ONLY, carriers={"sandbox": late})) as rt:
        (request,) = await rt.host.simulate_orders("sandbox", 1)
        (event,) = await rt.host.parse_webhook("sandbox", request)
        assert event.order is not None
        # The sandbox channel promises real-time days; the carrier's promise is on its clock.
        order = event.order.model_copy(update={"deliver_by": None})
        assert await rt.intake.submit(order) is IntakeOutcome.STARTED
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, order.workflow_id)
        state = await handle.result()

        assert state.stage is OrderStage.COMPLETED
        outbox = rt.host.plugin(Family.NOTIFIERS, "outbox")
        kinds = [str(m.kind) for m in outbox.messages(state.order.key)]  # type: ignore[attr-defined]
        if delay_rate:
            assert kinds.count("delayed") == len(state.shipments) >= 1
            assert kinds.index("delayed") < kinds.index("delivered")
        else:
            assert "delayed" not in kinds and "delivered" in kinds


async def test_cli_finds_held_orders_shows_one_and_lists_plugins(hub_settings):
    held = {
        "marketplaces": {
            "sandbox": {"seed": 9, "invalid_address_rate": 1.0, "unknown_sku_rate": 0.0}
        }
    }
    async with hub_runtime(hub_settings(**held)) as rt:
        (wid,) = await rt.place(1)
        await wait_for_visibility(rt.client, f"WorkflowId='{wid}' AND Attention='invalid_address'")

        code, out = await run_cli(rt, "orders", "list", "--attention")
        assert code == 0, out
        (row,) = [line for line in out.splitlines() if line.startswith(wid)]
        assert "on_hold" in row and "invalid_address" in row

        code, out = await run_cli(rt, "orders", "list", "--stage", "completed")
        assert wid not in out

        code, out = await run_cli(rt, "orders", "show", wid)
        assert code == 0, out
        assert "on_hold" in out and "invalid_address: shipping address" in out

        code, out = await run_cli(rt, "orders", "show", "order:sandbox:does-not-exist")
        assert code != 0

    code, out = await run_cli(rt, "plugins")
    assert code == 0, out
    marks = {line.split()[-2]: line.startswith("enabled") for line in out.splitlines()}
    assert marks["marketplaces.sandbox"] and marks["warehouses.embedded"]
    assert marks["carriers.sandbox"] and not marks["carriers.ups"]  # installed, not configured


async def test_cancel_after_the_label_was_bought_voids_it(hub_settings):
    # A slow carrier clock: the parcel is not scanned yet, so the carrier can still void.
    slow_label = {"clock_speed": 1, "label_latency_seconds": 2.0}
    async with hub_runtime(hub_settings(**VALID_ONLY, carriers={"sandbox": slow_label})) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        (wid,) = await rt.place(1)
        await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.LABELLING)
        await wait_until(lambda: bool(carrier.charges()), what="label purchase")  # type: ignore[attr-defined]
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer changed mind"))
        final = await handle.result()

        assert final.stage is OrderStage.CANCELLED
        kinds = [c.kind for c in carrier.charges()]  # type: ignore[attr-defined]
        assert kinds.count("label") == 1 and kinds.count("refund") == 1
        assert all(s.status is FulfilmentStatus.CANCELLED for s in final.shipments)
        assert "label not voided" not in final.details


async def test_cancel_after_the_parcel_was_scanned_says_the_label_needs_a_claim(hub_settings):
    scanned_fast = {"clock_speed": 400000, "label_latency_seconds": 1.0}
    async with hub_runtime(hub_settings(**VALID_ONLY, carriers={"sandbox": scanned_fast})) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        (wid,) = await rt.place(1)
        await wait_until(lambda: bool(carrier.charges()), what="label purchase")  # type: ignore[attr-defined]
        handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
        await handle.signal(OrderWorkflow.cancel, CancelRequest(reason="customer changed mind"))
        final = await handle.result()

        assert final.stage is OrderStage.CANCELLED
        assert "label not voided, claim a refund" in final.details
        assert [c.kind for c in carrier.charges()] == ["label"]  # type: ignore[attr-defined]


async def test_labels_print_as_zpl_when_configured(hub_settings):
    async with hub_runtime(hub_settings(**VALID_ONLY, labels={"format": "ZPL"})) as rt:
        (wid,) = await rt.place(1)
        state = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()
        for shipment in state.shipments:
            assert shipment.label is not None
            path = Path(shipment.label.document.uri.removeprefix("file://"))
            assert path.read_bytes().startswith(b"^XA")

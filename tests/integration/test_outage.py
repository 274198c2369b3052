"""A channel that refuses connections: the outage is visible, bounded and cancellable.

The Shopify adapter runs inside the hub against a respx fake of the Admin GraphQL API (as in
tests/e2e/test_marketplaces_e2e.py), which refuses every connection (`httpx.ConnectError`,
its fulfillmentCreate included) while `down` is set. The shipment confirmation is the first
call to the channel after the order comes in, so the order waits in `confirming` while the
server retries the activity (every `outage_retry_max_seconds` at most), and:

- after `attention_after_seconds` it is listed by `hub orders list --attention` with
  Attention=channel_unreachable, and the pending activity shows its attempts and last error;
- its history grows by a handful of events over the whole outage, however many attempts;
- it completes once the channel answers again, with Attention cleared;
- a cancel sent during the outage cancels it within seconds (label voided, stock back).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from temporalio.api.enums.v1 import EventType

from hub.domain.holds import OutageCode
from hub.domain.status import FulfilmentStatus, OrderStage
from hub.feed import deliver_webhook
from hub.intake import IntakeOutcome
from hub.plugin import Family
from hub.workflows.contracts import Activity
from hub.workflows.order import OrderWorkflow
from plugins.carriers.sandbox import SandboxCarrier
from plugins.warehouses.embedded import EmbeddedWarehouse
from tests.conftest import hub_runtime
from tests.e2e.catalog import catalog_file
from tests.integration.helpers import (
    history_length,
    hub_ok,
    pending_activities,
    wait_for,
    wait_for_state,
    wait_for_visibility,
)
from tests.plugins import test_shopify as shopify

pytestmark = pytest.mark.integration

ATTENTION_AFTER_SECONDS = 20.0
RETRY_MAX_SECONDS = 5.0
OUTAGE_SECONDS = 300.0
"""The issue's five minutes. With attempts at most 5 s apart that is about 60 failed attempts,
twice the 30 this test demands; the module runs in about 5.5 minutes, inside the ~6 minute
budget, so the full outage is kept rather than cut to the 30 attempts."""
MIN_FAILED_ATTEMPTS = 30
HISTORY_GROWTH_MAX = 10
CANCELLED_WITHIN_SECONDS = 5.0
FAST_CARRIER = {"clock_speed": 400000, "delay_rate": 0.0, "failed_attempt_rate": 0.0}
SLOW_CARRIER = {"clock_speed": 1, "delay_rate": 0.0, "failed_attempt_rate": 0.0}
"""Labels bought on this clock are not scanned for hours: a cancel can still void them."""
REFUSED = "could not connect (ConnectError)"


class RefusingShopify(shopify.FakeShopify):
    """The fake shop, for an order of our own id, refusing every connection while `down`."""

    def __init__(self, order_id: str) -> None:
        super().__init__()
        self.order_id = order_id
        self.down = False
        self.refused: Counter[str] = Counter()
        """Refused requests per GraphQL operation: one per attempt of the confirmation."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            operation = json.loads(request.content)["query"].split("(")[0].split()[-1]
            self.refused[operation] += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return super().__call__(request)

    def HubFulfillmentState(self, variables: dict[str, Any]) -> Any:
        assert variables == {"id": f"gid://shopify/Order/{self.order_id}"}
        answer = super().HubFulfillmentState({"id": f"gid://shopify/Order/{shopify.ORDER_ID}"})
        answer["data"]["order"]["id"] = f"gid://shopify/Order/{self.order_id}"
        return answer


def _settings(hub_settings: Any, tmp_path: Path, carrier: dict[str, Any]) -> Any:
    order = shopify.load("webhook_orders_create.json")
    skus = [line["sku"] for line in order["line_items"] if line.get("sku")]
    return hub_settings(
        marketplaces={
            "shopify": {
                "shop_domain": shopify.SHOP,
                "access_token": "shpat_0123456789abcdef0123456789abcdef",
                "client_secret": shopify.SECRET,
            }
        },
        warehouses={"embedded": {"catalog_file": str(catalog_file(tmp_path, skus))}},
        carriers={"sandbox": carrier},
        orders={
            "tracking_poll_seconds": 0.3,
            "attention_after_seconds": ATTENTION_AFTER_SECONDS,
            # config/hub.toml gives `confirming` its own (longer) time: this test's applies.
            "attention_after_seconds_by_stage": {"confirming": ATTENTION_AFTER_SECONDS},
            "outage_retry_max_seconds": RETRY_MAX_SECONDS,
        },
    )


async def _place(rt: Any, order_id: str) -> str:
    """Shopify's signed orders/create for a live (not test) order with our own id."""
    order = shopify.load("webhook_orders_create.json")
    order.update(
        id=int(order_id), admin_graphql_api_id=f"gid://shopify/Order/{order_id}", test=False
    )
    webhook = shopify.delivery("orders/create", order, event_id=f"evt-{order_id}")
    ((wid, outcome),) = await deliver_webhook(rt.host, rt.intake, "shopify", webhook)
    assert outcome is IntakeOutcome.STARTED
    return wid


def _new_order_id() -> str:
    # Orders live on the session's dev server: an id of our own, never the fixture's.
    return str(random.randrange(10**17, 10**18))


async def _retrying(rt: Any, wid: str, attempts: int) -> Any:
    """The confirmation as the server shows it, once it has failed `attempts` times."""

    async def probe() -> Any:
        pending = await pending_activities(rt.client, wid)
        ours = [p for p in pending if p.activity_type.name == Activity.CONFIRM_SHIPMENT.value]
        return ours[0] if ours and ours[0].attempt > attempts else None

    return await wait_for(probe, what=f"{attempts} failed confirmations of {wid}", timeout=120)


def _stock(rt: Any) -> dict[tuple[str, str], tuple[int, int]]:
    wms = rt.host.plugin(Family.WAREHOUSES, "embedded")
    assert isinstance(wms, EmbeddedWarehouse)
    return {(s.warehouse, s.sku): (s.on_hand, s.reserved) for s in wms.stock_levels()}


@pytest.mark.timeout(OUTAGE_SECONDS + 120)
async def test_a_five_minute_channel_outage_is_flagged_bounded_and_recovered(
    hub_settings, tmp_path
):
    order_id = _new_order_id()
    shop = RefusingShopify(order_id)
    with respx.mock(assert_all_called=False) as api:
        api.post(shopify.GRAPHQL).mock(side_effect=shop)
        async with hub_runtime(_settings(hub_settings, tmp_path, FAST_CARRIER)) as rt:
            shop.down = True
            outage_began = time.monotonic()
            wid = await _place(rt, order_id)
            handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
            state = await wait_for_state(rt.client, wid, lambda s: s.stage is OrderStage.CONFIRMING)
            confirming_since = state.stage_log[-1].entered_at  # the workflow's own clock

            # Listed for a person within the configured time, with the family at fault.
            listed = await wait_for_visibility(
                rt.client,
                f"WorkflowId='{wid}' AND Attention='{OutageCode.CHANNEL_UNREACHABLE.value}'"
                " AND OrderStage='confirming' AND ExecutionStatus='Running'",
                timeout=ATTENTION_AFTER_SECONDS + 30,
            )
            flagged_after = (datetime.now(UTC) - confirming_since).total_seconds()
            assert len(listed) == 1
            # The quick local attempts (about 3 s), then the attention timer, then visibility.
            assert ATTENTION_AFTER_SECONDS <= flagged_after <= ATTENTION_AFTER_SECONDS + 10, (
                flagged_after
            )
            out = await hub_ok(rt, "orders", "list", "--attention")
            (row,) = [line for line in out.splitlines() if line.startswith(wid)]
            assert row.split()[1:3] == ["confirming", "channel_unreachable"], row
            shown = await hub_ok(rt, "orders", "show", wid)
            assert "OUTAGE    channel_unreachable since" in shown and REFUSED in shown, shown

            # The server keeps retrying: attempts pile up, the history does not.
            pending = await _retrying(rt, wid, 2)
            assert REFUSED in pending.last_failure.message
            events_flagged = await history_length(rt.client, wid)
            samples = []
            while time.monotonic() < outage_began + OUTAGE_SECONDS:
                state = await handle.query(OrderWorkflow.status)
                assert state.stage is OrderStage.CONFIRMING and state.hold is None, state.details
                (pending,) = await pending_activities(rt.client, wid)
                samples.append((pending.attempt, await history_length(rt.client, wid)))
                await wait_for(
                    lambda a=pending.attempt: _next_attempt(rt, wid, a),
                    what="the next attempt",
                    timeout=RETRY_MAX_SECONDS + 10,
                )
            (pending,) = await pending_activities(rt.client, wid)
            failed = pending.attempt - 1
            events_at_recovery = await history_length(rt.client, wid)
            shop.down = False

            assert REFUSED in pending.last_failure.message
            assert failed >= MIN_FAILED_ATTEMPTS, samples
            assert shop.refused["HubFulfillmentState"] >= failed  # each attempt asked the shop
            assert {events for _, events in samples} == {events_flagged}, samples
            events_at_start = await _events_before_the_outage(handle)
            assert events_at_recovery - events_at_start <= HISTORY_GROWTH_MAX, (
                events_at_start,
                events_flagged,
                events_at_recovery,
            )

            final = await handle.result()
            assert final.stage is OrderStage.COMPLETED, final.details
            assert final.outage is None
            numbers = {n for s in final.shipments if s.label for n in s.label.tracking_numbers}
            pushed = {info["number"] for f in shop.fulfillments for info in f["trackingInfo"]}
            assert numbers and numbers <= pushed
            description = await rt.client.get_workflow_handle(wid).describe()
            assert "Attention" not in description.search_attributes
            await wait_for_visibility(
                rt.client, f"WorkflowId='{wid}' AND ExecutionStatus='Completed'"
            )
            out = await hub_ok(rt, "orders", "list", "--attention")
            assert wid not in out


async def _events_before_the_outage(handle: Any) -> int:
    """History length when the outage first met the order: the events up to the completion
    of the workflow task whose local confirmation attempts were refused. What that task
    recorded (the refused attempts' marker, scheduling the server-retried confirmation, its
    attention timer) and everything after it counts as the outage's."""
    events = (await handle.fetch_history()).events
    scheduled = next(
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name
        == Activity.CONFIRM_SHIPMENT.value
    )
    task = next(
        e.event_id
        for e in reversed(events[: scheduled - 1])
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    return int(task)


async def _next_attempt(rt: Any, wid: str, attempt: int) -> bool:
    pending = await pending_activities(rt.client, wid)
    return not pending or pending[0].attempt > attempt


async def test_a_cancel_during_the_outage_cancels_the_order_within_seconds(hub_settings, tmp_path):
    order_id = _new_order_id()
    shop = RefusingShopify(order_id)
    with respx.mock(assert_all_called=False) as api:
        api.post(shopify.GRAPHQL).mock(side_effect=shop)
        async with hub_runtime(_settings(hub_settings, tmp_path, SLOW_CARRIER)) as rt:
            before = _stock(rt)
            shop.down = True
            wid = await _place(rt, order_id)
            await _retrying(rt, wid, 2)
            carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
            assert isinstance(carrier, SandboxCarrier)
            assert [c.kind for c in carrier.charges()] == ["label"]

            asked = time.monotonic()
            await hub_ok(rt, "orders", "cancel", wid, "--reason", "customer cancelled")
            state = await wait_for_state(
                rt.client,
                wid,
                lambda s: s.stage is OrderStage.CANCELLED,
                timeout=CANCELLED_WITHIN_SECONDS + 10,
            )
            took = time.monotonic() - asked
            final = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()

            assert took <= CANCELLED_WITHIN_SECONDS, took
            assert final.stage is OrderStage.CANCELLED
            assert state.cancel_reason == "customer cancelled"
            assert all(s.status is FulfilmentStatus.CANCELLED for s in final.shipments)
            assert [c.kind for c in carrier.charges()] == ["label", "refund"]  # label voided
            assert _stock(rt) == before  # reservation released, picked units put back
            assert shop.fulfillments == []

"""A worker killed while the carrier has charged but not yet answered: exactly one label.

The first worker is a real `hub worker` process; it is killed with SIGKILL (no clean shutdown)
while `buy_label` waits for the carrier's answer. A second worker, in this process, picks the
activity up after its heartbeat times out and finishes the order. Whether or not the carrier
honours idempotency keys, the carrier's ledger must show one label purchase.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import pytest

from hub.domain.holds import HoldCode
from hub.domain.status import OrderStage
from hub.plugin import Family
from hub.temporal import build_worker
from hub.workflows.order import OrderWorkflow
from plugins.carriers.sandbox import SandboxCarrier
from tests.conftest import ROOT, hub_runtime
from tests.integration.helpers import wait_for_state, wait_until
from tests.integration.test_durability import VALID_ONLY

pytestmark = pytest.mark.integration

LATENCY_SECONDS = 30  # the dying worker never gets its answer before it is killed


@pytest.mark.parametrize("honours_key", [True, False], ids=["idempotency-key", "lookup-only"])
async def test_worker_killed_mid_label_purchase_buys_one_label(hub_settings, honours_key):
    carrier_settings = {"clock_speed": 400000, "honour_idempotency_key": honours_key}
    settings = hub_settings(**VALID_ONLY, carriers={"sandbox": carrier_settings})
    async with hub_runtime(settings, worker=False) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        assert isinstance(carrier, SandboxCarrier)
        wid = await _order_whose_worker_dies_mid_purchase(
            rt,
            carrier,
            {
                "HUB_CARRIERS__SANDBOX__LABEL_LATENCY_SECONDS": str(LATENCY_SECONDS),
                "HUB_CARRIERS__SANDBOX__HONOUR_IDEMPOTENCY_KEY": str(honours_key).lower(),
                "HUB_CARRIERS__SANDBOX__CLOCK_SPEED": "400000",
            },
        )
        assert len(carrier.charges()) == 1

        async with build_worker(rt.client, rt.settings, rt.host):
            handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, wid)
            state = await asyncio.wait_for(handle.result(), timeout=120)

        assert state.stage is OrderStage.COMPLETED
        assert await _label_attempts(handle) >= 2, "the purchase should have been retried"
        purchases = [c.label_id for c in carrier.charges() if c.kind == "label"]
        labels = [s.label.label_id for s in state.shipments if s.label is not None]
        assert len(labels) == len(state.shipments)
        assert sorted(purchases) == sorted(labels), "one purchase per shipment, none repeated"


async def _label_attempts(handle) -> int:
    """The attempt number the first shipment's `buy_label` completed on."""
    history = await handle.fetch_history()
    scheduled = {
        e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "buy_label"
    }
    return next(
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id == min(scheduled)
    )


async def _order_whose_worker_dies_mid_purchase(
    rt: Any, carrier: SandboxCarrier, sandbox_env: dict[str, str]
) -> str:
    """Place one order with a real `hub worker` process as the only worker, and SIGKILL it
    once the carrier has charged for the label but before it answers."""
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "worker",
        cwd=ROOT,
        env={**rt.env(), **sandbox_env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        (wid,) = await rt.place(1)
        await wait_until(lambda: bool(carrier.charges()), what="label charge")
    finally:
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
    return str(wid)


async def test_a_carrier_that_can_neither_dedupe_nor_look_up_holds_instead_of_buying_again(
    hub_settings,
):
    """After the crash, a retry could buy a second label and nothing can tell: the order is
    held with Attention=label_uncertain for a person, and the ledger still shows one label."""
    blind = {"clock_speed": 400000, "honour_idempotency_key": False, "label_lookup": False}
    settings = hub_settings(**VALID_ONLY, carriers={"sandbox": blind})
    async with hub_runtime(settings, worker=False) as rt:
        carrier = rt.host.plugin(Family.CARRIERS, "sandbox")
        assert isinstance(carrier, SandboxCarrier) and not carrier.capabilities
        wid = await _order_whose_worker_dies_mid_purchase(
            rt,
            carrier,
            {
                "HUB_CARRIERS__SANDBOX__LABEL_LATENCY_SECONDS": str(LATENCY_SECONDS),
                "HUB_CARRIERS__SANDBOX__HONOUR_IDEMPOTENCY_KEY": "false",
                "HUB_CARRIERS__SANDBOX__LABEL_LOOKUP": "false",
                "HUB_CARRIERS__SANDBOX__CLOCK_SPEED": "400000",
            },
        )

        async with build_worker(rt.client, rt.settings, rt.host):
            state = await wait_for_state(
                rt.client, wid, lambda s: s.stage is OrderStage.ON_HOLD, timeout=60
            )
        assert state.hold is not None and state.hold.code is HoldCode.LABEL_UNCERTAIN
        assert "check the carrier account" in state.hold.message
        assert [c.kind for c in carrier.charges()] == ["label"]

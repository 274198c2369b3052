"""`hub demo`: run N sandbox orders to the end on embedded defaults and report."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from hub.devserver import dev_server
from hub.domain.holds import HoldCode
from hub.domain.status import OrderStage
from hub.feed import place_sandbox_orders
from hub.host import PluginHost
from hub.settings import HubSettings
from hub.temporal import SEARCH_ATTRIBUTE_NAMES, build_intake, build_worker, connect
from hub.workflows.contracts import OrderState
from hub.workflows.order import OrderWorkflow

# Holds the sandbox produces on purpose (bad addresses, unknown SKUs, unpaid orders).
EXPECTED_HOLDS = frozenset({HoldCode.INVALID_ADDRESS, HoldCode.UNKNOWN_SKU, HoldCode.UNPAID})
SETTLED = frozenset({OrderStage.COMPLETED, OrderStage.CANCELLED, OrderStage.ON_HOLD})


@dataclass
class DemoReport:
    orders: int
    by_stage: dict[str, int]
    holds: dict[str, int]
    seconds: float
    orders_per_second: float
    history_events_per_order: float
    history_events_max: int
    history_events_single_shipment_max: int
    """The happy-path budget (40) applies to one order with one shipment; splits add ~23 each."""
    shipments_per_order: float
    unexpected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unexpected

    def as_json(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "by_stage": self.by_stage,
            "holds": self.holds,
            "seconds": round(self.seconds, 2),
            "orders_per_second": round(self.orders_per_second, 2),
            "history_events_per_order": round(self.history_events_per_order, 1),
            "history_events_max": self.history_events_max,
            "history_events_single_shipment_max": self.history_events_single_shipment_max,
            "shipments_per_order": round(self.shipments_per_order, 2),
            "unexpected": self.unexpected,
            "ok": self.ok,
        }


async def run_demo(settings: HubSettings, orders: int, timeout: float = 600) -> DemoReport:
    with tempfile.TemporaryDirectory(prefix="hub-demo-") as tmp:
        settings = settings.model_copy(update={"data_dir": Path(tmp)})
        async with dev_server(search_attributes=SEARCH_ATTRIBUTE_NAMES) as server:
            temporal = settings.temporal.model_copy(update={"address": server.address})
            settings = settings.model_copy(update={"temporal": temporal})
            host = PluginHost.from_settings(settings)
            try:
                client = await connect(settings)
                async with build_worker(client, settings, host):
                    return await _run(client, settings, host, orders, timeout)
            finally:
                await host.aclose()


async def _run(
    client: Client, settings: HubSettings, host: PluginHost, count: int, timeout: float
) -> DemoReport:
    intake = build_intake(client, settings)
    marketplace = "sandbox"
    started = time.perf_counter()
    delivered = await place_sandbox_orders(host, intake, marketplace, count)
    ids = sorted({wid for wid, _ in delivered})
    states = await _settle(client, ids, timeout)
    seconds = time.perf_counter() - started

    completed = [wid for wid, s in states.items() if s.stage is OrderStage.COMPLETED]
    histories = [await _history_length(client.get_workflow_handle(wid)) for wid in completed]
    shipments = [len(states[wid].shipments) for wid in completed]
    single = [h for h, n in zip(histories, shipments, strict=True) if n == 1]
    unexpected = [
        f"{wid}: {s.stage.value}" + (f" ({s.hold.code.value}: {s.hold.message})" if s.hold else "")
        for wid, s in states.items()
        if not (
            s.stage is OrderStage.COMPLETED
            or (s.stage is OrderStage.ON_HOLD and s.hold and s.hold.code in EXPECTED_HOLDS)
        )
    ]
    if len(states) != count:
        unexpected.append(f"{count} orders placed but {len(states)} workflows settled")
    return DemoReport(
        orders=count,
        by_stage=dict(Counter(s.stage.value for s in states.values())),
        holds=dict(Counter(s.hold.code.value for s in states.values() if s.hold)),
        seconds=seconds,
        orders_per_second=len(completed) / seconds if seconds else 0.0,
        history_events_per_order=statistics.fmean(histories) if histories else 0.0,
        history_events_max=max(histories, default=0),
        history_events_single_shipment_max=max(single, default=0),
        shipments_per_order=statistics.fmean(shipments) if shipments else 0.0,
        unexpected=unexpected,
    )


async def _settle(client: Client, ids: list[str], timeout: float) -> dict[str, OrderState]:
    """Poll each order's `status` query until it is complete, cancelled or on hold."""
    deadline = time.monotonic() + timeout
    states: dict[str, OrderState] = {}
    pending = set(ids)
    while pending:
        for wid in sorted(pending):
            handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(wid)
            state = await handle.query(OrderWorkflow.status)
            states[wid] = state
            if state.stage in SETTLED:
                pending.discard(wid)
        if pending:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    return states


async def _history_length(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return len(history.events)

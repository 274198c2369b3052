"""Durability: replaying committed histories, bounded tracking history, and the demo command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from hub.domain.status import OrderStage
from hub.temporal import WORKFLOWS
from hub.workflows.contracts import tracking_workflow_id
from hub.workflows.order import OrderWorkflow
from tests.conftest import ROOT, hub_runtime
from tests.integration.helpers import wait_for_visibility

pytestmark = pytest.mark.integration

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
VALID_ONLY = {
    "marketplaces": {"sandbox": {"seed": 21, "invalid_address_rate": 0.0, "unknown_sku_rate": 0.0}}
}


async def test_committed_histories_replay_with_current_code(hub_settings):
    """Changing workflow code in a way that breaks running orders fails here.

    To record a new history after a deliberate, patched change, keeping the older ones (they
    stand for orders still running on the old code):
    HUB_RECORD_HISTORIES=order_happy_path_<change> pytest -k replay
    """
    name = os.environ.get("HUB_RECORD_HISTORIES")
    if name:
        target = HISTORIES / f"{name}.json"
        async with hub_runtime(hub_settings(**VALID_ONLY)) as rt:
            (wid,) = await rt.place(1)
            await rt.client.get_workflow_handle(wid).result()
            history = await rt.client.get_workflow_handle(wid).fetch_history()
            target.write_text(history.to_json())
    histories = sorted(HISTORIES.glob("*.json"))
    assert histories, "no committed workflow histories to replay"
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=pydantic_data_converter)
    for path in histories:
        history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
        await replayer.replay_workflow(history)


async def test_tracking_continues_as_new_and_still_delivers(hub_settings):
    slow_parcels = {
        **VALID_ONLY,
        "orders": {"tracking_poll_seconds": 0.05, "tracking_history_limit": 101},
        "carriers": {"sandbox": {"clock_speed": 15000}},  # ~10 s in transit: many poll rounds
    }
    async with hub_runtime(hub_settings(**slow_parcels)) as rt:
        (wid,) = await rt.place(1)
        state = await rt.client.get_workflow_handle_for(OrderWorkflow.run, wid).result()
        assert state.stage is OrderStage.COMPLETED
        label = state.shipments[0].label
        assert label is not None
        track_id = tracking_workflow_id(label.carrier, label.tracking_number)
        runs = await wait_for_visibility(
            rt.client, f"WorkflowId='{track_id}' AND ExecutionStatus='ContinuedAsNew'"
        )
        assert runs
        for run in [wf async for wf in rt.client.list_workflows(f"WorkflowId='{track_id}'")]:
            history = await rt.client.get_workflow_handle(
                track_id, run_id=run.run_id
            ).fetch_history()
            assert len(history.events) <= 101 + 30  # the limit plus one poll round's events


async def test_hub_demo_json_runs_orders_to_the_end():
    env = {k: v for k, v in os.environ.items() if k != "HUB_CONFIG"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "demo",
        "--orders",
        "6",
        "--json",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    report = json.loads(out)
    assert report["orders"] == 6
    assert sum(report["by_stage"].values()) == 6
    assert 0 < report["history_events_single_shipment_max"] <= 40
    assert report["seconds"] > 0

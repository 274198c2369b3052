"""The README's first command: `hub dev` runs orders through every stage, then stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import pytest
from temporalio.client import Client

from hub.devserver import free_port
from hub.workflows.polling_contracts import poller_workflow_id
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


async def test_hub_dev_takes_orders_in_over_http_and_stops_cleanly(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "HUB_CONFIG": str(ROOT / "config" / "hub.toml"),
        "HUB_DATA_DIR": str(tmp_path / ".hub"),
        "HUB_TEMPORAL__ADDRESS": address,
        "HUB_TEMPORAL__UI_PORT": str(free_port()),
        "HUB_INTAKE__PORT": str(free_port()),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "dev",
        "--orders-per-minute",
        "240",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        client = await _connect(address, proc)
        completed = await _wait_for(
            client, "WorkflowType='Order' AND OrderStage='completed'", timeout=90
        )
        assert completed
        poller = await client.get_workflow_handle(
            poller_workflow_id("sandbox", "default")
        ).describe()
        assert poller.status is not None and poller.status.name == "RUNNING"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    text = out.decode()
    assert "Temporal Web UI: http://127.0.0.1:" in text and text.rstrip().endswith("stopped")
    assert "tcp connect error" not in text + err.decode(), "the server stopped before the worker"


async def _connect(address: str, proc: asyncio.subprocess.Process) -> Client:
    deadline = time.monotonic() + 60
    while True:
        if proc.returncode is not None:
            raise AssertionError("hub dev exited early")
        try:
            return await Client.connect(address)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _wait_for(client: Client, query: str, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = [wf.id async for wf in client.list_workflows(query)]
        except Exception:  # search attributes still being registered
            found = []
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing matched {query!r} within {timeout} s")
        await asyncio.sleep(1)

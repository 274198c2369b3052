"""Polling is the truth: the poller finds orders whose webhooks were lost, and a poller whose
worker stops in the middle of a window resumes on the same page, without gaps or repeats."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from hub.domain.messages import FetchRequest, OrderPage
from hub.temporal import build_worker, ensure_pollers
from hub.workflows.polling import ChannelPollerWorkflow
from hub.workflows.polling_contracts import PollerStatus, poller_workflow_id
from tests.conftest import hub_runtime

pytestmark = pytest.mark.integration


def lose_every_webhook(account: str) -> dict[str, Any]:
    """Settings of a sandbox shop that never sends webhooks: only polling finds its orders.
    Each test has its own shop account, so its own poller workflow on the shared server."""
    return {
        "marketplaces": {
            "sandbox": {
                "seed": 3,
                "account": account,
                "invalid_address_rate": 0.0,
                "unknown_sku_rate": 0.0,
                "webhook_loss_rate": 1.0,
            }
        },
        "polling": {
            "interval_seconds": 3600,  # the test says when to poll
            "settle_seconds": 0,
            "overlap_seconds": 60,
            "initial_lookback_seconds": 600,
            "page_size": 2,
            "accounts": {"sandbox": [account]},
        },
    }


async def test_poller_takes_in_orders_whose_webhooks_were_lost(hub_settings):
    poller = poller_workflow_id("sandbox", "shop-lost")
    async with hub_runtime(hub_settings(**lose_every_webhook("shop-lost"))) as rt:
        assert await rt.host.simulate_orders("sandbox", 5) == []  # every webhook "lost"
        assert await ensure_pollers(rt.client, rt.settings, rt.host) == [poller]
        status = await _poller_until(
            rt.client, poller, lambda s: s.cursor is not None and not s.window
        )
        assert status.taken_in == 5
        assert len(await _orders(rt)) == 5

        # A second round re-reads the overlap: the same orders fold in, nothing new starts.
        await rt.client.get_workflow_handle(poller).signal(ChannelPollerWorkflow.poll_now)
        again = await _poller_until(
            rt.client, poller, lambda s: s.cursor is not None and s.cursor > status.cursor
        )
        assert again.taken_in == 5 and len(await _orders(rt)) == 5
        assert await ensure_pollers(rt.client, rt.settings, rt.host) == [poller]  # no second


async def test_poller_stopped_mid_window_resumes_without_gaps_or_repeats(hub_settings):
    poller = poller_workflow_id("sandbox", "shop-restart")
    settings = hub_settings(**lose_every_webhook("shop-restart"))
    async with hub_runtime(settings, worker=False) as rt:
        await rt.host.simulate_orders("sandbox", 5)  # three pages of two
        real_fetch = rt.host.fetch_orders
        calls: list[str | None] = []
        stuck = asyncio.Event()

        async def second_page_hangs(marketplace: str, request: FetchRequest) -> OrderPage:
            calls.append(request.page_token)
            if len(calls) == 2:
                stuck.set()
                await asyncio.Event().wait()  # until the worker goes away
            return await real_fetch(marketplace, request)

        rt.host.fetch_orders = second_page_hangs  # type: ignore[method-assign]
        async with build_worker(rt.client, rt.settings, rt.host):
            await ensure_pollers(rt.client, rt.settings, rt.host)
            await asyncio.wait_for(stuck.wait(), timeout=30)
            status = await _poller_until(rt.client, poller, lambda s: s.window is not None)
            assert status.window is not None and status.window.pages_read == 1
            assert status.taken_in == 2
        rt.host.fetch_orders = real_fetch  # type: ignore[method-assign]

        async with build_worker(rt.client, rt.settings, rt.host):
            final = await _poller_until(
                rt.client, poller, lambda s: s.cursor is not None and not s.window, timeout=60
            )
        assert final.taken_in == 5
        assert calls[1] is not None, "the stopped worker was reading the second page"
        assert len(await _orders(rt)) == 5


async def _orders(rt: Any) -> list[str]:
    query = f"WorkflowType='Order' AND TaskQueue='{rt.settings.temporal.task_queue}'"
    deadline = time.monotonic() + 10
    while True:
        found = [wf.id async for wf in rt.client.list_workflows(query)]
        if len(found) >= 5 or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def _poller_until(
    client: Any, poller: str, predicate: Any, timeout: float = 30
) -> PollerStatus:
    handle = client.get_workflow_handle(poller)
    deadline = time.monotonic() + timeout
    while True:
        status = await handle.query(ChannelPollerWorkflow.status)
        if predicate(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"poller stuck: {status}")
        await asyncio.sleep(0.2)

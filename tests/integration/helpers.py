"""Waiting on workflows without sleeping blindly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.types import ASGIApp
from temporalio.client import Client

from hub.workflows.contracts import OrderState
from hub.workflows.order import OrderWorkflow


async def wait_for_state(
    client: Client, workflow_id: str, predicate: Callable[[OrderState], bool], timeout: float = 60
) -> OrderState:
    handle = client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
    deadline = time.monotonic() + timeout
    while True:
        state = await handle.query(OrderWorkflow.status)
        if predicate(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"{workflow_id} stuck at {state.stage}: {state.details}")
        await asyncio.sleep(0.2)


async def wait_for_visibility(client: Client, query: str, timeout: float = 20) -> list[Any]:
    """Visibility (search attributes) is eventually consistent: poll until the query matches."""
    deadline = time.monotonic() + timeout
    while True:
        found = [wf async for wf in client.list_workflows(query)]
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing matched {query!r} within {timeout} s")
        await asyncio.sleep(0.3)


async def history_length(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return len(history.events)


async def wait_until(predicate: Callable[[], bool], *, what: str, timeout: float = 60) -> None:
    """Poll a plain predicate (e.g. a plugin's ledger) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.05)


def edge_client(app: ASGIApp) -> httpx.AsyncClient:
    """An HTTP client for the hub's webhook app, served in this process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")

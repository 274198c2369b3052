"""Waiting on workflows without sleeping blindly."""

from __future__ import annotations

import asyncio
import sys
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


# --------------------------------------------------------------------------- holds and outages
# (tests/integration/test_holds.py, test_outage.py)


async def run_cli(runtime: Any, *args: str, timeout: float = 60) -> tuple[int, str]:
    """`hub ARGS...` as an operator runs it, against the runtime's server, queue and data dir:
    (exit code, stdout and stderr together)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        *args,
        env=runtime.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"hub {' '.join(args)} did not finish within {timeout} s") from None
    return proc.returncode or 0, out.decode()


async def hub_ok(runtime: Any, *args: str) -> str:
    """`hub ARGS...` that must succeed; its output."""
    code, out = await run_cli(runtime, *args)
    assert code == 0, f"hub {' '.join(args)} exited {code}:\n{out}"
    return out


async def wait_for(
    probe: Callable[[], Any], *, what: str, timeout: float = 60, every: float = 0.2
) -> Any:
    """Poll an async `probe` until it returns something truthy (returned); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(every)


async def pending_activities(client: Client, workflow_id: str) -> list[Any]:
    """The workflow's pending activities as the server shows them (attempt, last failure)."""
    description = await client.get_workflow_handle(workflow_id).describe()
    return list(description.raw_description.pending_activities)

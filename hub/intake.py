"""Where orders enter Temporal: one workflow per order, whatever duplicates arrive.

Workflow id `order:{marketplace}:{external_id}`; a second delivery of a running order becomes
a `channel_update` signal, a delivery of a finished one is refused by the id reuse policy while
Temporal retains the closed run, and by the intake's ledger (`hub.ledger`) ever after.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from hub.domain.messages import ChannelEvent, ChannelEventKind
from hub.domain.order import Order, order_workflow_id
from hub.domain.status import OrderStage
from hub.ledger import OrderLedger, StartedOrder
from hub.noops import NoOpRecords
from hub.workflows.contracts import CancelRequest, OrderInput, OrderState
from hub.workflows.order import MARKETPLACE, STAGE, OrderWorkflow
from hub.workflows.policy import OrderPolicy

log = logging.getLogger(__name__)

QUERY_TIMEOUT_SECONDS = 5


class IntakeOutcome(StrEnum):
    STARTED = "started"
    UPDATED = "updated"
    """Already running: the delivery was folded into it as a channel update."""
    UNCHANGED = "unchanged"
    """Already running with this version of the order or a newer one, or already finished."""
    ALREADY_DONE = "already_done"
    CANCEL_SENT = "cancel_sent"
    UNKNOWN_ORDER = "unknown_order"
    RECORDED_PROBLEM = "recorded_problem"
    IGNORED = "ignored"
    LATE_UPDATE = "late_update"
    """The order was started long ago and its closed run is past retention: not started again."""


NO_EVENT = "the delivery carried no event"
NO_REASON = "ignored by the plugin without a reason"
LATE_UPDATE_REASON = "late update of a closed order (its workflow is past retention)"
# Why a delivery with these outcomes changed nothing; ignored events carry their own reason.
_NO_OP_REASONS = {
    IntakeOutcome.ALREADY_DONE: "update of an order whose workflow has finished",
    IntakeOutcome.UNKNOWN_ORDER: "cancellation of an order without a running workflow",
}


@dataclass(frozen=True)
class Intake:
    client: Client
    task_queue: str
    policy: OrderPolicy
    problems_file: Path
    ledger: OrderLedger
    noops: NoOpRecords

    async def submit(self, order: Order, *, ask_first: bool = False) -> IntakeOutcome:
        """Start the order's workflow, or hand a running one this version of the order.

        `ask_first`: before signalling, ask the workflow (a query: no history) whether it
        already holds this version. Pollers set it, since they re-read overlapping windows;
        webhooks do not, since a query waits for a worker and a channel waits for the 2xx.
        """
        if await self.ledger.find(order.key) is not None:
            # Started before: only ever updated, even once Temporal has forgotten the run.
            return await self._update(order, ask_first=ask_first)
        try:
            await self.client.start_workflow(
                OrderWorkflow.run,
                OrderInput(order=order, policy=self.policy),
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
                static_summary=f"order {order.key}",
            )
        except WorkflowAlreadyStartedError:
            # Started by a hub before the ledger, or the record after the start was lost.
            await self._remember(order)
            return await self._update(order, ask_first=ask_first)
        await self._remember(order)
        log.info("order %s started", order.key)
        return IntakeOutcome.STARTED

    async def _remember(self, order: Order) -> None:
        await self.ledger.record(StartedOrder(order.key, order.workflow_id, datetime.now(UTC)))

    async def _update(self, order: Order, *, ask_first: bool) -> IntakeOutcome:
        handle: WorkflowHandle[OrderWorkflow, OrderState] = self.client.get_workflow_handle_for(
            OrderWorkflow.run, order.workflow_id
        )
        folded = await self._folded_already(handle, order) if ask_first else None
        if folded is not None:
            return folded
        try:
            await handle.signal(OrderWorkflow.channel_update, order)
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return await self._closed(handle, order)
            raise
        return IntakeOutcome.UPDATED

    async def _closed(
        self, handle: WorkflowHandle[OrderWorkflow, OrderState], order: Order
    ) -> IntakeOutcome:
        """A signal found no running workflow: finished and still retained, or long gone."""
        try:
            await handle.describe()
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND:
                raise
            # Recorded here, not by the caller, so a poller's late update is kept as well.
            self.noops.record(
                IntakeOutcome.LATE_UPDATE.value,
                LATE_UPDATE_REASON,
                marketplace=order.marketplace,
                account=order.account,
                external_id=order.external_id,
                occurred_at=order.updated_at,
            )
            return IntakeOutcome.LATE_UPDATE
        return IntakeOutcome.ALREADY_DONE

    async def _folded_already(
        self, handle: WorkflowHandle[OrderWorkflow, OrderState], order: Order
    ) -> IntakeOutcome | None:
        """Whether the workflow is finished or holds this version (or a newer one), asked
        without adding history: pollers re-read overlapping windows, and each signal would
        cost the order's history events."""
        if order.updated_at is None:
            return None
        try:
            description = await handle.describe()
            if description.status is not WorkflowExecutionStatus.RUNNING:
                return IntakeOutcome.ALREADY_DONE
            state = await handle.query(
                OrderWorkflow.status, rpc_timeout=timedelta(seconds=QUERY_TIMEOUT_SECONDS)
            )
        except (RPCError, WorkflowQueryFailedError):
            return None  # no worker to answer now: signal, the workflow sorts it out
        known = state.order.updated_at
        return IntakeOutcome.UNCHANGED if known and known >= order.updated_at else None

    async def take_delivery(
        self, marketplace: str, events: Sequence[ChannelEvent]
    ) -> list[IntakeOutcome]:
        """A webhook delivery's events, one by one; what changed nothing is recorded.

        Only deliveries: a poller re-reads overlapping windows and would record every ignored
        order each time (its page result counts outcomes instead).
        """
        if not events:
            self.noops.record(IntakeOutcome.IGNORED.value, NO_EVENT, marketplace=marketplace)
        outcomes = []
        for event in events:
            outcome = await self.handle_event(event)
            if outcome is IntakeOutcome.IGNORED:
                self._record_no_op(outcome, _ignored_because(event), event)
            elif outcome in _NO_OP_REASONS:
                self._record_no_op(outcome, _NO_OP_REASONS[outcome], event)
            outcomes.append(outcome)
        return outcomes

    def _record_no_op(self, outcome: IntakeOutcome, reason: str, event: ChannelEvent) -> None:
        self.noops.record(
            outcome.value,
            reason,
            marketplace=event.marketplace,
            account=event.account,
            external_id=event.external_id,
            dedupe_key=event.dedupe_key,
            occurred_at=event.occurred_at,
        )

    async def handle_event(self, event: ChannelEvent, *, ask_first: bool = False) -> IntakeOutcome:
        if event.kind is ChannelEventKind.IGNORED:
            return IntakeOutcome.IGNORED
        if event.problem is not None or (
            event.kind is ChannelEventKind.ORDER_UPSERTED and event.order is None
        ):
            self.record_problem(event)
            return IntakeOutcome.RECORDED_PROBLEM
        if event.kind is ChannelEventKind.ORDER_CANCELLED:
            return await self.cancel(
                event.marketplace, event.external_id, event.reason or "cancelled by channel"
            )
        if event.order is not None:
            order = event.order
            if order.updated_at is None:
                order = order.model_copy(update={"updated_at": event.occurred_at})
            return await self.submit(order, ask_first=ask_first)
        return IntakeOutcome.IGNORED

    async def cancel(self, marketplace: str, external_id: str, reason: str) -> IntakeOutcome:
        handle = self.client.get_workflow_handle(order_workflow_id(marketplace, external_id))
        try:
            await handle.signal(
                OrderWorkflow.cancel, CancelRequest(reason=reason, requested_by=marketplace)
            )
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return IntakeOutcome.UNKNOWN_ORDER
            raise
        return IntakeOutcome.CANCEL_SENT

    def record_problem(self, event: ChannelEvent) -> None:
        """Keep unmappable orders for ops: ids and the field at fault, no personal data."""
        self.problems_file.parent.mkdir(parents=True, exist_ok=True)
        row = {
            "marketplace": event.marketplace,
            "external_id": event.external_id,
            "dedupe_key": event.dedupe_key,
            "occurred_at": event.occurred_at.isoformat(),
            "problem": str(event.problem) if event.problem else "no order in event",
        }
        with self.problems_file.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        log.warning(
            "order %s:%s not mappable: %s", event.marketplace, event.external_id, row["problem"]
        )


def _ignored_because(event: ChannelEvent) -> str:
    if event.kind is ChannelEventKind.IGNORED:
        return event.reason or NO_REASON
    return f"{event.kind.value} event without an order: nothing to act on"

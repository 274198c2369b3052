"""The order workflow: one order from intake to doorstep, durable across crashes and weeks.

Stages: validate -> reserve -> per shipment (pick -> pack -> choose carrier -> buy label ->
confirm to the marketplace) -> track (child workflow per parcel) -> complete.

History budget (a performance target: at most 40 events for a happy-path order, tracking
excluded): calls run as local activities (one marker event each, retried by the worker), except
the label purchase, which spends money and may wait on a slow carrier: it is a regular,
heartbeating activity that shows as pending in the UI with its attempts. Search attributes are
published only before the workflow blocks, so stages passed within one workflow task cost no
extra events. Measured: 33 events for a one-parcel order (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from hub.domain.address import Address, address_problems
    from hub.domain.holds import HoldCode, HoldReason
    from hub.domain.messages import CustomerNotice, NoticeKind, Reservation, VoidResult
    from hub.domain.order import Order
    from hub.domain.shipment import CarrierChoice, Label, PackagingChoice, Shipment
    from hub.domain.status import FulfilmentStatus, OrderStage, transition
    from hub.domain.tracking import TrackingStatus
    from hub.workflows.contracts import (
        Activity,
        CancelRequest,
        ConfirmInput,
        ErrorType,
        FixAddress,
        FixSku,
        LabelInput,
        NoticeInput,
        OrderInput,
        OrderState,
        PickOutcome,
        ReleaseInput,
        ReserveInput,
        ShipmentInput,
        StageTiming,
        TrackingInput,
        TrackingResult,
        ValidateInput,
        ValidationResult,
        VoidInput,
        tracking_workflow_id,
    )
    from hub.workflows.failures import ACTIVITY_FAILURES, application_cause, describe
    from hub.workflows.options import EXTERNAL, QUICK
    from hub.workflows.tracking import ShipmentTrackingWorkflow

T = TypeVar("T")

STAGE = SearchAttributeKey.for_keyword("OrderStage")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")
CARRIER = SearchAttributeKey.for_keyword("Carrier")
ATTENTION = SearchAttributeKey.for_keyword("Attention")
SEARCH_ATTRIBUTES = (STAGE, MARKETPLACE, CARRIER, ATTENTION)
PATCH_TRACK_EVERY_PARCEL = "track-every-parcel"
"""Since 2026-12: one tracking child per parcel, not per shipment (see `_track_all`)."""


# Error types that name their own hold reason, whichever stage raised them.
HOLD_FOR_ERROR_TYPE: dict[str, HoldCode] = {
    ErrorType.LABEL_UNCERTAIN.value: HoldCode.LABEL_UNCERTAIN,
    ErrorType.CUSTOMS_DATA_MISSING.value: HoldCode.CUSTOMS_DATA_MISSING,
}


class OrderCancelledError(Exception):
    """Raised inside the workflow to unwind to the cancellation path."""


@workflow.defn(name="Order")
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._policy = input.policy
        self._state = OrderState(order=input.order, payment=input.order.payment_status)
        self._published: dict[str, str | None] = {}
        self._pending_marks: dict[str, str | None] = {}
        self._cancel: CancelRequest | None = None

    # ----------------------------------------------------------------- read side

    @workflow.query(name="status")
    def status(self) -> OrderState:
        return self._state

    # ----------------------------------------------------------------- operator and channel input

    @workflow.update(name="fix_address")
    async def fix_address(self, fix: FixAddress) -> str:
        order = self._state.order
        self._state.order = order.model_copy(update={"shipping_address": _patched(order, fix)})
        self._clear_hold(HoldCode.INVALID_ADDRESS)
        return "address updated; order resumes"

    @fix_address.validator
    def _validate_fix_address(self, fix: FixAddress) -> None:
        hold = self._state.hold
        if hold is None or hold.code is not HoldCode.INVALID_ADDRESS:
            raise ValueError("order is not on hold for its address")
        problems = address_problems(_patched(self._state.order, fix))
        if problems:
            raise ValueError("address still invalid: " + "; ".join(problems))

    @workflow.update(name="fix_sku")
    async def fix_sku(self, fix: FixSku) -> str:
        order = self._state.order
        lines = tuple(
            line.model_copy(update={"sku": fix.sku}) if line.line_id == fix.line_id else line
            for line in order.lines
        )
        self._state.order = order.model_copy(update={"lines": lines})
        self._clear_hold(HoldCode.UNKNOWN_SKU)
        return f"line {fix.line_id} now {fix.sku}; order re-validates"

    @fix_sku.validator
    def _validate_fix_sku(self, fix: FixSku) -> None:
        hold = self._state.hold
        if hold is None or hold.code is not HoldCode.UNKNOWN_SKU:
            raise ValueError("order is not on hold for an unknown SKU")
        if fix.line_id not in {line.line_id for line in self._state.order.lines}:
            raise ValueError(f"order has no line {fix.line_id}")

    @workflow.update(name="retry")
    async def retry(self) -> str:
        """Resume a held order after its cause was fixed outside (restock, carrier fixed...)."""
        self._clear_hold(None)
        return "order resumes"

    @retry.validator
    def _validate_retry(self) -> None:
        if self._state.hold is None:
            raise ValueError("order is not on hold")

    @workflow.signal(name="cancel")
    def cancel(self, request: CancelRequest) -> None:
        if self._cancel is None:
            self._cancel = request

    @workflow.signal(name="channel_update")
    def channel_update(self, order: Order) -> None:
        """A newer version of the order from its channel (payment captured, address edited)."""
        known = self._state.order.updated_at
        if known is not None and order.updated_at is not None and order.updated_at <= known:
            return  # a late or repeated delivery of a version already taken in
        if self._state.stage in {OrderStage.RECEIVED, OrderStage.VALIDATING, OrderStage.ON_HOLD}:
            self._state.order = order
            if order.payment_status is not self._state.payment:
                self._state.payment = order.payment_status
            if self._state.hold is not None and self._state.hold.code in {
                HoldCode.UNPAID,
                HoldCode.INVALID_ADDRESS,
                HoldCode.UNKNOWN_SKU,
            }:
                self._clear_hold(self._state.hold.code)

    # ----------------------------------------------------------------- main line

    @workflow.run
    async def run(self, input: OrderInput) -> OrderState:
        # OrderStage=received and Marketplace are set by the starter: no upsert event needed here.
        self._published = {
            STAGE.name: OrderStage.RECEIVED.value,
            MARKETPLACE.name: input.order.marketplace,
        }
        try:
            await self._validate()
            reservation = await self._reserve()
            for allocation_no, allocation in enumerate(reservation.allocations, start=1):
                self._state.shipments.append(
                    Shipment(
                        shipment_id=f"{self._state.order.external_id}-{allocation_no}",
                        warehouse=allocation.warehouse,
                        ship_from=allocation.ship_from,
                        lines=allocation.lines,
                    )
                )
            for index in range(len(self._state.shipments)):
                await self._fulfil(index)
            await self._track_all()
        except OrderCancelledError:
            await self._cancelled()
            return self._state
        self._enter(OrderStage.COMPLETED, "delivered; order complete")
        if self._policy.review_invitation:
            await self._notify(NoticeKind.REVIEW_INVITATION, {})
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _validate(self) -> None:
        while True:
            self._enter(OrderStage.VALIDATING, "checking address, SKUs and payment")
            result = await self._quick(
                Activity.VALIDATE,
                ValidateInput(
                    order=self._state.order,
                    warehouse=self._policy.warehouse,
                    hold_payment_statuses=self._policy.hold_payment_statuses,
                ),
                ValidationResult,
                hold_code=HoldCode.UNKNOWN_SKU,
            )
            if not result.holds:
                return
            await self._hold(result.holds[0])

    async def _reserve(self) -> Reservation:
        while True:
            self._enter(OrderStage.RESERVING, "reserving stock")
            reservation = await self._quick(
                Activity.RESERVE,
                ReserveInput(
                    order=self._state.order,
                    warehouse=self._policy.warehouse,
                    reservation_key=self._reservation_key,
                ),
                Reservation,
                hold_code=HoldCode.OUT_OF_STOCK,
            )
            if reservation.complete:
                return reservation
            short = ", ".join(
                f"{s.sku} needs {s.requested}, {s.available} available"
                for s in reservation.shortages
            )
            await self._hold(
                HoldReason(code=HoldCode.OUT_OF_STOCK, message=f"not enough stock: {short}")
            )

    async def _fulfil(self, index: int) -> None:
        """Pick, pack, label and confirm one shipment."""
        shipment = self._state.shipments[index]
        if shipment.status is FulfilmentStatus.ALLOCATED:
            self._enter(OrderStage.PICKING, f"picking shipment {shipment.shipment_id}")
            self._set_shipment(index, status=FulfilmentStatus.PICKING)
            while True:
                pick = await self._quick(
                    Activity.PICK,
                    self._shipment_input(index),
                    PickOutcome,
                    hold_code=HoldCode.OUT_OF_STOCK,
                )
                if not pick.short_skus:
                    break
                # Never pack a short shipment: wait for the warehouse to resolve it, then re-ask.
                await self._hold(
                    HoldReason(
                        code=HoldCode.OUT_OF_STOCK,
                        message=f"short pick in {shipment.warehouse}: {', '.join(pick.short_skus)}",
                    )
                )
                self._enter(OrderStage.PICKING, f"re-checking the pick of {shipment.shipment_id}")
            self._set_shipment(
                index, status=FulfilmentStatus.PICKED, pick_list_id=pick.pick_list_id
            )

        self._enter(OrderStage.PACKING, f"packing shipment {shipment.shipment_id}")
        packaging = await self._quick(
            Activity.PACK,
            self._shipment_input(index),
            PackagingChoice,
            hold_code=HoldCode.OUT_OF_STOCK,
        )
        self._set_shipment(index, status=FulfilmentStatus.PACKED, packaging=packaging)

        self._enter(OrderStage.LABELLING, f"choosing a carrier for {shipment.shipment_id}")
        choice = await self._quick(
            Activity.CHOOSE_CARRIER,
            self._shipment_input(index),
            CarrierChoice,
            hold_code=HoldCode.NO_CARRIER,
        )
        self._set_shipment(index, carrier=choice)
        self._mark(CARRIER, choice.carrier)
        self._details(
            f"buying a {choice.carrier} label for {shipment.shipment_id}: {choice.reason}"
        )
        label = await self._external(
            Activity.BUY_LABEL,
            LabelInput(
                order=self._state.order,
                shipment=self._state.shipments[index],
                idempotency_key=f"label:{workflow.info().workflow_id}:{shipment.shipment_id}",
                warehouse=self._policy.warehouse,
            ),
            Label,
            hold_code=HoldCode.LABEL_REFUSED,
        )
        self._set_shipment(index, status=FulfilmentStatus.LABELLED, label=label)

        self._enter(
            OrderStage.CONFIRMING, f"sending tracking {label.tracking_number} to the channel"
        )
        await self._quick(
            Activity.CONFIRM_SHIPMENT,
            ConfirmInput(order=self._state.order, shipment=self._state.shipments[index]),
            None,
            hold_code=HoldCode.MARKETPLACE_REJECTED,
        )
        self._set_shipment(index, status=FulfilmentStatus.SHIPPED)
        await self._notify(
            NoticeKind.SHIPPED,
            {
                "carrier": choice.carrier,
                "tracking_number": label.tracking_number,
                "tracking_url": label.tracking_url or "",
                "eta": choice.estimated_delivery.isoformat() if choice.estimated_delivery else "",
            },
            suffix=shipment.shipment_id,
        )

    async def _track_all(self) -> None:
        self._enter(OrderStage.IN_TRANSIT, "in transit; waiting for the carrier to deliver")
        self._publish()
        # Orders started before this patch tracked each shipment by its first parcel only.
        every_parcel = workflow.patched(PATCH_TRACK_EVERY_PARCEL)
        handles = []
        for shipment in self._state.shipments:
            assert shipment.label is not None
            numbers = (
                shipment.label.tracking_numbers
                if every_parcel
                else (shipment.label.tracking_number,)
            )
            for position, number in enumerate(numbers, start=1):
                tracking = self._tracking_input(shipment, number, position, len(numbers))
                handles.append(
                    await workflow.start_child_workflow(
                        ShipmentTrackingWorkflow.run,
                        tracking,
                        id=tracking_workflow_id(tracking.carrier, number),
                        static_summary=f"tracking {shipment.shipment_id} parcel {position}",
                    )
                )
        results: list[TrackingResult] = []
        for handle in handles:
            try:
                results.append(await handle)
            except ChildWorkflowError as err:
                raise ApplicationError(f"tracking failed: {err.cause}") from err
        undelivered = [r for r in results if r.status is not TrackingStatus.DELIVERED]
        for shipment_id, parcels in _by_shipment(results).items():
            outcome = _shipment_outcome(parcels)
            delivered = outcome.status is TrackingStatus.DELIVERED
            self._set_shipment(
                self._index(shipment_id),
                status=FulfilmentStatus.DELIVERED if delivered else FulfilmentStatus.RETURNED,
                tracking_status=outcome.status,
                last_tracking_event=outcome.last_event,
                delivered_at=outcome.delivered_at,
            )
        if not undelivered:
            self._enter(OrderStage.DELIVERED, "delivered")
        else:
            # Returned to sender or cancelled by the carrier: a person decides (reship, refund).
            await self._hold(
                HoldReason(
                    code=HoldCode.TRACKING_EXCEPTION,
                    message="a parcel was not delivered: "
                    + ", ".join(
                        f"{r.shipment_id} ({r.tracking_number}) {r.status.value}"
                        if r.tracking_number
                        else f"{r.shipment_id} {r.status.value}"
                        for r in undelivered
                    ),
                )
            )
            self._enter(OrderStage.DELIVERED, "closed by operator after a tracking exception")

    def _tracking_input(
        self, shipment: Shipment, number: str, position: int, count: int
    ) -> TrackingInput:
        order = self._state.order
        assert shipment.label is not None and shipment.carrier is not None
        return TrackingInput(
            order_key=order.key,
            marketplace=order.marketplace,
            recipient=order.customer,
            shipment_id=shipment.shipment_id,
            carrier=shipment.label.carrier,
            tracking_number=number,
            promised_by=order.deliver_by or shipment.carrier.estimated_delivery,
            promise_from_carrier=order.deliver_by is None,
            poll_seconds=self._policy.tracking_poll_seconds,
            history_limit=self._policy.tracking_history_limit,
            parcel_number=position,
            parcel_count=count,
        )

    async def _cancelled(self) -> None:
        """Undo what was done: void unused labels, release the stock. Runs past the cancel guard."""
        reason = self._cancel.reason if self._cancel else "cancelled"
        self._state.cancel_reason = reason
        unvoided: list[str] = []
        for index, shipment in enumerate(self._state.shipments):
            if shipment.label is not None:
                # A label the carrier will not void (e.g. already scanned) must be claimed back
                # by a person; the cancellation itself still stands.
                try:
                    result = await workflow.execute_activity(
                        Activity.VOID_LABEL.value,
                        VoidInput(label=shipment.label),
                        result_type=VoidResult,
                        **EXTERNAL,
                    )
                except ACTIVITY_FAILURES as err:
                    unvoided.append(f"{shipment.shipment_id}: {describe(err)}")
                else:
                    if not result.voided:
                        refused = result.message or "refused by the carrier"
                        unvoided.append(f"{shipment.shipment_id}: {refused}")
            self._set_shipment(index, status=FulfilmentStatus.CANCELLED)
        await workflow.execute_local_activity(
            Activity.RELEASE.value,
            ReleaseInput(warehouse=self._policy.warehouse, reservation_key=self._reservation_key),
            **QUICK,
        )
        self._state.hold = None
        self._mark(ATTENTION, None)
        note = f"; label not voided, claim a refund: {'; '.join(unvoided)}" if unvoided else ""
        self._enter(OrderStage.CANCELLED, f"cancelled: {reason}{note}")
        self._publish()

    # ----------------------------------------------------------------- holds

    async def _hold(self, reason: HoldReason) -> None:
        """Wait for a person (or the channel) to fix the cause; raise if cancelled meanwhile."""
        self._state.hold = reason
        self._enter(OrderStage.ON_HOLD, f"on hold: {reason.message}")
        self._mark(ATTENTION, reason.code.value)
        self._publish()
        await workflow.wait_condition(lambda: self._state.hold is None or self._cancel is not None)
        if self._cancel is not None:
            raise OrderCancelledError
        self._mark(ATTENTION, None)

    def _clear_hold(self, code: HoldCode | None) -> None:
        if self._state.hold is not None and (code is None or self._state.hold.code is code):
            self._state.hold = None

    # ----------------------------------------------------------------- activity calls

    async def _quick(
        self,
        name: Activity,
        arg: object,
        result_type: type[T] | None,
        *,
        hold_code: HoldCode | None,
    ) -> T:
        return await self._guarded(
            lambda: workflow.execute_local_activity(
                name.value,
                arg,
                result_type=result_type,
                **QUICK,
            ),
            hold_code,
        )

    async def _external(
        self,
        name: Activity,
        arg: object,
        result_type: type[T] | None,
        *,
        hold_code: HoldCode | None,
    ) -> T:
        def call() -> Awaitable[T]:
            self._publish()
            return workflow.execute_activity(name.value, arg, result_type=result_type, **EXTERNAL)

        return await self._guarded(call, hold_code)

    async def _guarded(self, call: Callable[[], Awaitable[T]], hold_code: HoldCode | None) -> T:
        """Run an activity; a permanent failure puts the order on hold instead of failing it."""
        while True:
            self._check_cancel()
            try:
                return await call()
            except ACTIVITY_FAILURES as err:
                cause = application_cause(err)
                if hold_code is None or cause is None:
                    raise
                code = HOLD_FOR_ERROR_TYPE.get(cause.type or "", hold_code)
                stage = self._state.stage
                await self._hold(HoldReason(code=code, message=cause.message))
                self._enter(stage, f"retrying {stage.value}")

    def _check_cancel(self) -> None:
        if self._cancel is None:
            return
        if any(s.status is FulfilmentStatus.SHIPPED for s in self._state.shipments):
            # A parcel is with the carrier and the channel knows: cancelling is a return now.
            self._details(
                f"cancel requested after shipping ({self._cancel.reason}): handle as a return"
            )
            return
        raise OrderCancelledError

    async def _notify(self, kind: NoticeKind, facts: dict[str, str], suffix: str = "") -> None:
        order = self._state.order
        key = f"{order.key}:{kind.value}" + (f":{suffix}" if suffix else "")
        notice = CustomerNotice(
            notice_key=key,
            kind=kind,
            order_key=order.key,
            marketplace=order.marketplace,
            recipient=order.customer,
            facts=facts,
        )
        try:
            await workflow.execute_local_activity(
                Activity.NOTIFY.value, NoticeInput(notice=notice), **QUICK
            )
        except ACTIVITY_FAILURES as err:
            # A customer we cannot reach (no email, refused template) must not stop the parcel.
            self._state.notices_failed.append(f"{key}: {describe(err)}")
            workflow.logger.warning("notice %s not sent: %s", key, describe(err))
            return
        self._state.notices_sent.append(key)

    # ----------------------------------------------------------------- state helpers

    @property
    def _reservation_key(self) -> str:
        return f"order:{self._state.order.key}"

    def _shipment_input(self, index: int) -> ShipmentInput:
        return ShipmentInput(
            order=self._state.order,
            warehouse=self._policy.warehouse,
            reservation_key=self._reservation_key,
            shipment=self._state.shipments[index],
        )

    def _index(self, shipment_id: str) -> int:
        for index, shipment in enumerate(self._state.shipments):
            if shipment.shipment_id == shipment_id:
                return index
        raise ApplicationError(f"unknown shipment {shipment_id}", non_retryable=True)

    def _set_shipment(self, index: int, **changes: object) -> None:
        shipment = self._state.shipments[index]
        new_status = changes.get("status")
        if isinstance(new_status, FulfilmentStatus) and new_status is not shipment.status:
            transition(shipment.status, new_status)
        self._state.shipments[index] = shipment.model_copy(update=changes)

    def _enter(self, stage: OrderStage, details: str) -> None:
        if stage is not self._state.stage:
            self._state.stage = transition(self._state.stage, stage)
            self._state.stage_log.append(StageTiming(stage=stage, entered_at=workflow.now()))
            self._mark(STAGE, stage.value)
        self._details(details)

    def _details(self, text: str) -> None:
        self._state.details = text
        workflow.set_current_details(text)

    def _mark(self, key: SearchAttributeKey[str], value: str | None) -> None:
        self._pending_marks[key.name] = value

    def _publish(self) -> None:
        """Upsert only the search attributes that changed since the last publish (one event)."""
        pending = self._pending_marks
        updates: list[SearchAttributeUpdate[str]] = []
        for key in SEARCH_ATTRIBUTES:
            if key.name not in pending:
                continue
            value = pending[key.name]
            if self._published.get(key.name, "<unset>") == value:
                continue
            updates.append(key.value_set(value) if value is not None else key.value_unset())
            self._published[key.name] = value
        self._pending_marks = {}
        if updates:
            workflow.upsert_search_attributes(updates)


def _patched(order: Order, fix: FixAddress) -> Address:
    changes = {k: v for k, v in fix.model_dump().items() if v is not None}
    return Address.model_validate({**order.shipping_address.model_dump(), **changes})


def _by_shipment(results: list[TrackingResult]) -> dict[str, list[TrackingResult]]:
    grouped: dict[str, list[TrackingResult]] = {}
    for result in results:
        grouped.setdefault(result.shipment_id, []).append(result)
    return grouped


def _shipment_outcome(parcels: list[TrackingResult]) -> TrackingResult:
    """A shipment is delivered when every parcel is (at the last one's time); else it takes the
    status of a parcel that was not delivered."""
    undelivered = [p for p in parcels if p.status is not TrackingStatus.DELIVERED]
    events = [p.last_event for p in parcels if p.last_event is not None]
    last = max(events, key=lambda e: e.occurred_at) if events else None
    if undelivered:
        return undelivered[0].model_copy(update={"last_event": last})
    times = [p.delivered_at for p in parcels if p.delivered_at is not None]
    return parcels[0].model_copy(
        update={"last_event": last, "delivered_at": max(times) if times else None}
    )

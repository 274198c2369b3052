"""The order workflow: one order from intake to doorstep, durable across crashes and weeks.

Stages: validate -> (presale: await the release date) -> reserve -> per shipment (pick -> pack ->
choose carrier -> buy label -> confirm to the marketplace) -> track (child workflow per parcel)
-> complete. Every event at every stage ends in an active stage, a hold naming what resolves
it, or a terminal stage (the table is in ARCHITECTURE.md and `hub/domain/holds.py`).

The main line is a loop of resumable steps: each step looks at the order's state (which
shipments are picked, labelled, shipped...) and does the next thing, so a hold resolution
that changes the state under a step (relabel, reship, a cancel) restarts the step instead of
threading special cases through it. A bug in the hub's own rules (an illegal status change)
becomes a `hub_error` hold, never a failed workflow task.

History budget (a performance target: at most 40 events for a happy-path order, tracking
excluded): calls run as local activities (one marker event each), except the label purchase, a
regular heartbeating activity. A call still failing after a few quick attempts becomes a regular
activity retried by the server (no history per attempt, pending in the UI with its last error);
after the stage's attention time the order shows `Attention=<family>_unreachable`. Search
attributes are published only before the workflow blocks. Measured: 33 events for a one-parcel
order (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, RetryState

with workflow.unsafe.imports_passed_through():
    from hub.domain.address import Address, address_problems
    from hub.domain.changes import Outcome, Phase, changes, line_signature
    from hub.domain.holds import (
        CUSTOMER_HOLD_REASONS,
        CUSTOMER_NOTICE_HOLDS,
        HoldCode,
        HoldReason,
        OutageCode,
    )
    from hub.domain.messages import CustomerNotice, NoticeKind, Reservation, VoidResult
    from hub.domain.order import Order
    from hub.domain.shipment import CarrierChoice, Label, PackagingChoice, Shipment, ShipmentLine
    from hub.domain.status import FulfilmentStatus, OrderStage, transition
    from hub.domain.tracking import TrackingStatus
    from hub.workflows.contracts import (
        Activity,
        AddressDecision,
        AfterSalesNote,
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
        ReleaseDate,
        ReleaseInput,
        ReleaseOutcome,
        ReserveInput,
        Resolution,
        ResolveUndelivered,
        ShipmentInput,
        StageTiming,
        TrackingInput,
        TrackingResult,
        ValidateInput,
        ValidationResult,
        VoidInput,
        tracking_workflow_id,
    )
    from hub.workflows.failures import (
        ACTIVITY_FAILURES,
        application_cause,
        describe,
        is_permanent,
    )
    from hub.workflows.options import EXTERNAL, QUICK, persistent
    from hub.workflows.tracking import ShipmentTrackingWorkflow

T = TypeVar("T")

STAGE = SearchAttributeKey.for_keyword("OrderStage")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")
CARRIER = SearchAttributeKey.for_keyword("Carrier")
ATTENTION = SearchAttributeKey.for_keyword("Attention")
SEARCH_ATTRIBUTES = (STAGE, MARKETPLACE, CARRIER, ATTENTION)
PATCH_TRACK_EVERY_PARCEL = "track-every-parcel"
"""Since 2026-12: one tracking child per parcel, not per shipment (see `_track`)."""

# Error types that name their own hold reason, whichever stage raised them.
HOLD_FOR_ERROR_TYPE: dict[str, HoldCode] = {
    ErrorType.LABEL_UNCERTAIN.value: HoldCode.LABEL_UNCERTAIN,
    ErrorType.CUSTOMS_DATA_MISSING.value: HoldCode.CUSTOMS_DATA_MISSING,
}

OUTAGE_FOR: dict[Activity, OutageCode] = {
    Activity.VALIDATE: OutageCode.WAREHOUSE_UNREACHABLE,
    Activity.RESERVE: OutageCode.WAREHOUSE_UNREACHABLE,
    Activity.RELEASE: OutageCode.WAREHOUSE_UNREACHABLE,
    Activity.PICK: OutageCode.WAREHOUSE_UNREACHABLE,
    Activity.PACK: OutageCode.WAREHOUSE_UNREACHABLE,
    Activity.CHOOSE_CARRIER: OutageCode.CARRIER_UNREACHABLE,
    Activity.BUY_LABEL: OutageCode.CARRIER_UNREACHABLE,
    Activity.VOID_LABEL: OutageCode.CARRIER_UNREACHABLE,
    Activity.TRACK: OutageCode.CARRIER_UNREACHABLE,
    Activity.CONFIRM_SHIPMENT: OutageCode.CHANNEL_UNREACHABLE,
    Activity.NOTIFY: OutageCode.NOTIFIER_UNREACHABLE,
}

_F = FulfilmentStatus
NOT_SHIPPED = frozenset({_F.ALLOCATED, _F.PICKING, _F.PICKED, _F.PACKED, _F.LABELLED})
HANDED_OVER = frozenset({_F.SHIPPED, _F.DELIVERED, _F.FAILED, _F.RETURNED})
NOTICE_DAYS = 1
"""How long a notice that could not be sent at once is retried in the background."""


class OrderCancelledError(Exception):
    """Raised inside the workflow to unwind to the cancellation step."""

    def __init__(self, late_result: object = None) -> None:
        super().__init__("cancelled")
        self.late_result = late_result
        """What an interrupted call returned anyway (a label bought as the cancel arrived)."""


class RestartStepError(Exception):
    """The state changed under the current step (relabel, reship): run the step again."""


@workflow.defn(name="Order")
class OrderWorkflow:
    @workflow.init
    def __init__(self, input: OrderInput) -> None:
        self._policy = input.policy
        self._state = OrderState(order=input.order, payment=input.order.payment_status)
        self._published: dict[str, str | None] = {}
        self._pending_marks: dict[str, str | None] = {}
        self._cancel: CancelRequest | None = None
        self._validated = False
        self._raised: list[HoldReason] = []
        """Holds signals asked for, raised one after another at the next step boundary."""
        self._buying: set[str] = set()
        """Shipments whose label purchase is in flight (an address change then needs a person)."""
        self._confirmed_by_hand = False
        self._reshipping = False
        """A reship is being reserved: a cancel now stops it (nothing of it left yet)."""
        self._address_fixed_from: Address | None = None
        """The address an operator corrected: a channel version still carrying it is stale."""
        self._sku_fixes: dict[str, tuple[str, str]] = {}
        """line id -> (the channel's SKU, the operator's): kept over stale channel versions."""
        self._notices_pending: set[str] = set()
        self._released: set[str] = set()
        self._unvoided: list[str] = []
        """Labels the carrier would not void, for the cancellation's details."""
        self._last_ship_date: str | None = None
        """Reservations given back whole: never released twice."""
        self._new_lines: tuple[tuple[str, str, int], ...] | None = None
        """The channel's changed lines, while a person decides (order_changed)."""
        self._refused_lines: tuple[tuple[str, str, int], ...] | None = None
        """Lines a person refused: later versions with the same lines do not ask again."""
        self._pending_address: Address | None = None
        self._address_version = 0
        self._relabel: bool | None = None
        self._ship_available = False
        self._short: tuple[tuple[ShipmentLine, ...], tuple[ShipmentLine, ...]] | None = None
        """The shipment's lines and what its last pick missed, while held for a short pick."""
        self._resolution: ResolveUndelivered | None = None
        self._pick_attempts: dict[str, int] = {}
        self._label_rounds: dict[str, int] = {}
        self._rechecks: dict[HoldCode, int] = {}
        self._children: dict[str, asyncio.Task[TrackingResult | None]] = {}
        self._background: list[asyncio.Task[None]] = []

    # ----------------------------------------------------------------- read side

    @workflow.query(name="status")
    def status(self) -> OrderState:
        return self._state

    # ----------------------------------------------------------------- operator and channel input

    @workflow.update(name="fix_address")
    async def fix_address(self, fix: FixAddress) -> str:
        order = self._state.order
        self._address_fixed_from = order.shipping_address
        self._state.order = order.model_copy(update={"shipping_address": _patched(order, fix)})
        self._address_version += 1
        self._clear_hold()
        return "address updated; order resumes"

    @fix_address.validator
    def _validate_fix_address(self, fix: FixAddress) -> None:
        self._require_hold(HoldCode.INVALID_ADDRESS, HoldCode.LABEL_REFUSED)
        problems = address_problems(_patched(self._state.order, fix))
        if problems:
            raise ValueError("address still invalid: " + "; ".join(problems))

    @workflow.update(name="fix_sku")
    async def fix_sku(self, fix: FixSku) -> str:
        order = self._state.order
        for line in order.lines:
            if line.line_id == fix.line_id:
                channel_sku = self._sku_fixes.get(line.line_id, (line.sku, ""))[0]
                self._sku_fixes[line.line_id] = (channel_sku, fix.sku)
        lines = tuple(
            line.model_copy(update={"sku": fix.sku}) if line.line_id == fix.line_id else line
            for line in order.lines
        )
        self._state.order = order.model_copy(update={"lines": lines})
        self._clear_hold()
        return f"line {fix.line_id} now {fix.sku}; order re-validates"

    @fix_sku.validator
    def _validate_fix_sku(self, fix: FixSku) -> None:
        self._require_hold(HoldCode.UNKNOWN_SKU)
        if fix.line_id not in {line.line_id for line in self._state.order.lines}:
            raise ValueError(f"order has no line {fix.line_id}")

    @workflow.update(name="retry")
    async def retry(self) -> str:
        """Resume a held order after its cause was fixed outside (restock, carrier fixed...)."""
        assert self._state.hold is not None
        code = self._state.hold.code
        self._clear_hold()
        return f"{code.value} cleared; the step that held runs again"

    @retry.validator
    def _validate_retry(self) -> None:
        hold = self._state.hold
        if hold is None:
            raise ValueError("order is not on hold")
        if hold.code in {HoldCode.TRACKING_EXCEPTION, HoldCode.ADDRESS_CHANGED}:
            choices = ", ".join(a.value for a in hold.actions)
            raise ValueError(f"{hold.code.value} needs a decision: {choices}")

    @workflow.update(name="ship_available")
    async def ship_available(self) -> str:
        """After a short pick: ship what was picked; the missing units are released."""
        self._ship_available = True
        self._clear_hold()
        return "shipping what was picked; the short units are released"

    @ship_available.validator
    def _validate_ship_available(self) -> None:
        self._require_hold(HoldCode.SHORT_PICK)
        if self._short is not None and not _without(*self._short):
            raise ValueError("nothing was picked: retry after a restock, or cancel")

    @workflow.update(name="mark_confirmed")
    async def mark_confirmed(self) -> str:
        """The channel refused the shipment confirmation and a person told it by hand."""
        self._confirmed_by_hand = True
        self._clear_hold()
        return "confirmation skipped; the parcel goes on to tracking"

    @mark_confirmed.validator
    def _validate_mark_confirmed(self) -> None:
        self._require_hold(HoldCode.MARKETPLACE_REJECTED)

    @workflow.update(name="address_decision")
    async def address_decision(self, decision: AddressDecision) -> str:
        self._relabel = decision.relabel
        self._clear_hold()
        if decision.relabel:
            return "voiding the label and buying one to the new address"
        return "keeping the address on the label"

    @address_decision.validator
    def _validate_address_decision(self, decision: AddressDecision) -> None:
        self._require_hold(HoldCode.ADDRESS_CHANGED)

    @workflow.update(name="resolve")
    async def resolve(self, decision: ResolveUndelivered) -> str:
        self._resolution = decision
        self._clear_hold()
        if decision.resolution is Resolution.RESHIP:
            return "reshipping the undelivered shipment"
        return "closing the order"

    @resolve.validator
    def _validate_resolve(self, decision: ResolveUndelivered) -> None:
        self._require_hold(HoldCode.TRACKING_EXCEPTION)

    @workflow.update(name="set_release_date")
    async def set_release_date(self, change: ReleaseDate) -> str:
        order = self._state.order
        self._state.order = order.model_copy(update={"release_at": change.release_at})
        if change.release_at is None:
            return "released now"
        return f"ships from {change.release_at.date().isoformat()}"

    @set_release_date.validator
    def _validate_set_release_date(self, change: ReleaseDate) -> None:
        if self._state.reservation_keys or self._state.stage.is_terminal:
            raise ValueError("the order is past its release: stock is already reserved")
        if change.release_at is not None and change.release_at.tzinfo is None:
            raise ValueError("the release date must carry a timezone")

    @workflow.signal(name="cancel")
    def cancel(self, request: CancelRequest) -> None:
        shipments = self._state.shipments
        if (
            shipments
            and not any(s.status in NOT_SHIPPED for s in shipments)
            and not self._reshipping
        ):
            # Everything left the warehouse: the cancel is a return request now.
            self._after_sales("cancel_after_shipping", f"{request.reason} ({request.requested_by})")
            return
        if self._cancel is None:
            self._cancel = request

    @workflow.signal(name="channel_update")
    def channel_update(self, order: Order) -> None:
        """A newer version of the order from its channel (payment, address, lines, dates)."""
        known = self._state.order.updated_at
        if known is not None and order.updated_at is not None and order.updated_at <= known:
            return  # a late or repeated delivery of a version already taken in
        if self._state.stage.is_terminal:
            return
        current = self._state.order
        order = self._with_operator_fixes(order)
        for change in changes(current, order, self._phase()):
            self._apply_change(change.outcome, change.what, order)
        # Remember the channel's version so a repeat of it is recognised.
        self._state.order = self._state.order.model_copy(update={"updated_at": order.updated_at})

    def _with_operator_fixes(self, order: Order) -> Order:
        """The channel's version with a person's corrections kept where the channel still has
        what they corrected (it never heard of the fix); a real change by the channel wins."""
        changes_: dict[str, object] = {}
        if (
            self._address_fixed_from is not None
            and order.shipping_address == self._address_fixed_from
        ):
            changes_["shipping_address"] = self._state.order.shipping_address
        if self._sku_fixes:
            changes_["lines"] = tuple(
                line.model_copy(update={"sku": self._sku_fixes[line.line_id][1]})
                if self._sku_fixes.get(line.line_id, ("", ""))[0] == line.sku
                else line
                for line in order.lines
            )
        return order.model_copy(update=changes_) if changes_ else order

    def _apply_change(self, outcome: Outcome, what: str, new: Order) -> None:
        if outcome is Outcome.STOP:
            if self._cancel is None:
                self._cancel = CancelRequest(reason=what, requested_by=new.marketplace)
        elif outcome is Outcome.APPLY_PAYMENT:
            self._state.payment = new.payment_status
            self._state.order = self._state.order.model_copy(
                update={"payment_status": new.payment_status}
            )
            self._clear_hold(HoldCode.UNPAID)
        elif outcome is Outcome.TAKE_IN:
            self._state.order = new.model_copy(
                update={"payment_status": self._state.order.payment_status}
            )
            self._validated = False
            self._address_version += 1
            self._clear_hold()  # nothing is reserved yet: the whole order is checked again
        elif outcome is Outcome.APPLY_ADDRESS:
            self._state.order = self._state.order.model_copy(
                update={"shipping_address": new.shipping_address}
            )
            self._address_version += 1
            problems = address_problems(new.shipping_address)
            if problems:
                self._raise(
                    HoldReason(
                        code=HoldCode.INVALID_ADDRESS,
                        message="the channel's new shipping address: " + "; ".join(problems),
                    )
                )
            if self._state.hold is None:  # a held order keeps naming what resolves it
                self._details(f"{what}: re-quoting")
        elif outcome is Outcome.HOLD_ADDRESS:
            self._pending_address = new.shipping_address
            self._raise(HoldReason(code=HoldCode.ADDRESS_CHANGED, message=what))
        elif outcome is Outcome.HOLD_LINES:
            lines = line_signature(new)
            if lines != self._refused_lines:
                self._new_lines = lines
                self._raise(HoldReason(code=HoldCode.ORDER_CHANGED, message=what))
        else:
            self._after_sales("channel_update", what)

    def _raise(self, reason: HoldReason) -> None:
        # One of each: a second address change replaces the pending address, not the question.
        if all(r.code is not reason.code for r in self._raised):
            self._raised.append(reason)

    # ----------------------------------------------------------------- main line

    @workflow.run
    async def run(self, input: OrderInput) -> OrderState:
        # OrderStage=received and Marketplace are set by the starter: no upsert event needed here.
        self._published = {
            STAGE.name: OrderStage.RECEIVED.value,
            MARKETPLACE.name: input.order.marketplace,
        }
        while not self._state.stage.is_terminal:
            try:
                await self._step()
            except (OrderCancelledError, RestartStepError):
                continue  # the next step sees the cancel or the new state
            except Exception as err:
                await self._hold_for_bug(err)
        if self._background:
            await asyncio.gather(*self._background)
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _step(self) -> None:
        if self._cancel is not None:
            await self._apply_cancel()
            return
        if not self._validated:
            await self._validate()
        if self._state.order.release_at is not None and not self._state.reservation_keys:
            await self._await_release()
        if not self._state.reservation_keys:
            await self._reserve()
        for index, shipment in enumerate(self._state.shipments):
            if shipment.status in NOT_SHIPPED:
                await self._fulfil(index)
        while self._raised:  # a change that came during the last call: ask or record it now
            await self._raised_hold()
        if await self._track():
            await self._complete()

    async def _complete(self) -> None:
        if self._state.stage is not OrderStage.DELIVERED:
            self._enter(OrderStage.DELIVERED, "delivered")
        self._enter(OrderStage.COMPLETED, "delivered; order complete")
        if self._policy.review_invitation:
            await self._notify(NoticeKind.REVIEW_INVITATION, {})

    # ----------------------------------------------------------------- validation and stock

    async def _validate(self) -> None:
        while True:
            self._enter(OrderStage.VALIDATING, "checking address, SKUs and payment")
            result = await self._call(
                Activity.VALIDATE,
                lambda: ValidateInput(
                    order=self._state.order,
                    warehouse=self._policy.warehouse,
                    hold_payment_statuses=self._policy.hold_payment_statuses,
                ),
                ValidationResult,
                hold_code=HoldCode.WAREHOUSE_REJECTED,
            )
            if not result.holds:
                self._validated = True
                return
            await self._hold(result.holds[0])

    async def _await_release(self) -> None:
        """Presale: wait (a durable timer) for the release date; a new date re-arms it."""
        while True:
            release = self._state.order.release_at
            if release is None or workflow.now() >= release:
                return
            self._enter(OrderStage.AWAITING_RELEASE, f"presale: ships from {release.isoformat()}")
            day = release.date().isoformat()
            if self._last_ship_date != day:
                # Numbered: a date moved away and back is announced again.
                told = sum(f":{NoticeKind.SHIP_DATE.value}:" in k for k in self._state.notices_sent)
                await self._notify(
                    NoticeKind.SHIP_DATE, {"ship_date": day}, suffix=f"{told + 1}-{day}"
                )
                self._last_ship_date = day
            self._publish()
            try:
                await workflow.wait_condition(
                    lambda release=release: (  # type: ignore[misc]
                        self._state.order.release_at != release
                        or self._cancel is not None
                        or not self._validated
                    ),
                    timeout=release - workflow.now(),
                    timeout_summary="presale release date",
                )
            except TimeoutError:
                return
            self._check_interrupts()
            if not self._validated:
                raise RestartStepError

    async def _reserve(self) -> None:
        reservation = await self._reserve_lines(self._reservation_key, None)
        self._state.reservation_keys.append(self._reservation_key)
        for allocation in reservation.allocations:
            self._add_shipment(allocation.warehouse, allocation.ship_from, allocation.lines, None)

    async def _reserve_lines(self, key: str, lines: Order | None) -> Reservation:
        """Reserve `lines` (an order holding only the lines to reserve), or the whole order."""
        while True:
            self._enter(OrderStage.RESERVING, "reserving stock")
            reservation = await self._call(
                Activity.RESERVE,
                lambda: ReserveInput(
                    order=lines or self._state.order,
                    warehouse=self._policy.warehouse,
                    reservation_key=key,
                ),
                Reservation,
                hold_code=HoldCode.WAREHOUSE_REJECTED,
            )
            if reservation.complete:
                self._rechecks.pop(HoldCode.OUT_OF_STOCK, None)
                return reservation
            short = ", ".join(
                f"{s.sku} needs {s.requested}, {s.available} available"
                for s in reservation.shortages
            )
            await self._hold(
                HoldReason(code=HoldCode.OUT_OF_STOCK, message=f"not enough stock: {short}"),
                recheck=True,
            )
            if not self._validated:
                raise RestartStepError  # the channel sent a new version meanwhile

    def _add_shipment(
        self,
        warehouse: str,
        ship_from: Address,
        lines: tuple[ShipmentLine, ...],
        replaces: str | None,
    ) -> None:
        number = len(self._state.shipments) + 1
        self._state.shipments.append(
            Shipment(
                shipment_id=f"{self._state.order.external_id}-{number}",
                warehouse=warehouse,
                ship_from=ship_from,
                lines=lines,
                replaces=replaces,
                reservation_key=self._state.reservation_keys[-1],
            )
        )

    # ----------------------------------------------------------------- one shipment

    async def _fulfil(self, index: int) -> None:
        """Pick, pack, label and confirm one shipment, from wherever it got to."""
        if self._status(index) in {_F.ALLOCATED, _F.PICKING}:
            await self._pick(index)
        if self._status(index) is _F.PICKED:
            await self._pack(index)
        if self._status(index) is _F.PACKED:
            await self._label(index)
        if self._status(index) is _F.LABELLED:
            await self._confirm(index)

    async def _pick(self, index: int) -> None:
        shipment = self._state.shipments[index]
        sid = shipment.shipment_id
        self._enter(OrderStage.PICKING, f"picking shipment {sid}")
        if shipment.status is _F.ALLOCATED:
            self._set_shipment(index, status=_F.PICKING)
        while True:
            attempt = self._pick_attempts.get(sid, 1)
            pick = await self._call(
                Activity.PICK,
                lambda attempt=attempt: self._shipment_input(index, attempt),  # type: ignore[misc]
                PickOutcome,
                hold_code=HoldCode.WAREHOUSE_REJECTED,
            )
            if not pick.short_skus:
                break
            # Never pack a short shipment: wait for stock (re-checked on a timer), a person's
            # decision to ship what is there, or a cancel.
            self._pick_attempts[sid] = attempt + 1
            missing = pick.short_lines or tuple(
                line for line in shipment.lines if line.sku in pick.short_skus
            )
            self._short = (shipment.lines, missing)
            await self._hold(
                HoldReason(
                    code=HoldCode.SHORT_PICK,
                    message=f"short pick in {shipment.warehouse}: "
                    + ", ".join(f"{line.sku} x{line.quantity}" for line in missing),
                ),
                recheck=True,
            )
            self._short = None
            if self._ship_available:
                self._ship_available = False
                await self._ship_without(index, missing, attempt)
                break
            self._enter(OrderStage.PICKING, f"re-checking the pick of {sid}")
        self._rechecks.pop(HoldCode.SHORT_PICK, None)
        self._set_shipment(index, status=_F.PICKED, pick_list_id=pick.pick_list_id)

    async def _ship_without(
        self, index: int, missing: tuple[ShipmentLine, ...], attempt: int
    ) -> None:
        """The operator ships what was picked: release the missing units, shrink the lines."""
        shipment = self._state.shipments[index]
        await self._call(
            Activity.RELEASE,
            lambda: ReleaseInput(
                warehouse=self._policy.warehouse,
                reservation_key=self._key_of(shipment),
                lines=missing,
                release_id=f"short:{shipment.shipment_id}:{attempt}",
            ),
            ReleaseOutcome,
            hold_code=HoldCode.WAREHOUSE_REJECTED,
        )
        self._set_shipment(index, lines=_without(shipment.lines, missing))
        self._state.short_shipped.extend(missing)
        self._details(
            f"{shipment.shipment_id} ships without "
            + ", ".join(f"{line.sku} x{line.quantity}" for line in missing)
        )

    async def _pack(self, index: int) -> None:
        self._enter(
            OrderStage.PACKING, f"packing shipment {self._state.shipments[index].shipment_id}"
        )
        packaging = await self._call(
            Activity.PACK,
            lambda: self._shipment_input(index),
            PackagingChoice,
            hold_code=HoldCode.WAREHOUSE_REJECTED,
        )
        self._set_shipment(index, status=_F.PACKED, packaging=packaging)

    async def _label(self, index: int) -> None:
        sid = self._state.shipments[index].shipment_id
        self._enter(OrderStage.LABELLING, f"choosing a carrier for {sid}")
        while True:
            version = self._address_version
            choice = await self._call(
                Activity.CHOOSE_CARRIER,
                lambda: self._shipment_input(index),
                CarrierChoice,
                hold_code=HoldCode.NO_CARRIER,
            )
            if version == self._address_version:
                break  # else the address changed while quoting: quote again
        self._set_shipment(index, carrier=choice)
        self._mark(CARRIER, choice.carrier)
        self._details(f"buying a {choice.carrier} label for {sid}: {choice.reason}")
        self._buying.add(sid)
        try:
            label = await self._call(
                Activity.BUY_LABEL,
                lambda: LabelInput(
                    order=self._state.order,
                    shipment=self._state.shipments[index],
                    idempotency_key=self._label_key(sid),
                    warehouse=self._policy.warehouse,
                ),
                Label,
                hold_code=HoldCode.LABEL_REFUSED,
                local=False,
            )
        except OrderCancelledError as cancelled:
            if isinstance(cancelled.late_result, Label):
                self._set_shipment(index, status=_F.LABELLED, label=cancelled.late_result)
            raise
        finally:
            self._buying.discard(sid)
        self._set_shipment(index, status=_F.LABELLED, label=label)

    async def _confirm(self, index: int) -> None:
        shipment = self._state.shipments[index]
        label, choice = shipment.label, shipment.carrier
        assert label is not None and choice is not None
        self._enter(
            OrderStage.CONFIRMING, f"sending tracking {label.tracking_number} to the channel"
        )
        await self._call(
            Activity.CONFIRM_SHIPMENT,
            lambda: ConfirmInput(order=self._state.order, shipment=self._state.shipments[index]),
            None,
            hold_code=HoldCode.MARKETPLACE_REJECTED,
            done_by_hand=lambda: self._confirmed_by_hand,
        )
        if self._confirmed_by_hand:
            self._confirmed_by_hand = False
            self._after_sales(
                "confirmed_by_hand", f"{shipment.shipment_id} told to the channel by hand"
            )
        self._set_shipment(index, status=_F.SHIPPED)
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

    # ----------------------------------------------------------------- tracking

    async def _track(self) -> bool:
        """Follow every parcel that left; True once every shipment is delivered (or was
        replaced by one that is). A parcel that does not arrive holds for a person at once."""
        shipped = [s for s in self._state.shipments if s.status is _F.SHIPPED]
        if shipped:
            if self._state.stage is not OrderStage.IN_TRANSIT:
                self._enter(OrderStage.IN_TRANSIT, "in transit; waiting for the carrier to deliver")
            self._publish()
            # Orders started before this patch tracked each shipment by its first parcel only.
            every_parcel = workflow.patched(PATCH_TRACK_EVERY_PARCEL)
            for shipment in shipped:
                await self._start_tracking(shipment, every_parcel)
        while True:
            for index, shipment in enumerate(self._state.shipments):
                if shipment.status is _F.SHIPPED and self._parcels_done(shipment):
                    self._settle(index)
            unresolved = self._unresolved_failures()
            if unresolved:
                await self._undelivered(unresolved)
                return False
            outstanding = [s for s in self._state.shipments if s.status is _F.SHIPPED]
            if not outstanding:
                return True
            await workflow.wait_condition(
                lambda shipped=outstanding: any(self._parcels_done(s) for s in shipped)  # type: ignore[misc]
            )

    async def _start_tracking(self, shipment: Shipment, every_parcel: bool) -> None:
        assert shipment.label is not None
        label = shipment.label
        numbers = label.tracking_numbers if every_parcel else (label.tracking_number,)
        for position, number in enumerate(numbers, start=1):
            tracking = self._tracking_input(shipment, number, position, len(numbers))
            workflow_id = tracking_workflow_id(tracking.carrier, number)
            if workflow_id in self._children:
                continue
            handle = await workflow.start_child_workflow(
                ShipmentTrackingWorkflow.run,
                tracking,
                id=workflow_id,
                static_summary=f"tracking {shipment.shipment_id} parcel {position}",
            )
            self._children[workflow_id] = asyncio.ensure_future(_outcome_of(handle))

    def _parcel_tasks(self, shipment: Shipment) -> list[asyncio.Task[TrackingResult | None]]:
        assert shipment.label is not None
        ids = [
            tracking_workflow_id(shipment.label.carrier, n) for n in shipment.label.tracking_numbers
        ]
        return [self._children[i] for i in ids if i in self._children]

    def _parcels_done(self, shipment: Shipment) -> bool:
        tasks = self._parcel_tasks(shipment)
        return bool(tasks) and all(task.done() for task in tasks)

    def _settle(self, index: int) -> None:
        """Record a shipment whose parcels all ended: delivered, returned or failed."""
        shipment = self._state.shipments[index]
        results = [t.result() for t in self._parcel_tasks(shipment)]
        known = [r for r in results if r is not None]
        if len(known) < len(results):
            # A tracking child failed or was stopped: nobody knows where that parcel is.
            self._set_shipment(index, status=_F.FAILED, tracking_status=TrackingStatus.UNKNOWN)
            return
        outcome = _shipment_outcome(known)
        delivered = outcome.status is TrackingStatus.DELIVERED
        returned = outcome.status is TrackingStatus.RETURN_TO_SENDER
        self._set_shipment(
            index,
            status=_F.DELIVERED if delivered else _F.RETURNED if returned else _F.FAILED,
            tracking_status=outcome.status,
            last_tracking_event=outcome.last_event,
            delivered_at=outcome.delivered_at,
        )

    def _unresolved_failures(self) -> list[Shipment]:
        replaced = {
            s.replaces for s in self._state.shipments if s.replaces and s.status is not _F.CANCELLED
        }
        return [
            s
            for s in self._state.shipments
            if s.status in {_F.FAILED, _F.RETURNED} and s.shipment_id not in replaced
        ]

    async def _undelivered(self, shipments: list[Shipment]) -> None:
        """A person decides: reship the lines, or close the order."""
        parcels = [
            f"{shipment.shipment_id} ({result.tracking_number or '?'}) {result.status.value}"
            if result is not None
            else f"{shipment.shipment_id} (tracking stopped)"
            for shipment in shipments
            for result in (t.result() for t in self._parcel_tasks(shipment))
            if result is None or result.status is not TrackingStatus.DELIVERED
        ]
        await self._hold(
            HoldReason(
                code=HoldCode.TRACKING_EXCEPTION,
                message="a parcel was not delivered: " + ", ".join(parcels),
            ),
            cancellable=False,
        )
        decision, self._resolution = self._resolution, None
        assert decision is not None
        if decision.resolution is Resolution.RESHIP:
            for shipment in self._unresolved_failures():
                await self._reship(shipment)
            return
        self._state.resolution_note = decision.note or "closed by an operator"
        await self._stop_unshipped(kept=self._handed_over_ids())
        self._enter(OrderStage.CLOSED, f"closed after a parcel was not delivered: {decision.note}")

    async def _reship(self, lost: Shipment) -> None:
        key = f"{self._reservation_key}:reship-{len(self._state.reservation_keys)}"
        quantities = {line.line_id: line.quantity for line in lost.lines}
        lines = tuple(
            line.model_copy(update={"quantity": quantities[line.line_id]})
            for line in self._state.order.lines
            if line.line_id in quantities
        )
        order = self._state.order.model_copy(update={"lines": lines})
        self._reshipping = True
        try:
            reservation = await self._reserve_lines(key, order)
        finally:
            self._reshipping = False
        self._state.reservation_keys.append(key)
        for allocation in reservation.allocations:
            self._add_shipment(
                allocation.warehouse, allocation.ship_from, allocation.lines, lost.shipment_id
            )
        self._details(f"reshipping {lost.shipment_id}")

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

    # ----------------------------------------------------------------- cancellation

    async def _apply_cancel(self) -> None:
        """Stop what has not left: void its labels, release (and put back) its stock. If
        nothing left, the order is cancelled; else the cancel is a return request."""
        request = self._cancel
        assert request is not None
        kept = self._handed_over_ids()
        self._state.hold = None
        note = await self._stop_unshipped(kept=kept)
        self._cancel = None
        self._mark(ATTENTION, None)
        if kept:
            self._after_sales(
                "cancel_after_shipping", f"{request.reason} ({request.requested_by}){note}"
            )
            self._details(f"cancel after shipping recorded as a return request{note}")
            return
        self._state.cancel_reason = request.reason
        await self._notify(NoticeKind.CANCELLED, {"reason": request.reason})
        self._enter(OrderStage.CANCELLED, f"cancelled: {request.reason}{note}")
        self._publish()

    async def _stop_unshipped(self, *, kept: tuple[str, ...]) -> str:
        """Void unshipped labels and release every reservation except what left; returns a
        note naming labels the carrier would not void (a person claims those back)."""
        for index, shipment in enumerate(self._state.shipments):
            if shipment.status not in NOT_SHIPPED:
                continue
            if shipment.label is not None:
                problem = await self._void(shipment.label)
                if problem:
                    # Recorded at once: a hold later in this step must not lose it.
                    refusal = f"{shipment.shipment_id}: {problem}"
                    self._unvoided.append(refusal)
                    self._after_sales("label_not_voided", f"{refusal}; claim a refund")
            self._set_shipment(index, status=_F.CANCELLED)
        unvoided = self._unvoided
        keys = self._state.reservation_keys or [self._reservation_key]
        for key in [k for k in keys if k not in self._released]:
            await self._call(
                Activity.RELEASE,
                lambda key=key: ReleaseInput(  # type: ignore[misc]
                    warehouse=self._policy.warehouse, reservation_key=key, kept_shipments=kept
                ),
                None,
                hold_code=HoldCode.WAREHOUSE_REJECTED,
                cancellable=False,
            )
            self._released.add(key)
        return f"; label not voided, claim a refund: {'; '.join(unvoided)}" if unvoided else ""

    async def _void(self, label: Label) -> str | None:
        """Void a label; the reason it was not voided (already scanned...), or None."""
        try:
            result = await self._call(
                Activity.VOID_LABEL,
                lambda: VoidInput(label=label),
                VoidResult,
                hold_code=None,
                local=False,  # it heartbeats while the carrier answers
                cancellable=False,
            )
        except ACTIVITY_FAILURES as err:
            return describe(err)
        return None if result.voided else result.message or "refused by the carrier"

    # ----------------------------------------------------------------- holds

    async def _hold(
        self, reason: HoldReason, *, cancellable: bool = True, recheck: bool = False
    ) -> None:
        """Wait for a person (or the channel, or a stock re-check) to clear the hold; raise
        OrderCancelledError if cancelled meanwhile."""
        self._state.hold = reason
        self._enter(OrderStage.ON_HOLD, f"on hold: {reason.describe()}")
        self._mark(ATTENTION, reason.code.value)
        tell = reason.code in CUSTOMER_NOTICE_HOLDS and self._policy.notify_customer_of_holds
        if tell:
            await self._notify(
                NoticeKind.ORDER_ON_HOLD,
                {"reason": CUSTOMER_HOLD_REASONS[reason.code]},
                suffix=reason.code.value,
            )
        self._publish()
        timeout = self._recheck_after(reason.code) if recheck else None
        try:
            await workflow.wait_condition(
                lambda: self._state.hold is None or (cancellable and self._cancel is not None),
                timeout=timeout,
                timeout_summary=f"re-check {reason.code.value}" if timeout else None,
            )
        except TimeoutError:
            self._state.hold = None  # time to look again: the step re-asks the warehouse
        if cancellable and self._cancel is not None:
            raise OrderCancelledError
        self._mark(ATTENTION, None)

    def _recheck_after(self, code: HoldCode) -> timedelta:
        count = self._rechecks.get(code, 0)
        self._rechecks[code] = count + 1
        seconds = min(
            self._policy.stock_recheck_seconds * 2**count, self._policy.stock_recheck_max_seconds
        )
        return timedelta(seconds=seconds)

    async def _hold_for_bug(self, err: Exception) -> None:
        stage = self._state.stage
        message = f"{type(err).__name__} at {stage.value}: {err}"
        workflow.logger.error("order %s: %s", self._state.order.key, message)
        with contextlib.suppress(OrderCancelledError):  # the loop applies the cancel next
            await self._hold(
                HoldReason(code=HoldCode.HUB_ERROR, message=message),
                cancellable=self._cancel is None,
            )

    async def _raised_hold(self) -> None:
        """A hold a signal asked for (late address or line change), at a step boundary."""
        reason = self._raised.pop(0)
        shipments = self._state.shipments
        if shipments and not any(s.status in NOT_SHIPPED for s in shipments):
            # Everything left while the change waited: an after-sales matter now.
            self._pending_address = None
            self._after_sales(f"{reason.code.value}_after_shipping", reason.message)
            return
        if reason.code is HoldCode.ADDRESS_CHANGED and not self._labelled_unshipped():
            # No label to the old address is waiting to ship: if something is still to be
            # labelled, take the address and quote again (a step restart re-quotes a packed
            # shipment); if everything left meanwhile, it is an after-sales matter.
            address, self._pending_address = self._pending_address, None
            if address is not None and any(s.status in NOT_SHIPPED for s in self._state.shipments):
                self._apply_address(address)
                raise RestartStepError
            self._after_sales("address_changed_after_shipping", "address changed after shipping")
            return
        await self._hold(reason)
        if reason.code is HoldCode.ADDRESS_CHANGED:
            await self._after_address_decision()
        elif reason.code is HoldCode.ORDER_CHANGED:
            self._refused_lines, self._new_lines = self._new_lines, None
            self._after_sales(
                "lines_kept", "the channel's new lines were refused; shipped as reserved"
            )
        raise RestartStepError

    async def _after_address_decision(self) -> None:
        relabel, self._relabel = self._relabel, None
        address, self._pending_address = self._pending_address, None
        if not relabel or address is None:
            self._after_sales(
                "address_kept", "the channel's new address was refused by an operator"
            )
            return
        for index in self._labelled_unshipped():
            shipment = self._state.shipments[index]
            assert shipment.label is not None
            problem = await self._void(shipment.label)
            if problem:
                self._after_sales(
                    "label_not_voided", f"{shipment.shipment_id}: {problem}; claim a refund"
                )
            sid = shipment.shipment_id
            self._label_rounds[sid] = self._label_rounds.get(sid, 1) + 1
            self._set_shipment(index, status=_F.PACKED, carrier=None, label=None)
        self._apply_address(address)

    def _apply_address(self, address: Address) -> None:
        self._state.order = self._state.order.model_copy(update={"shipping_address": address})
        self._address_version += 1

    def _clear_hold(self, code: HoldCode | None = None) -> None:
        if self._state.hold is not None and (code is None or self._state.hold.code is code):
            self._state.hold = None

    def _require_hold(self, *codes: HoldCode) -> None:
        hold = self._state.hold
        if hold is None or hold.code not in codes:
            wanted = " or ".join(c.value for c in codes)
            now = f"on hold for {hold.code.value}" if hold else "not on hold"
            raise ValueError(f"order is {now}, not {wanted}")

    # ----------------------------------------------------------------- activity calls

    async def _call(
        self,
        name: Activity,
        arg: Callable[[], object],
        result_type: type[T] | None,
        *,
        hold_code: HoldCode | None,
        local: bool = True,
        cancellable: bool = True,
        done_by_hand: Callable[[], bool] | None = None,
    ) -> T:
        """Run an activity until it succeeds. A permanent failure holds the order (and the
        call runs again once the hold clears, unless `done_by_hand` says a person did it); a
        cancel preempts waiting and retrying."""
        while True:
            if done_by_hand is not None and done_by_hand():
                return None  # type: ignore[return-value]
            if cancellable:
                self._check_interrupts()
                if self._raised:
                    await self._raised_hold()
            try:
                return await self._attempt(name, arg(), result_type, local, cancellable)
            except ACTIVITY_FAILURES as err:
                cause = application_cause(err)
                if hold_code is None or cause is None:
                    raise
                code = HOLD_FOR_ERROR_TYPE.get(cause.type or "", hold_code)
                stage, version = self._state.stage, self._address_version
                await self._hold(
                    HoldReason(code=code, message=cause.message), cancellable=cancellable
                )
                if name is Activity.BUY_LABEL and version != self._address_version:
                    raise RestartStepError from None  # a fixed address is quoted again first
                self._enter(stage, f"retrying {stage.value}")

    async def _attempt(
        self,
        name: Activity,
        arg: object,
        result_type: type[T] | None,
        local: bool,
        cancellable: bool,
    ) -> T:
        error = "no answer yet"
        if local:
            try:
                result: T = await workflow.execute_local_activity(
                    name.value, arg, result_type=result_type, **QUICK
                )
                return result
            except ACTIVITY_FAILURES as err:
                if is_permanent(err):
                    raise
                error = describe(err)
        if name is Activity.BUY_LABEL:
            assert isinstance(arg, LabelInput)
            return await self._buy(arg, result_type, cancellable)
        self._publish()
        handle = workflow.start_activity(
            name.value,
            arg,
            result_type=result_type,
            **persistent(self._policy.outage_retry_max_seconds),
        )
        flagged = False
        try:
            try:
                await workflow.wait_condition(
                    lambda: self._settled(handle, cancellable),
                    timeout=self._policy.attention_after(self._state.stage.value),
                    timeout_summary=f"attention if {name.value} keeps failing",
                )
            except TimeoutError:
                self._flag_outage(name, error)
                flagged = True
            return await self._outcome(handle, cancellable)
        finally:
            if flagged:
                self._clear_outage()

    async def _buy(self, arg: LabelInput, result_type: type[T] | None, cancellable: bool) -> T:
        """The label purchase: a regular activity that gives up after the stage's attention
        time (no timer beside it: the happy path's history stays as it was). The order then
        shows the outage and a second activity carries on, told it resumes, so a carrier that
        can neither dedupe nor look labels up holds `label_uncertain` instead of buying twice."""
        self._publish()
        first = workflow.start_activity(
            Activity.BUY_LABEL.value,
            arg,
            result_type=result_type,
            schedule_to_close_timeout=timedelta(
                seconds=self._policy.attention_after(self._state.stage.value)
            ),
            **EXTERNAL,
        )
        try:
            return await self._outcome(first, cancellable)
        except ActivityError as err:
            if err.retry_state is not RetryState.TIMEOUT:
                raise
            # The timeout's cause is the last attempt's failure, if there was one.
            last = err.cause.__cause__ if err.cause is not None else None
            self._flag_outage(Activity.BUY_LABEL, describe(last) if last else "no answer")
        try:
            second = workflow.start_activity(
                Activity.BUY_LABEL.value,
                arg.model_copy(update={"resumed": True}),
                result_type=result_type,
                **EXTERNAL,
            )
            return await self._outcome(second, cancellable)
        finally:
            self._clear_outage()

    def _settled(self, handle: asyncio.Task[Any], cancellable: bool) -> bool:
        return handle.done() or (cancellable and self._cancel is not None)

    async def _outcome(self, handle: asyncio.Task[Any], cancellable: bool) -> T:
        """The activity's result, or OrderCancelledError if a cancel came first (with what an
        activity that finished anyway returned, e.g. a label bought as the cancel came)."""
        await workflow.wait_condition(lambda: self._settled(handle, cancellable))
        if not handle.done():
            handle.cancel()
            try:
                late: Any = await handle
            except (asyncio.CancelledError, *ACTIVITY_FAILURES):
                late = None  # cancelled before anything came of it
            raise OrderCancelledError(late_result=late)
        answer: T = await handle
        return answer

    def _flag_outage(self, name: Activity, error: str) -> None:
        code = OUTAGE_FOR[name]
        since = workflow.now().isoformat(timespec="seconds")
        self._state.outage = f"{code.value} since {since}: {name.value} failing ({error}); retrying"
        if self._state.hold is None:
            self._mark(ATTENTION, code.value)
        self._details(self._state.outage)
        self._publish()

    def _clear_outage(self) -> None:
        self._state.outage = None
        if self._state.hold is None:
            self._mark(ATTENTION, None)

    def _check_interrupts(self) -> None:
        if self._cancel is not None:
            raise OrderCancelledError

    async def _notify(self, kind: NoticeKind, facts: dict[str, str], suffix: str = "") -> None:
        order = self._state.order
        key = f"{order.key}:{kind.value}" + (f":{suffix}" if suffix else "")
        if key in self._state.notices_sent or key in self._notices_pending:
            return
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
            if is_permanent(err):
                self._notice_failed(key, err)
                return
            # The notifier is down: keep trying in the background; the parcel does not wait.
            self._notices_pending.add(key)
            self._background.append(asyncio.ensure_future(self._notify_later(key, notice)))
            return
        self._state.notices_sent.append(key)

    async def _notify_later(self, key: str, notice: CustomerNotice) -> None:
        try:
            await workflow.execute_activity(
                Activity.NOTIFY.value,
                NoticeInput(notice=notice),
                schedule_to_close_timeout=timedelta(days=NOTICE_DAYS),
                **persistent(self._policy.outage_retry_max_seconds),
            )
        except ACTIVITY_FAILURES as err:
            self._notice_failed(key, err)
            return
        finally:
            self._notices_pending.discard(key)
        self._state.notices_sent.append(key)

    def _notice_failed(self, key: str, err: BaseException) -> None:
        # A customer we cannot reach (no email, refused template) must not stop the parcel.
        self._state.notices_failed.append(f"{key}: {describe(err)}")
        workflow.logger.warning("notice %s not sent: %s", key, describe(err))

    # ----------------------------------------------------------------- state helpers

    @property
    def _reservation_key(self) -> str:
        return f"order:{self._state.order.key}"

    def _key_of(self, shipment: Shipment) -> str:
        return shipment.reservation_key or self._reservation_key

    def _label_key(self, shipment_id: str) -> str:
        base = f"label:{workflow.info().workflow_id}:{shipment_id}"
        rounds = self._label_rounds.get(shipment_id, 1)
        return base if rounds == 1 else f"{base}:{rounds}"

    def _phase(self) -> Phase:
        shipments = self._state.shipments
        if not self._state.reservation_keys:
            return Phase.BEFORE_RESERVATION
        if self._labelled_unshipped() or self._buying:
            return Phase.LABELLED
        if any(s.status in NOT_SHIPPED for s in shipments):
            return Phase.BEFORE_LABEL
        return Phase.SHIPPED

    def _labelled_unshipped(self) -> list[int]:
        return [i for i, s in enumerate(self._state.shipments) if s.status is _F.LABELLED]

    def _handed_over_ids(self) -> tuple[str, ...]:
        return tuple(s.shipment_id for s in self._state.shipments if s.status in HANDED_OVER)

    def _after_sales(self, kind: str, detail: str) -> None:
        self._state.after_sales.append(AfterSalesNote(kind=kind, detail=detail, at=workflow.now()))

    def _shipment_input(self, index: int, pick_attempt: int = 1) -> ShipmentInput:
        shipment = self._state.shipments[index]
        return ShipmentInput(
            order=self._state.order,
            warehouse=self._policy.warehouse,
            reservation_key=self._key_of(shipment),
            shipment=shipment,
            pick_attempt=pick_attempt,
        )

    def _status(self, index: int) -> FulfilmentStatus:
        return self._state.shipments[index].status

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


async def _outcome_of(handle: Any) -> TrackingResult | None:
    """A tracking child's result; None if it failed or was stopped (the parcel is unknown)."""
    try:
        result: TrackingResult = await handle
    except Exception:
        return None
    return result


def _patched(order: Order, fix: FixAddress) -> Address:
    changes = {k: v for k, v in fix.model_dump().items() if v is not None}
    return Address.model_validate({**order.shipping_address.model_dump(), **changes})


def _without(
    lines: tuple[ShipmentLine, ...], missing: tuple[ShipmentLine, ...]
) -> tuple[ShipmentLine, ...]:
    short: dict[str, int] = {}
    for line in missing:
        short[line.line_id] = short.get(line.line_id, 0) + line.quantity
    kept = []
    for line in lines:
        left = line.quantity - short.get(line.line_id, 0)
        if left > 0:
            kept.append(line.model_copy(update={"quantity": left}))
    return tuple(kept)


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

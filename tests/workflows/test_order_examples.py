"""The order workflow, one story per test, on the time-skipping server with faked activities.

Each test drives an order into a situation (a hold, a cancel, a late channel version, an
outage) through the fake world and the workflow's own Updates and signals, then checks the
outcome and the invariants of `tests/workflows/invariants.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from temporalio.client import WorkflowUpdateFailedError

from hub.domain.address import Address
from hub.domain.holds import HoldCode
from hub.domain.status import FulfilmentStatus, OrderStage, PaymentStatus
from hub.workflows.contracts import (
    Activity,
    AddressDecision,
    CancelRequest,
    ErrorType,
    FixAddress,
    FixSku,
    OrderState,
    Resolution,
    ResolveUndelivered,
)
from hub.workflows.order import OrderWorkflow
from hub.workflows.policy import OrderPolicy
from tests.workflows.fakes import (
    BAD_ADDRESS,
    OTHER_ADDRESS,
    WAREHOUSE,
    Fault,
    Track,
    make_order,
    next_version,
)
from tests.workflows.harness import POLICY, REAL_TIMEOUT, Hub, OrderRun, open_hub
from tests.workflows.invariants import always, at_end

_F = FulfilmentStatus
_S = OrderStage
RECHECK = POLICY.stock_recheck_seconds
HAPPY_PATH_EVENT_BUDGET = 40
OUTAGE_EVENT_BUDGET = 10


def fix(address: Address) -> FixAddress:
    return FixAddress(**address.model_dump(include=set(FixAddress.model_fields)))


async def completed(run: OrderRun) -> OrderState:
    state = await run.finish()
    assert state.stage is _S.COMPLETED, state.details
    assert at_end(state, run.world) == []
    return state


async def refused(call: Awaitable[object], reason: str) -> None:
    """The Update was rejected by its validator, for `reason`."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call
    assert reason in str(failed.value.cause)


def kinds(run: OrderRun) -> list[str]:
    return [kind for _, kind, _ in run.world.notice_kinds]


async def attention(run: OrderRun) -> str | None:
    description = await run.handle.describe()
    for key, value in description.typed_search_attributes:
        if key.name == "Attention":
            return str(value)
    return None


# ----------------------------------------------------------------- happy path


async def test_happy_path_ships_once_and_completes_within_the_history_budget(hub: Hub) -> None:
    run = await hub.start()
    state = await completed(run)

    assert [t.stage for t in state.stage_log] == [
        _S.VALIDATING,
        _S.RESERVING,
        _S.PICKING,
        _S.PACKING,
        _S.LABELLING,
        _S.CONFIRMING,
        _S.IN_TRANSIT,
        _S.DELIVERED,
        _S.COMPLETED,
    ]
    (shipment,) = state.shipments
    assert shipment.status is _F.DELIVERED and shipment.label is not None
    world = hub.world
    assert len(world.labels) == 1 and not world.voided
    assert dict(world.confirmed) == {shipment.shipment_id: 1}
    assert sorted(kinds(run)) == ["delivered", "review_invitation", "shipped"]
    assert not world.releases  # nothing to give back: every reserved unit left
    assert world.stock["SKU-A"] == 8
    assert await run.history_length() <= HAPPY_PATH_EVENT_BUDGET


async def test_split_order_ships_each_allocation(hub: Hub) -> None:
    hub.world.split = True
    run = await hub.start(lines=(("SKU-A", 1), ("SKU-B", 2)))
    state = await completed(run)
    assert [s.status for s in state.shipments] == [_F.DELIVERED, _F.DELIVERED]
    assert len(hub.world.labels) == 2 and sum(hub.world.confirmed.values()) == 2


# ----------------------------------------------------------------- validation holds


async def test_invalid_address_holds_and_fix_address_resumes(hub: Hub) -> None:
    run = await hub.start(address=BAD_ADDRESS)
    state = await run.held(HoldCode.INVALID_ADDRESS)
    assert "fix-address" in state.details and always(state, hub.world) == []
    assert await attention(run) == "invalid_address"
    assert kinds(run) == ["order_on_hold"]
    await refused(
        run.handle.execute_update(OrderWorkflow.fix_address, FixAddress(postal_code="9")),
        "address still invalid",
    )

    await run.handle.execute_update(OrderWorkflow.fix_address, FixAddress(postal_code="114 55"))
    state = await completed(run)
    assert state.order.shipping_address.postal_code == "114 55"
    assert await attention(run) is None


async def test_unknown_sku_holds_and_fix_sku_revalidates(hub: Hub) -> None:
    run = await hub.start(lines=(("SKU-NOPE", 1),))
    await run.held(HoldCode.UNKNOWN_SKU)
    await refused(
        run.handle.execute_update(OrderWorkflow.fix_sku, FixSku(line_id="L9", sku="SKU-A")),
        "no line L9",
    )
    await run.handle.execute_update(OrderWorkflow.fix_sku, FixSku(line_id="L1", sku="SKU-A"))
    state = await completed(run)
    assert [line.sku for line in state.order.lines] == ["SKU-A"]
    assert [o.lines[0].sku for o in hub.world.validated] == ["SKU-NOPE", "SKU-A"]


async def test_unpaid_holds_until_the_channel_says_paid(hub: Hub) -> None:
    order = make_order(payment=PaymentStatus.PENDING)
    run = await hub.start(order)
    await run.held(HoldCode.UNPAID)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.PAID)
    )
    state = await completed(run)
    assert state.payment is PaymentStatus.PAID
    assert kinds(run).count("order_on_hold") == 1


# ----------------------------------------------------------------- stock


async def test_out_of_stock_resolves_itself_after_a_restock_and_the_recheck_timer(
    hub: Hub,
) -> None:
    hub.world.stock["SKU-A"] = 1
    run = await hub.start()
    await run.held(HoldCode.OUT_OF_STOCK)
    # Not yet due: the re-check finds no stock and holds again (the customer is told once).
    await hub.skip(RECHECK + 1)
    state = await run.held(HoldCode.OUT_OF_STOCK)
    assert hub.world.attempts(Activity.RESERVE) == 2
    hub.world.restock("SKU-A", 5)
    await hub.skip(2 * RECHECK + 1)  # the second wait is twice as long
    state = await completed(run)
    assert kinds(run).count("order_on_hold") == 1
    assert hub.world.attempts(Activity.RESERVE) == 3
    assert state.reservation_keys == [f"order:{state.order.key}"]


async def test_out_of_stock_retry_after_a_restock(hub: Hub) -> None:
    hub.world.stock["SKU-A"] = 0
    run = await hub.start()
    await run.held(HoldCode.OUT_OF_STOCK)
    hub.world.restock("SKU-A", 2)
    await run.handle.execute_update(OrderWorkflow.retry)
    await completed(run)


async def test_short_pick_ship_available_releases_the_short_units_once(hub: Hub) -> None:
    hub.world.shrink("SKU-A", 9)  # one unit on the shelf; the warehouse thinks ten
    run = await hub.start(lines=(("SKU-A", 3),))
    state = await run.held(HoldCode.SHORT_PICK)
    assert always(state, hub.world) == []
    await run.handle.execute_update(OrderWorkflow.ship_available)
    state = await completed(run)

    (shipment,) = state.shipments
    assert [(line.line_id, line.quantity) for line in shipment.lines] == [("L1", 1)]
    assert [(line.line_id, line.quantity) for line in state.short_shipped] == [("L1", 2)]
    assert dict(hub.world.partial_releases) == {f"short:{shipment.shipment_id}:1": 1}
    assert hub.world.claimed(state.reservation_keys[0]) == 0


async def test_ship_available_is_refused_when_nothing_was_picked(hub: Hub) -> None:
    hub.world.shrink("SKU-A", 10)
    run = await hub.start()
    await run.held(HoldCode.SHORT_PICK)
    await refused(run.handle.execute_update(OrderWorkflow.ship_available), "nothing was picked")
    hub.world.restock("SKU-A", 2)
    await run.handle.execute_update(OrderWorkflow.retry)
    await completed(run)


async def test_short_pick_repicks_after_a_restock_on_the_recheck_timer(hub: Hub) -> None:
    hub.world.shrink("SKU-A", 9)
    run = await hub.start(lines=(("SKU-A", 3),))
    await run.held(HoldCode.SHORT_PICK)
    hub.world.restock("SKU-A", 4)
    await hub.skip(RECHECK + 1)
    state = await completed(run)
    (shipment,) = state.shipments
    assert shipment.lines[0].quantity == 3 and not state.short_shipped
    assert hub.world.picked[shipment.shipment_id]["L1"] == 3
    assert not hub.world.partial_releases


# ----------------------------------------------------------------- carrier and channel holds


async def test_no_carrier_holds_and_retry_requotes(hub: Hub) -> None:
    hub.world.fail(Activity.CHOOSE_CARRIER, Fault(ErrorType.PERMANENT, times=1))
    run = await hub.start()
    await run.held(HoldCode.NO_CARRIER)
    await run.handle.execute_update(OrderWorkflow.retry)
    await completed(run)
    assert hub.world.attempts(Activity.CHOOSE_CARRIER) == 2


async def test_label_refused_holds_and_fix_address_buys_one_to_the_fixed_address(
    hub: Hub,
) -> None:
    hub.world.fail(Activity.BUY_LABEL, Fault(ErrorType.PERMANENT, times=1))
    run = await hub.start()
    await run.held(HoldCode.LABEL_REFUSED)
    await run.handle.execute_update(OrderWorkflow.fix_address, fix(OTHER_ADDRESS))
    state = await completed(run)
    (record,) = hub.world.labels.values()
    assert record.address == OTHER_ADDRESS == state.order.shipping_address


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ErrorType.LABEL_UNCERTAIN, HoldCode.LABEL_UNCERTAIN),
        (ErrorType.CUSTOMS_DATA_MISSING, HoldCode.CUSTOMS_DATA_MISSING),
    ],
)
async def test_label_hold_and_retry(hub: Hub, error: ErrorType, code: HoldCode) -> None:
    hub.world.fail(Activity.BUY_LABEL, Fault(error, times=1))
    run = await hub.start()
    state = await run.held(code)
    assert always(state, hub.world) == []
    await run.handle.execute_update(OrderWorkflow.retry)
    await completed(run)
    assert len(hub.world.labels) == 1


async def test_marketplace_rejected_holds_and_retry_confirms(hub: Hub) -> None:
    hub.world.fail(Activity.CONFIRM_SHIPMENT, Fault(ErrorType.PERMANENT, times=1))
    run = await hub.start()
    await run.held(HoldCode.MARKETPLACE_REJECTED)
    await run.handle.execute_update(OrderWorkflow.retry)
    state = await completed(run)
    assert dict(hub.world.confirmed) == {state.shipments[0].shipment_id: 1}


async def test_warehouse_rejected_pack_holds_and_retry(hub: Hub) -> None:
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT, times=1))
    run = await hub.start()
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    await run.handle.execute_update(OrderWorkflow.retry)
    await completed(run)


async def test_retry_is_refused_for_holds_that_need_a_decision(hub: Hub) -> None:
    hub.world.default_track = Track.RETURNED
    run = await hub.start()
    await run.held(HoldCode.TRACKING_EXCEPTION)
    await refused(run.handle.execute_update(OrderWorkflow.retry), "needs a decision")


# ----------------------------------------------------------------- parcels that do not arrive


async def test_returned_parcel_reship_sends_a_new_shipment_and_completes(hub: Hub) -> None:
    hub.world.default_track = Track.RETURNED
    run = await hub.start()
    state = await run.held(HoldCode.TRACKING_EXCEPTION)
    assert always(state, hub.world) == []
    assert state.shipments[0].status is _F.RETURNED
    hub.world.default_track = Track.DELIVERED
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.RESHIP, note="lost")
    )
    state = await completed(run)

    first, second = state.shipments
    assert (first.status, second.status) == (_F.RETURNED, _F.DELIVERED)
    assert second.replaces == first.shipment_id
    assert len(state.reservation_keys) == 2
    assert len(hub.world.labels) == 2
    assert {r.shipment_id for r in hub.world.labels.values()} == {
        first.shipment_id,
        second.shipment_id,
    }
    assert kinds(run).count("shipped") == 2


async def test_returned_parcel_close_ends_the_order_closed(hub: Hub) -> None:
    hub.world.default_track = Track.RETURNED
    run = await hub.start()
    await run.held(HoldCode.TRACKING_EXCEPTION)
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.CLOSE, note="refunded")
    )
    state = await run.finish()
    assert state.stage is _S.CLOSED
    assert state.resolution_note == "refunded"
    assert at_end(state, hub.world) == []
    assert "review_invitation" not in kinds(run)


# ----------------------------------------------------------------- cancel at each stage


async def cancel(run: OrderRun, reason: str = "customer changed their mind") -> OrderState:
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason=reason))
    state = await run.finish()
    assert state.stage is _S.CANCELLED, state.details
    assert state.cancel_reason == reason
    assert at_end(state, run.world) == []
    assert kinds(run).count("cancelled") == 1
    return state


async def test_cancel_before_reservation(hub: Hub) -> None:
    run = await hub.start(address=BAD_ADDRESS)
    await run.held(HoldCode.INVALID_ADDRESS)
    state = await cancel(run)
    assert not hub.world.reservations and not state.shipments


async def test_cancel_while_waiting_for_stock(hub: Hub) -> None:
    hub.world.stock["SKU-A"] = 0
    run = await hub.start()
    await run.held(HoldCode.OUT_OF_STOCK)
    await cancel(run)
    assert not hub.world.reservations


async def test_cancel_after_reservation_releases_it(hub: Hub) -> None:
    hub.world.fail(Activity.PICK, Fault(ErrorType.PERMANENT))
    run = await hub.start()
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    key = f"order:{run.order.key}"
    assert hub.world.claimed(key) == 2
    state = await cancel(run)
    assert hub.world.releases[key] == 1 and hub.world.claimed(key) == 0
    assert [s.status for s in state.shipments] == [_F.CANCELLED]


async def test_cancel_after_pick_puts_the_units_back(hub: Hub) -> None:
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT))
    run = await hub.start()
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    assert hub.world.stock["SKU-A"] == 8
    state = await cancel(run)
    assert hub.world.stock["SKU-A"] == 10
    assert dict(hub.world.put_back) == {state.shipments[0].shipment_id: 1}


async def test_cancel_after_label_voids_it(hub: Hub) -> None:
    hub.world.fail(Activity.CONFIRM_SHIPMENT, Fault(ErrorType.PERMANENT))
    run = await hub.start()
    await run.held(HoldCode.MARKETPLACE_REJECTED)
    await cancel(run)
    (label_id,) = hub.world.labels
    assert dict(hub.world.voided) == {label_id: 1}
    assert hub.world.stock["SKU-A"] == 10
    assert not hub.world.confirmed


async def test_cancel_after_label_reports_a_label_the_carrier_will_not_void(hub: Hub) -> None:
    hub.world.fail(Activity.CONFIRM_SHIPMENT, Fault(ErrorType.PERMANENT))
    hub.world.void_refused = True
    run = await hub.start()
    await run.held(HoldCode.MARKETPLACE_REJECTED)
    state = await cancel(run)
    assert "label not voided" in state.details
    assert state.shipments[0].shipment_id in state.details


async def test_cancel_in_transit_is_a_return_request(hub: Hub) -> None:
    hub.world.default_track = Track.IN_TRANSIT
    run = await hub.start()
    await run.at(_S.IN_TRANSIT)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="too late"))
    state = await run.wait(lambda s: bool(s.after_sales), "after-sales note")
    assert state.stage is _S.IN_TRANSIT and state.cancel_reason is None
    assert [n.kind for n in state.after_sales] == ["cancel_after_shipping"]
    hub.world.default_track = Track.DELIVERED
    state = await completed(run)  # the next tracking poll (time skips to it) sees the delivery
    assert not hub.world.voided and not hub.world.releases
    assert "cancelled" not in kinds(run)


# ----------------------------------------------------------------- late channel versions


async def test_channel_refund_before_shipping_stops_the_order(hub: Hub) -> None:
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT))
    order = make_order()
    run = await hub.start(order)
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.REFUNDED)
    )
    state = await run.finish()
    assert state.stage is _S.CANCELLED
    assert state.cancel_reason == "payment refunded at the channel"
    assert at_end(state, hub.world) == []
    assert kinds(run).count("cancelled") == 1
    assert hub.world.stock["SKU-A"] == 10


async def test_channel_refund_while_running_stops_the_order(hub: Hub) -> None:
    hub.world.fail(Activity.CHOOSE_CARRIER)  # an outage: the order waits on a retrying call
    order = make_order()
    run = await hub.start(order)
    await run.wait(lambda s: hub.world.attempts(Activity.CHOOSE_CARRIER) >= 4, "regular retries")
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.REFUNDED)
    )
    state = await run.finish()
    assert state.stage is _S.CANCELLED and at_end(state, hub.world) == []


async def test_address_change_before_the_label_requotes(hub: Hub) -> None:
    hub.world.fail(Activity.CHOOSE_CARRIER)  # quoting waits on a carrier outage
    order = make_order()
    run = await hub.start(order)
    await run.wait(lambda s: hub.world.attempts(Activity.CHOOSE_CARRIER) >= 4, "regular retries")
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, shipping_address=OTHER_ADDRESS)
    )
    await run.wait(lambda s: s.order.shipping_address == OTHER_ADDRESS, "new address")
    hub.world.heal(Activity.CHOOSE_CARRIER)
    state = await completed(run)
    # The quote answered for the old address is thrown away and the carrier asked again.
    assert [address for _, address in hub.world.quotes] == [order.shipping_address, OTHER_ADDRESS]
    (record,) = hub.world.labels.values()
    assert record.address == OTHER_ADDRESS
    assert not state.after_sales


async def test_address_change_while_label_refused_requotes(hub: Hub) -> None:
    hub.world.fail(Activity.BUY_LABEL, Fault(ErrorType.PERMANENT, times=1))
    order = make_order()
    run = await hub.start(order)
    await run.held(HoldCode.LABEL_REFUSED)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, shipping_address=OTHER_ADDRESS)
    )
    await run.handle.execute_update(OrderWorkflow.retry)
    state = await completed(run)
    (record,) = hub.world.labels.values()
    assert record.address == OTHER_ADDRESS == state.order.shipping_address
    assert hub.world.quotes[-1][1] == OTHER_ADDRESS, "the label was bought on a stale quote"


async def held_with_label(hub: Hub) -> tuple[OrderRun, OrderState]:
    """An order whose label is bought and whose confirmation the channel refused."""
    hub.world.fail(Activity.CONFIRM_SHIPMENT, Fault(ErrorType.PERMANENT, times=1))
    order = make_order()
    run = await hub.start(order)
    await run.held(HoldCode.MARKETPLACE_REJECTED)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, shipping_address=OTHER_ADDRESS)
    )
    await run.handle.execute_update(OrderWorkflow.retry)
    state = await run.held(HoldCode.ADDRESS_CHANGED)
    assert always(state, hub.world) == []
    return run, state


async def test_address_change_after_label_relabel_voids_and_buys_with_a_new_key(
    hub: Hub,
) -> None:
    run, _ = await held_with_label(hub)
    await run.handle.execute_update(OrderWorkflow.address_decision, AddressDecision(relabel=True))
    state = await completed(run)

    old, new = hub.world.labels.values()
    assert dict(hub.world.voided) == {old.label.label_id: 1}
    assert new.label.idempotency_key != old.label.idempotency_key
    assert new.label.idempotency_key.endswith(":2")
    assert new.address == OTHER_ADDRESS == state.order.shipping_address
    assert state.shipments[0].label == new.label


async def test_address_change_after_label_keep_ships_the_label_as_bought(hub: Hub) -> None:
    run, _ = await held_with_label(hub)
    await run.handle.execute_update(OrderWorkflow.address_decision, AddressDecision(relabel=False))
    state = await completed(run)
    assert len(hub.world.labels) == 1 and not hub.world.voided
    assert [n.kind for n in state.after_sales] == ["address_kept"]
    assert state.order.shipping_address != OTHER_ADDRESS


async def test_address_change_while_confirming_is_not_lost(hub: Hub) -> None:
    """The label is bought and the channel's confirmation is in flight (an outage) when the
    channel changes the address: a person decides, or after-sales hears of it."""
    hub.world.fail(Activity.CONFIRM_SHIPMENT)
    order = make_order()
    run = await hub.start(order)
    await run.wait(lambda s: hub.world.attempts(Activity.CONFIRM_SHIPMENT) >= 4, "retries")
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, shipping_address=OTHER_ADDRESS)
    )
    await hub.skip(60)
    hub.world.heal(Activity.CONFIRM_SHIPMENT)
    state = await run.settled(skip=60)
    if state.hold is not None:
        assert state.hold.code is HoldCode.ADDRESS_CHANGED
        return
    assert any("address" in n.kind for n in state.after_sales), (
        "the channel's address change vanished: "
        f"after_sales={state.after_sales}, shipped to {state.order.shipping_address}"
    )


# ----------------------------------------------------------------- outages


async def until(predicate: Callable[[], bool], what: str, timeout: float = REAL_TIMEOUT) -> None:
    """Poll the fake world (not the workflow: a query on the time-skipping server costs a
    workflow task in history) until `predicate` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        await asyncio.sleep(0.02)


async def attention_becomes(run: OrderRun, value: str | None) -> None:
    deadline = time.monotonic() + REAL_TIMEOUT
    while (now := await attention(run)) != value:
        assert time.monotonic() < deadline, f"Attention is {now!r}, not {value!r}"
        await asyncio.sleep(0.02)


async def test_channel_outage_sets_attention_costs_little_history_and_recovers(
    hub: Hub,
) -> None:
    async with open_hub(hub.env) as other:  # its own world: the invariants are per order
        baseline = await other.start()
        await baseline.finish()
        happy_path_events = await baseline.history_length()

    hub.world.fail(Activity.CONFIRM_SHIPMENT)
    run = await hub.start()
    await until(lambda: hub.world.attempts(Activity.CONFIRM_SHIPMENT) >= 4, "regular retries")
    await hub.skip(POLICY.attention_after_seconds + 1)
    await attention_becomes(run, "channel_unreachable")
    during = await run.history_length()

    await hub.skip(3 * 3600)  # three more hours of the outage, a retry every minute
    assert hub.world.attempts(Activity.CONFIRM_SHIPMENT) > 3 * 60
    assert await run.history_length() == during  # server-side retries add no history

    state = await run.state()
    assert state.outage is not None and state.outage.startswith("channel_unreachable since")
    assert state.stage is _S.CONFIRMING and state.hold is None
    assert always(state, hub.world) == []

    hub.world.heal(Activity.CONFIRM_SHIPMENT)
    state = await completed(run)
    assert state.outage is None
    assert await attention(run) is None
    # Queries cost a workflow task each on this server: one was made during the outage.
    extra = await run.history_length() - happy_path_events - 3
    assert extra <= OUTAGE_EVENT_BUDGET, f"the outage cost {extra} events"


async def test_cancel_during_an_outage_cancels_promptly(hub: Hub) -> None:
    hub.world.fail(Activity.CONFIRM_SHIPMENT)
    run = await hub.start()
    await run.wait(lambda s: hub.world.attempts(Activity.CONFIRM_SHIPMENT) >= 4, "retries")
    await hub.skip(POLICY.attention_after_seconds + 1)
    await run.wait(lambda s: s.outage is not None, "outage noted")
    started = time.monotonic()
    await cancel(run, "customer gave up")
    assert time.monotonic() - started < 5
    assert len(hub.world.voided) == 1
    assert await attention(run) is None


async def test_warehouse_outage_is_flagged_per_stage_attention_time(hub: Hub) -> None:
    policy = OrderPolicy(warehouse=WAREHOUSE, attention_after_seconds_by_stage={"reserving": 60})
    hub.world.fail(Activity.RESERVE)
    run = await hub.start(policy=policy)
    await run.wait(lambda s: hub.world.attempts(Activity.RESERVE) >= 4, "retries")
    await hub.skip(61)
    state = await run.wait(lambda s: s.outage is not None, "outage noted")
    assert state.outage.startswith("warehouse_unreachable")
    hub.world.heal(Activity.RESERVE)
    await hub.skip(policy.outage_retry_max_seconds + 1)
    await completed(run)


# ----------------------------------------------------------------- a reship that is stopped


async def test_cancel_while_a_reship_waits_for_stock_stops_the_reship(hub: Hub) -> None:
    """A parcel came back, the operator reships, stock is short, the customer cancels: the
    reship must not go out when stock arrives."""
    hub.world.default_track = Track.RETURNED
    run = await hub.start(lines=(("SKU-A", 10),))
    await run.held(HoldCode.TRACKING_EXCEPTION)
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.RESHIP)
    )
    await run.held(HoldCode.OUT_OF_STOCK)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="no longer wanted"))
    await asyncio.sleep(0.5)
    hub.world.restock("SKU-A", 10)
    hub.world.default_track = Track.DELIVERED
    await hub.skip(RECHECK + 1)
    state = await run.settled(skip=60)
    assert len(hub.world.labels) == 1, (
        f"the cancelled order was reshipped: stage {state.stage.value}, "
        f"after-sales {[n.kind for n in state.after_sales]}"
    )
    assert always(state, hub.world) == []


async def test_cancel_of_a_reship_does_not_complete_the_order_as_delivered(hub: Hub) -> None:
    hub.world.default_track = Track.RETURNED
    run = await hub.start()
    await run.held(HoldCode.TRACKING_EXCEPTION)
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT))
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.RESHIP)
    )
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="refund instead"))
    state = await run.settled(skip=60)
    assert state.stage is not _S.COMPLETED, "completed although no parcel was delivered"
    assert "review_invitation" not in kinds(run)


async def test_release_refused_during_a_cancel_holds_instead_of_looping(own_hub: Hub) -> None:
    hub = own_hub
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT))
    run = await hub.start()
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    hub.world.fail(Activity.RELEASE, Fault(ErrorType.PERMANENT))
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="stop"))
    await asyncio.sleep(1)
    attempts, events = hub.world.attempts(Activity.RELEASE), await run.history_length()
    if attempts > 3:
        # Stop the loop before the worker shuts down (the SDK core panics on a worker that
        # stops while a workflow task keeps scheduling local activities).
        await run.handle.terminate("looping")
        await asyncio.sleep(3)
    assert attempts <= 3 and events < 100, f"{attempts} release attempts, {events} events in 1 s"
    state = await run.held(HoldCode.WAREHOUSE_REJECTED)
    assert always(state, hub.world) == []


# ----------------------------------------------------------------- operator fixes, channel versions


async def test_a_channel_version_does_not_undo_the_operators_address_fix(hub: Hub) -> None:
    """The channel never saw the operator's fix: its next version (payment captured) still
    carries the old address, and must not put it back."""
    order = make_order(address=BAD_ADDRESS, payment=PaymentStatus.PENDING)
    run = await hub.start(order)
    await run.held(HoldCode.INVALID_ADDRESS)
    await run.handle.execute_update(OrderWorkflow.fix_address, FixAddress(postal_code="114 55"))
    await run.held(HoldCode.UNPAID)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.PAID)
    )
    state = await run.wait(
        lambda s: (
            s.stage.is_terminal or (s.hold is not None and s.hold.code is not HoldCode.UNPAID)
        ),
        "the payment taken in",
    )
    assert state.hold is None, f"held again for {state.hold.code.value}: {state.hold.message}"
    assert state.order.shipping_address.postal_code == "114 55"


async def test_a_channel_version_does_not_undo_the_operators_sku_fix(hub: Hub) -> None:
    order = make_order(lines=(("SKU-NOPE", 1),), payment=PaymentStatus.PENDING)
    run = await hub.start(order)
    await run.held(HoldCode.UNKNOWN_SKU)
    await run.handle.execute_update(OrderWorkflow.fix_sku, FixSku(line_id="L1", sku="SKU-A"))
    await run.held(HoldCode.UNPAID)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.PAID)
    )
    state = await run.wait(
        lambda s: (
            s.stage.is_terminal or (s.hold is not None and s.hold.code is not HoldCode.UNPAID)
        ),
        "the payment taken in",
    )
    assert state.hold is None, f"held again for {state.hold.code.value}: {state.hold.message}"


async def test_a_held_order_keeps_naming_its_resolutions_after_a_channel_address_change(
    hub: Hub,
) -> None:
    hub.world.shrink("SKU-A", 10)
    order = make_order()
    run = await hub.start(order)
    await run.held(HoldCode.SHORT_PICK)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, shipping_address=OTHER_ADDRESS)
    )
    state = await run.wait(lambda s: s.order.shipping_address == OTHER_ADDRESS, "new address")
    assert state.hold is not None and state.hold.code is HoldCode.SHORT_PICK
    assert always(state, hub.world) == []


async def test_a_hold_notice_is_sent_once_when_the_notifier_was_down(hub: Hub) -> None:
    """The notifier is down as the order holds for stock; each re-check holds again. The
    customer hears of the hold once, not once per re-check."""
    hub.world.stock["SKU-A"] = 0
    hub.world.fail(Activity.NOTIFY)
    run = await hub.start()
    await run.held(HoldCode.OUT_OF_STOCK)
    await hub.skip(RECHECK + 1)
    await hub.skip(2 * RECHECK + 1)
    await run.held(HoldCode.OUT_OF_STOCK)
    assert hub.world.attempts(Activity.RESERVE) == 3
    hub.world.heal(Activity.NOTIFY)
    hub.world.restock("SKU-A", 2)
    state = await completed(run)
    key = f"{state.order.key}:order_on_hold:out_of_stock"
    assert hub.world.notices[key] == 1


async def test_marketplace_rejected_mark_confirmed_ships_without_the_channel(hub: Hub) -> None:
    hub.world.fail(Activity.CONFIRM_SHIPMENT, Fault(ErrorType.PERMANENT))
    run = await hub.start()
    await run.held(HoldCode.MARKETPLACE_REJECTED)
    await run.handle.execute_update(OrderWorkflow.mark_confirmed)
    state = await completed(run)
    assert not hub.world.confirmed
    assert [n.kind for n in state.after_sales] == ["confirmed_by_hand"]


async def test_cancel_while_a_label_purchase_retries_buys_nothing(hub: Hub) -> None:
    hub.world.fail(Activity.BUY_LABEL)
    run = await hub.start()
    await until(lambda: hub.world.attempts(Activity.BUY_LABEL) >= 1, "a purchase attempt")
    await cancel(run)
    assert not hub.world.labels
    assert hub.world.stock["SKU-A"] == 10


async def test_cancel_of_a_split_order_after_its_first_shipment_left(hub: Hub) -> None:
    """One shipment is in transit, the other waits on the warehouse: the cancel stops the
    second (released, put back) and is a return request for the first, which completes."""
    hub.world.split = True
    hub.world.default_track = Track.IN_TRANSIT
    order = make_order(lines=(("SKU-A", 1), ("SKU-B", 2)))
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT, only=f"{order.external_id}-2"))
    run = await hub.start(order)
    state = await run.held(HoldCode.WAREHOUSE_REJECTED)
    assert [s.status for s in state.shipments] == [_F.SHIPPED, _F.PICKED]
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="half of it, please"))
    state = await run.wait(lambda s: bool(s.after_sales), "the return request")
    assert [n.kind for n in state.after_sales] == ["cancel_after_shipping"]
    hub.world.default_track = Track.DELIVERED
    state = await completed(run)
    assert [s.status for s in state.shipments] == [_F.DELIVERED, _F.CANCELLED]
    assert hub.world.releases[state.reservation_keys[0]] == 1
    assert hub.world.stock["SKU-B"] == 10  # the second shipment's units are back
    assert "cancelled" not in kinds(run)


async def test_one_parcel_of_two_returned_holds_for_the_shipment(hub: Hub) -> None:
    hub.world.parcels_per_label = 2
    hub.world.default_track = Track.NOTHING
    run = await hub.start()
    await run.at(_S.IN_TRANSIT)
    first, second = hub.world.tracking_numbers
    hub.world.tracking.update({first: Track.DELIVERED, second: Track.RETURNED})
    await hub.skip(POLICY.tracking_poll_seconds + 1)
    state = await run.held(HoldCode.TRACKING_EXCEPTION)
    assert second in state.hold.message and first not in state.hold.message
    assert state.shipments[0].status is _F.RETURNED
    hub.world.default_track = Track.DELIVERED
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.RESHIP)
    )
    state = await completed(run)
    assert len(state.shipments) == 2


async def test_lines_changed_after_reservation_hold_and_retry_ships_as_reserved(hub: Hub) -> None:
    hub.world.fail(Activity.PACK, Fault(ErrorType.PERMANENT, times=1))
    order = make_order()
    run = await hub.start(order)
    await run.held(HoldCode.WAREHOUSE_REJECTED)
    more = order.lines[0].model_copy(update={"quantity": 5})
    await run.handle.signal(OrderWorkflow.channel_update, next_version(order, lines=(more,)))
    await run.handle.execute_update(OrderWorkflow.retry)
    state = await run.held(HoldCode.ORDER_CHANGED)
    assert always(state, hub.world) == []
    await run.handle.execute_update(OrderWorkflow.retry)
    state = await completed(run)
    assert state.shipments[0].lines[0].quantity == 2
    assert [n.kind for n in state.after_sales] == ["lines_kept"]


async def test_refund_after_shipping_is_recorded_for_after_sales(hub: Hub) -> None:
    hub.world.default_track = Track.IN_TRANSIT
    order = make_order()
    run = await hub.start(order)
    await run.at(_S.IN_TRANSIT)
    await run.handle.signal(
        OrderWorkflow.channel_update, next_version(order, payment_status=PaymentStatus.REFUNDED)
    )
    state = await run.wait(lambda s: bool(s.after_sales), "after-sales note")
    assert "refunded after shipping" in state.after_sales[0].detail
    assert state.stage is _S.IN_TRANSIT and state.cancel_reason is None
    hub.world.default_track = Track.DELIVERED
    await completed(run)


async def test_cancel_of_a_reship_then_close_releases_each_reservation_once(hub: Hub) -> None:
    hub.world.default_track = Track.RETURNED
    run = await hub.start()
    await run.held(HoldCode.TRACKING_EXCEPTION)
    hub.world.fail(Activity.BUY_LABEL, Fault(ErrorType.PERMANENT))
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.RESHIP)
    )
    await run.held(HoldCode.LABEL_REFUSED)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="refund instead"))
    state = await run.held(HoldCode.TRACKING_EXCEPTION)
    assert [s.status for s in state.shipments] == [_F.RETURNED, _F.CANCELLED]
    await run.handle.execute_update(
        OrderWorkflow.resolve, ResolveUndelivered(resolution=Resolution.CLOSE, note="refunded")
    )
    state = await run.finish()
    assert state.stage is _S.CLOSED
    assert dict(hub.world.releases) == dict.fromkeys(state.reservation_keys, 1)
    assert not hub.world.release_repeats, (
        f"release asked again for {dict(hub.world.release_repeats)}"
    )

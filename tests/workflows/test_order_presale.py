"""Presale orders: a durable timer until the release date, the customer told the ship date,
a stock arrival and a moved date honoured. Time skips on the test server: days in seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import WorkflowUpdateFailedError

from hub.domain.holds import HoldCode
from hub.domain.status import OrderStage
from hub.workflows.contracts import Activity, CancelRequest, OrderState, ReleaseDate
from hub.workflows.order import OrderWorkflow
from tests.workflows.fakes import make_order, next_version
from tests.workflows.harness import POLICY, Hub, OrderRun
from tests.workflows.invariants import always, at_end

DAY = 24 * 3600
_S = OrderStage


async def presale(hub: Hub, days: float) -> tuple[OrderRun, datetime]:
    release = await hub.env.get_current_time() + timedelta(days=days)
    run = await hub.start(release_at=release)
    state = await run.at(_S.AWAITING_RELEASE)
    assert always(state, hub.world) == []
    return run, release


def ship_dates(run: OrderRun) -> list[str]:
    return [facts["ship_date"] for _, kind, facts in run.world.notice_kinds if kind == "ship_date"]


def reserved_at(state: OrderState) -> datetime:
    return next(t.entered_at for t in state.stage_log if t.stage is _S.RESERVING)


async def test_presale_waits_for_the_release_date_tells_the_customer_and_ships(hub: Hub) -> None:
    run, release = await presale(hub, days=3)
    assert ship_dates(run) == [release.date().isoformat()]
    assert not hub.world.reservations

    await hub.skip(2 * DAY)
    state = await run.state()
    assert state.stage is _S.AWAITING_RELEASE and not hub.world.reservations

    await hub.skip(DAY + 60)
    state = await run.finish()
    assert state.stage is _S.COMPLETED and at_end(state, hub.world) == []
    assert reserved_at(state) >= release
    assert ship_dates(run) == [release.date().isoformat()]  # told once


async def test_set_release_date_later_rearms_the_wait_and_tells_the_customer_again(
    hub: Hub,
) -> None:
    run, release = await presale(hub, days=1)
    later = release + timedelta(days=2)
    await run.handle.execute_update(OrderWorkflow.set_release_date, ReleaseDate(release_at=later))
    await run.wait(lambda s: len(ship_dates(run)) == 2, "second ship-date notice")
    assert ship_dates(run) == [release.date().isoformat(), later.date().isoformat()]

    await hub.skip(DAY + 60)  # past the first date: still waiting
    state = await run.state()
    assert state.stage is _S.AWAITING_RELEASE and not hub.world.reservations
    await hub.skip(2 * DAY)
    state = await run.finish()
    assert state.stage is _S.COMPLETED and reserved_at(state) >= later
    assert at_end(state, hub.world) == []


async def test_set_release_date_none_releases_now(hub: Hub) -> None:
    run, _ = await presale(hub, days=30)
    await run.handle.execute_update(OrderWorkflow.set_release_date, ReleaseDate(release_at=None))
    state = await run.wait(lambda s: s.reservation_keys != [], "reservation")
    assert state.order.release_at is None
    state = await run.finish()
    assert state.stage is _S.COMPLETED


async def test_set_release_date_is_refused_once_stock_is_reserved(hub: Hub) -> None:
    run = await hub.start()
    await run.finish()
    try:
        await run.handle.execute_update(
            OrderWorkflow.set_release_date,
            ReleaseDate(release_at=await hub.env.get_current_time() + timedelta(days=1)),
        )
    except WorkflowUpdateFailedError as failed:
        assert "past its release" in str(failed.cause)
    except Exception:  # noqa: S110 - a closed workflow refuses any update: also fine
        pass
    else:
        raise AssertionError("a release date was accepted after the release")


async def test_set_release_date_is_refused_while_held_after_reservation(hub: Hub) -> None:
    hub.world.shrink("SKU-A", 10)
    run = await hub.start()
    await run.held(HoldCode.SHORT_PICK)
    later = await hub.env.get_current_time() + timedelta(days=1)
    try:
        await run.handle.execute_update(
            OrderWorkflow.set_release_date, ReleaseDate(release_at=later)
        )
    except WorkflowUpdateFailedError as failed:
        assert "past its release" in str(failed.cause)
    else:
        raise AssertionError("a release date was accepted after the reservation")


async def test_channel_moving_the_date_is_honoured(hub: Hub) -> None:
    now = await hub.env.get_current_time()
    release = now + timedelta(days=2)
    order = make_order(release_at=release)
    run = await hub.start(order)
    await run.at(_S.AWAITING_RELEASE)
    moved = release + timedelta(days=3)
    await run.handle.signal(OrderWorkflow.channel_update, next_version(order, release_at=moved))
    await run.wait(lambda s: s.order.release_at == moved and len(ship_dates(run)) == 2, "new date")
    assert ship_dates(run) == [release.date().isoformat(), moved.date().isoformat()]
    assert hub.world.attempts(Activity.VALIDATE) == 2  # the new version is validated again

    await hub.skip(2 * DAY + 60)
    state = await run.state()
    assert state.stage is _S.AWAITING_RELEASE and not hub.world.reservations
    await hub.skip(3 * DAY)
    state = await run.finish()
    assert state.stage is _S.COMPLETED and reserved_at(state) >= moved
    assert at_end(state, hub.world) == []


async def test_channel_moving_the_date_earlier_ships_sooner(hub: Hub) -> None:
    now = await hub.env.get_current_time()
    order = make_order(release_at=now + timedelta(days=10))
    run = await hub.start(order)
    await run.at(_S.AWAITING_RELEASE)
    sooner = now + timedelta(days=1)
    await run.handle.signal(OrderWorkflow.channel_update, next_version(order, release_at=sooner))
    await run.wait(lambda s: s.order.release_at == sooner, "new date")
    await hub.skip(DAY + 60)
    state = await run.wait(lambda s: bool(s.reservation_keys), "reservation", skip=60)
    assert reserved_at(state) < now + timedelta(days=2)


async def test_presale_without_stock_on_the_date_waits_for_the_stock_arrival(hub: Hub) -> None:
    hub.world.stock["SKU-A"] = 0
    run, release = await presale(hub, days=1)
    await hub.skip(DAY + 60)
    await run.held(HoldCode.OUT_OF_STOCK)
    hub.world.restock("SKU-A", 5)
    await hub.skip(POLICY.stock_recheck_seconds + 1)
    state = await run.finish()
    assert state.stage is _S.COMPLETED and at_end(state, hub.world) == []
    assert reserved_at(state) >= release


async def test_cancel_while_awaiting_release(hub: Hub) -> None:
    run, _ = await presale(hub, days=5)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="changed mind"))
    state = await run.finish()
    assert state.stage is _S.CANCELLED and at_end(state, hub.world) == []
    assert not hub.world.reservations


async def test_moving_the_date_back_tells_the_customer_again(hub: Hub) -> None:
    """Told A, then B: moved back to A, the customer must hear of A again (they expect B)."""
    run, first = await presale(hub, days=1)
    later = first + timedelta(days=2)
    await run.handle.execute_update(OrderWorkflow.set_release_date, ReleaseDate(release_at=later))
    await run.wait(lambda s: len(ship_dates(run)) == 2, "second ship-date notice")
    await run.handle.execute_update(OrderWorkflow.set_release_date, ReleaseDate(release_at=first))
    await run.wait(lambda s: s.order.release_at == first, "the first date again")
    await hub.skip(60)
    await run.wait(lambda s: True, "a look")
    assert ship_dates(run)[-1] == first.date().isoformat(), (
        f"the customer was last told {ship_dates(run)[-1]}, the order ships {first.date()}"
    )

"""Random lives of an order: hypothesis draws an order and a sequence of events (operator
actions, channel versions, cancels, stock and carrier events, outages, time skips), runs them
against a fresh workflow and fake world on the time-skipping server, and checks the
invariants of `tests/workflows/invariants.py` after every step. At the end every fault is
healed and any hold is resolved by the first action `RESOLUTIONS` names for it, time skips,
and the order must reach a terminal stage with its reservations released exactly once (when
it did not ship), every label voided or reported, and no notice sent twice.

Random exploration is the point: the examples differ from run to run (no derandomize). A
failure prints the drawn sequence, the trace of states, and `@reproduce_failure` blob;
`pytest --hypothesis-seed=N` replays a whole run. The number of sequences run is printed
at the end of the session's terminal report. Violations of bugs already reported
(`KNOWN_BUGS`) are counted as events instead of failing the run.

Knobs: `HUB_WORKFLOW_EXAMPLES` (default 60, about a minute on 2 cores), `HUB_WORKFLOW_STRICT=1`
(fail on known bugs too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from hub.domain.address import Address
from hub.domain.holds import RESOLUTIONS, Action, HoldCode
from hub.domain.order import Order
from hub.domain.status import OrderStage, PaymentStatus
from hub.workflows.contracts import (
    Activity,
    AddressDecision,
    CancelRequest,
    ErrorType,
    FixAddress,
    FixSku,
    OrderState,
    ReleaseDate,
    Resolution,
    ResolveUndelivered,
)
from hub.workflows.order import OrderWorkflow
from hub.workflows.policy import OrderPolicy
from tests.workflows.fakes import (
    BAD_ADDRESS,
    CATALOG,
    GOOD_ADDRESS,
    OTHER_ADDRESS,
    WAREHOUSE,
    FakeWorld,
    Fault,
    Track,
    make_order,
    next_version,
)
from tests.workflows.harness import OrderRun, open_hub, skip_time, time_skipping_env
from tests.workflows.invariants import always, at_end

MAX_EXAMPLES = int(os.environ.get("HUB_WORKFLOW_EXAMPLES", "60"))
STEP_TIMEOUT = 20.0
SERVER_USES = 25
FINISH_ROUNDS = 30
SEQUENCES_RUN: list[int] = []
"""One entry per sequence run in this session (read by the conftest's terminal summary)."""

# Outages are retried every 10 minutes at most (not every minute): fewer attempts to skip over.
POLICY = OrderPolicy(warehouse=WAREHOUSE, outage_retry_max_seconds=600)
OUTAGES: dict[str, tuple[Activity, ...]] = {
    "channel": (Activity.CONFIRM_SHIPMENT,),
    "carrier": (Activity.CHOOSE_CARRIER, Activity.BUY_LABEL),
    "warehouse": (Activity.RESERVE, Activity.PICK, Activity.PACK, Activity.RELEASE),
    "notifier": (Activity.NOTIFY,),
}
FAULTS: dict[str, tuple[Activity, ErrorType]] = {
    "label_refused": (Activity.BUY_LABEL, ErrorType.PERMANENT),
    "label_uncertain": (Activity.BUY_LABEL, ErrorType.LABEL_UNCERTAIN),
    "customs_missing": (Activity.BUY_LABEL, ErrorType.CUSTOMS_DATA_MISSING),
    "no_carrier": (Activity.CHOOSE_CARRIER, ErrorType.PERMANENT),
    "pick_rejected": (Activity.PICK, ErrorType.PERMANENT),
    "pack_rejected": (Activity.PACK, ErrorType.PERMANENT),
    "channel_rejected": (Activity.CONFIRM_SHIPMENT, ErrorType.PERMANENT),
    "release_rejected": (Activity.RELEASE, ErrorType.PERMANENT),
}
SKIPS = (60, 900, 1800, 3600, 3 * 3600, 24 * 3600)
# A skip during an outage means an activity attempt every `outage_retry_max_seconds` of it,
# each a round trip to the worker: keep it short.
SKIP_DURING_OUTAGE = 3 * 3600


STRICT = os.environ.get("HUB_WORKFLOW_STRICT") == "1"


@dataclass(frozen=True)
class KnownBug:
    """Violations of a bug already reported, reproduced by an example test marked xfail."""

    pattern: str
    test: str
    after_notifier_outage: bool = False
    """Known only in a life where the notifier was down at some point."""


KNOWN_BUGS: tuple[KnownBug, ...] = ()
"""Counted (`--hypothesis-show-statistics`), not failed, so that the random lives go on finding
other bugs; `HUB_WORKFLOW_STRICT=1` fails on them too. Remove an entry with its xfail mark."""


@dataclass(frozen=True)
class Start:
    lines: tuple[tuple[str, int], ...]
    address: str
    payment: PaymentStatus
    presale_days: int | None
    split: bool
    stock: tuple[int, int]
    shrink: int
    parcels: int
    void_refused: bool
    track: Track
    """What the carrier answers for parcels until a step changes it."""
    outage: str | None
    fault: str | None


@dataclass(frozen=True)
class Step:
    kind: str
    arg: Any = None

    def __repr__(self) -> str:
        return f"Step({self.kind!r}" + (")" if self.arg is None else f", {self.arg!r})")


ADDRESSES = {"good": GOOD_ADDRESS, "other": OTHER_ADDRESS, "bad": BAD_ADDRESS}

starts = st.builds(
    Start,
    lines=st.lists(
        st.tuples(
            st.sampled_from(["SKU-A", "SKU-A", "SKU-B", "SKU-B", "SKU-X"]), st.integers(1, 3)
        ),
        min_size=1,
        max_size=2,
        unique_by=lambda line: line[0],
    ).map(tuple),
    address=st.sampled_from(["good", "good", "good", "bad"]),
    payment=st.sampled_from([PaymentStatus.PAID] * 4 + [PaymentStatus.PENDING]),
    presale_days=st.one_of(st.none(), st.none(), st.none(), st.none(), st.integers(1, 2)),
    split=st.booleans(),
    stock=st.tuples(st.integers(2, 8), st.integers(2, 8)),
    shrink=st.sampled_from([0, 0, 0, 1, 2, 3]),
    parcels=st.integers(1, 2),
    void_refused=st.booleans(),
    track=st.sampled_from(
        [Track.IN_TRANSIT, Track.IN_TRANSIT, Track.NOTHING, Track.RETURNED, Track.RETURNED]
    ),
    outage=st.one_of(st.none(), st.none(), st.sampled_from(sorted(OUTAGES))),
    fault=st.one_of(st.none(), st.sampled_from(sorted(FAULTS))),
)

steps = st.one_of(
    # operator
    st.just(Step("retry")),
    st.builds(Step, st.just("fix_address"), st.sampled_from(["good", "other", "bad"])),
    st.just(Step("fix_sku")),
    st.just(Step("ship_available")),
    st.just(Step("mark_confirmed")),
    st.builds(Step, st.just("address_decision"), st.booleans()),
    st.builds(Step, st.just("resolve"), st.sampled_from(list(Resolution))),
    st.builds(Step, st.just("set_release_date"), st.sampled_from([None, 1, 3])),
    st.just(Step("cancel")),
    # channel
    st.builds(
        Step,
        st.just("channel"),
        st.sampled_from(
            [
                "paid",
                "refunded",
                "voided",
                "partially_refunded",
                "address_valid",
                "address_invalid",
                "lines",
                "date",
            ]
        ),
    ),
    # the world
    st.builds(
        Step, st.just("restock"), st.tuples(st.sampled_from(["SKU-A", "SKU-B"]), st.integers(1, 6))
    ),
    st.builds(
        Step, st.just("shrink"), st.tuples(st.sampled_from(["SKU-A", "SKU-B"]), st.integers(1, 4))
    ),
    st.builds(Step, st.just("carrier"), st.sampled_from(list(Track))),
    st.builds(Step, st.just("outage"), st.tuples(st.sampled_from(sorted(OUTAGES)), st.booleans())),
    st.builds(Step, st.just("fault"), st.sampled_from(sorted(FAULTS))),
    st.builds(Step, st.just("void_refused"), st.booleans()),
    st.builds(Step, st.just("skip"), st.sampled_from(SKIPS)),
)


@dataclass
class Life:
    """One order's run: the workflow, its world, the channel's latest version of it."""

    env: WorkflowEnvironment
    run: OrderRun
    channel: Order
    outages: set[str] = field(default_factory=set)
    outages_seen: set[str] = field(default_factory=set)
    trace: list[str] = field(default_factory=list)

    @property
    def world(self) -> FakeWorld:
        return self.run.world

    @property
    def failing(self) -> frozenset[str]:
        return frozenset(a.value for name in self.outages for a in OUTAGES[name])

    async def state(self) -> OrderState:
        await self.run.quiet(outages=self.failing)
        return await self.run.state()

    async def check(self, step: object) -> OrderState:
        state = await self.state()
        hold = state.hold.code.value if state.hold else "-"
        self.trace.append(f"{step!r:48} -> {state.stage.value:16} hold={hold}")
        self.expect(always(state, self.world))
        if currently_in_test_context():
            if state.hold is not None:
                event(f"held for {state.hold.code.value}")
            if state.stage.is_terminal:
                event(f"ended {state.stage.value}")
        return state

    def expect(self, problems: list[str]) -> None:
        """Fail on any broken invariant, except those of a known bug (counted as events)."""
        unknown = []
        for problem in problems:
            bug = self.known_bug(problem)
            if bug is None:
                unknown.append(problem)
            elif currently_in_test_context():
                event(f"known bug seen: {bug.test}")
        assert not unknown, self.report(unknown)

    def known_bug(self, problem: str) -> KnownBug | None:
        if STRICT:
            return None
        for bug in KNOWN_BUGS:
            if bug.after_notifier_outage and "notifier" not in self.outages_seen:
                continue
            if re.search(bug.pattern, problem):
                return bug
        return None

    def report(self, problems: list[str]) -> str:
        return "\n".join(["invariants broken:", *problems, "trace:", *self.trace])

    async def update(self, method: Any, *args: Any) -> None:
        with contextlib.suppress(WorkflowUpdateFailedError, RPCError):
            await self.run.handle.execute_update(method, *args)

    async def signal(self, method: Any, arg: Any) -> None:
        with contextlib.suppress(RPCError):  # the order may have ended
            await self.run.handle.signal(method, arg)

    async def channel_sends(self, **changes: Any) -> None:
        self.channel = next_version(self.channel, **changes)
        await self.signal(OrderWorkflow.channel_update, self.channel)

    # ----------------------------------------------------------------- steps

    async def apply(self, step: Step) -> None:
        await getattr(self, f"_{step.kind}")(step.arg)

    async def _retry(self, _: None) -> None:
        await self.update(OrderWorkflow.retry)

    async def _fix_address(self, which: str) -> None:
        await self.update(OrderWorkflow.fix_address, fix(ADDRESSES[which]))

    async def _fix_sku(self, _: None) -> None:
        state = await self.run.state()
        unknown = [line for line in state.order.lines if line.sku not in CATALOG]
        line_id = unknown[0].line_id if unknown else state.order.lines[0].line_id
        await self.update(OrderWorkflow.fix_sku, FixSku(line_id=line_id, sku="SKU-A"))

    async def _ship_available(self, _: None) -> None:
        await self.update(OrderWorkflow.ship_available)

    async def _mark_confirmed(self, _: None) -> None:
        await self.update(OrderWorkflow.mark_confirmed)

    async def _address_decision(self, relabel: bool) -> None:
        await self.update(OrderWorkflow.address_decision, AddressDecision(relabel=relabel))

    async def _resolve(self, resolution: Resolution) -> None:
        await self.update(OrderWorkflow.resolve, ResolveUndelivered(resolution=resolution))

    async def _set_release_date(self, days: int | None) -> None:
        when = None if days is None else await self.env.get_current_time() + timedelta(days=days)
        await self.update(OrderWorkflow.set_release_date, ReleaseDate(release_at=when))

    async def _cancel(self, _: None) -> None:
        await self.signal(OrderWorkflow.cancel, CancelRequest(reason="customer cancelled"))

    async def _channel(self, what: str) -> None:
        if what in {"paid", "refunded", "voided", "partially_refunded"}:
            await self.channel_sends(payment_status=PaymentStatus(what))
        elif what == "address_valid":
            now = self.channel.shipping_address
            await self.channel_sends(
                shipping_address=OTHER_ADDRESS if now == GOOD_ADDRESS else GOOD_ADDRESS
            )
        elif what == "address_invalid":
            await self.channel_sends(shipping_address=BAD_ADDRESS)
        elif what == "lines":
            first, *rest = self.channel.lines
            more = first.model_copy(update={"quantity": first.quantity + 1})
            await self.channel_sends(lines=(more, *rest))
        else:
            now = await self.env.get_current_time()
            moved = None if self.channel.release_at else now + timedelta(days=1)
            await self.channel_sends(release_at=moved)

    async def _restock(self, arg: tuple[str, int]) -> None:
        self.world.restock(*arg)

    async def _shrink(self, arg: tuple[str, int]) -> None:
        self.world.shrink(*arg)

    async def _carrier(self, outcome: Track) -> None:
        self.world.default_track = outcome
        for number in self.world.tracking_numbers:
            self.world.tracking[number] = outcome

    async def _outage(self, arg: tuple[str, bool]) -> None:
        name, on = arg
        for activity in OUTAGES[name]:
            if on:
                self.world.fail(activity)
            else:
                self.world.heal(activity)
        (self.outages.add if on else self.outages.discard)(name)
        if on:
            self.outages_seen.add(name)

    async def _fault(self, name: str) -> None:
        activity, error = FAULTS[name]
        self.world.fail(activity, Fault(error, times=1))

    async def _void_refused(self, refused: bool) -> None:
        self.world.void_refused = refused

    async def _skip(self, seconds: float) -> None:
        if self.outages:
            seconds = min(seconds, SKIP_DURING_OUTAGE)
        await skip_time(self.env, seconds)

    # ----------------------------------------------------------------- the end

    async def finish(self) -> OrderState:
        """Heal the world, then resolve every hold by its first action until the order ends."""
        for name in list(self.outages):
            await self._outage((name, False))
        self.world.faults.clear()
        self.world.void_refused = False
        await self._carrier(Track.DELIVERED)
        for round_ in range(FINISH_ROUNDS):
            state = await self.check(Step("finish", round_))
            if state.stage.is_terminal:
                return state
            if state.hold is None:
                await self._skip(6 * 3600)  # re-checks, tracking polls, release dates
                continue
            await self.resolve_by_first_action(state)
        raise AssertionError(self.report([f"no terminal stage after {FINISH_ROUNDS} rounds"]))

    async def resolve_by_first_action(self, state: OrderState) -> None:
        assert state.hold is not None
        code = state.hold.code
        action = RESOLUTIONS[code][0]
        if action is Action.FIX_ADDRESS:
            await self._fix_address("good")
        elif action is Action.FIX_SKU:
            await self._fix_sku(None)
        elif action is Action.CHANNEL_UPDATE:
            assert code is HoldCode.UNPAID
            await self._channel("paid")
        elif action is Action.RESTOCK:
            for sku in ("SKU-A", "SKU-B"):
                self.world.restock(sku, 20)
            await self._skip(POLICY.stock_recheck_max_seconds + 1)
        elif action is Action.RESHIP:
            await self._resolve(Resolution.RESHIP)
        elif action is Action.RELABEL:
            await self._address_decision(True)
        elif action is Action.RETRY:
            await self._retry(None)
        else:
            raise AssertionError(f"no way to apply {action} in this test")


def fix(address: Address) -> FixAddress:
    return FixAddress(**address.model_dump(include=set(FixAddress.model_fields)))


def steps_for(state: OrderState) -> st.SearchStrategy[Step]:
    """Any event, or (as often) one that matters where the order is now: an action that
    resolves its hold, a carrier answer for a parcel in transit, a date for a presale."""
    relevant: list[st.SearchStrategy[Step]] = []
    if state.hold is not None:
        for action in RESOLUTIONS[state.hold.code]:
            relevant.append(RESOLVING[action])
    elif state.stage is OrderStage.IN_TRANSIT:
        relevant.append(st.builds(Step, st.just("carrier"), st.sampled_from(list(Track))))
        relevant.append(st.sampled_from([Step("skip", 3600), Step("cancel")]))
    elif state.stage is OrderStage.AWAITING_RELEASE:
        relevant.append(
            st.sampled_from(
                [Step("skip", 24 * 3600), Step("set_release_date", 3), Step("channel", "date")]
            )
        )
    if not relevant:
        return steps
    return st.one_of(steps, st.one_of(relevant), st.one_of(relevant))


RESOLVING: dict[Action, st.SearchStrategy[Step]] = {
    Action.FIX_ADDRESS: st.builds(
        Step, st.just("fix_address"), st.sampled_from(["good", "other", "bad"])
    ),
    Action.FIX_SKU: st.just(Step("fix_sku")),
    Action.RETRY: st.just(Step("retry")),
    Action.SHIP_AVAILABLE: st.just(Step("ship_available")),
    Action.RELABEL: st.just(Step("address_decision", True)),
    Action.KEEP_ADDRESS: st.just(Step("address_decision", False)),
    Action.RESHIP: st.just(Step("resolve", Resolution.RESHIP)),
    Action.CLOSE: st.just(Step("resolve", Resolution.CLOSE)),
    Action.CANCEL: st.just(Step("cancel")),
    Action.MARK_CONFIRMED: st.just(Step("mark_confirmed")),
    Action.CHANNEL_UPDATE: st.builds(
        Step, st.just("channel"), st.sampled_from(["paid", "address_valid", "lines", "refunded"])
    ),
    Action.RESTOCK: st.builds(
        Step, st.just("restock"), st.tuples(st.sampled_from(["SKU-A", "SKU-B"]), st.just(6))
    ),
}


async def live(env: WorkflowEnvironment, start: Start, data: st.DataObject, length: int) -> None:
    world = FakeWorld(
        stock=_stock(start),
        split=start.split,
        parcels_per_label=start.parcels,
        void_refused=start.void_refused,
        default_track=start.track,
    )
    world.shrink("SKU-A", start.shrink)
    release = None
    if start.presale_days is not None:
        release = await env.get_current_time() + timedelta(days=start.presale_days)
    order = make_order(
        lines=start.lines,
        address=ADDRESSES[start.address],
        payment=start.payment,
        release_at=release,
    )
    async with open_hub(env, world) as hub:
        run = await hub.start(order, policy=POLICY)
        life = Life(env=env, run=run, channel=order)
        if start.outage:
            await life.apply(Step("outage", (start.outage, True)))
        if start.fault:
            await life.apply(Step("fault", start.fault))
        state = await life.check(start)
        try:
            for _ in range(length):
                if state.stage.is_terminal:
                    break
                step = data.draw(steps_for(state))
                await asyncio.wait_for(life.apply(step), STEP_TIMEOUT)
                state = await life.check(step)
            state = await life.finish()
            life.expect(at_end(state, world))
        finally:
            note("\n".join(life.trace))


def _stock(start: Start) -> Counter[str]:
    return Counter({"SKU-A": start.stock[0], "SKU-B": start.stock[1]})


class Servers:
    """The module's own time-skipping server, replaced after an example that failed (a stuck
    workflow task there would keep time from skipping for every later example) and every
    `SERVER_USES` examples (it keeps every workflow it ever ran in memory, and slows down)."""

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self._env: WorkflowEnvironment | None = None
        self._uses = 0

    async def get(self) -> WorkflowEnvironment:
        if self._uses >= SERVER_USES:
            await self.discard()
        if self._env is None:
            self._env = await self._stack.enter_async_context(time_skipping_env())
            self._uses = 0
        self._uses += 1
        return self._env

    async def discard(self) -> None:
        await self._stack.aclose()
        self._stack = contextlib.AsyncExitStack()
        self._env = None


@pytest.fixture(scope="module")
async def servers() -> AsyncIterator[Servers]:
    pool = Servers()
    try:
        yield pool
    finally:
        await pool.discard()


@pytest.mark.timeout(600)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
    # No explain phase: it re-runs the failing example dozens of times for little more.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(start=starts, length=st.integers(3, 24), data=st.data())
async def test_random_lives_of_an_order_keep_the_invariants(
    servers: Servers, start: Start, length: int, data: st.DataObject
) -> None:
    SEQUENCES_RUN.append(length)
    env = await servers.get()
    try:
        await live(env, start, data, length)
    except Exception:
        await servers.discard()
        raise

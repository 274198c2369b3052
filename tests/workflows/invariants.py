"""What must hold of an order at every point the `status` query can see, and at its end.

Each check returns the violations it found, as sentences (empty: fine), so that a property
test can report all of them for the sequence that broke them.
"""

from __future__ import annotations

from hub.domain.holds import RESOLUTIONS, Action, HoldCode
from hub.domain.status import FulfilmentStatus, OrderStage, can_transition
from hub.workflows.contracts import OrderState
from tests.workflows.fakes import FakeWorld

_F = FulfilmentStatus
HANDED_OVER = frozenset({_F.SHIPPED, _F.DELIVERED, _F.FAILED, _F.RETURNED})
ENDED_WITHOUT_DELIVERY = frozenset({OrderStage.CANCELLED, OrderStage.CLOSED})


def always(state: OrderState, world: FakeWorld) -> list[str]:
    """Invariants of every observable state."""
    found: list[str] = []
    found += stage_log_is_legal(state)
    found += hold_is_actionable(state)
    found += releases_at_most_once(world)
    found += labels_accounted(state, world)
    found += notices_once(state, world)
    found += [f"warehouse anomaly: {a}" for a in world.anomalies]
    confirmed_twice = [sid for sid, n in world.confirmed.items() if n > 1]
    if confirmed_twice:
        found.append(f"shipments confirmed to the channel more than once: {confirmed_twice}")
    return found


def at_end(state: OrderState, world: FakeWorld) -> list[str]:
    """Invariants of a terminal order."""
    found = always(state, world)
    if not state.stage.is_terminal:
        return [*found, f"order not terminal: {state.stage.value}"]
    keys = state.reservation_keys
    if state.stage in ENDED_WITHOUT_DELIVERY:
        for key in keys:
            if world.releases[key] != 1:
                found.append(
                    f"{state.stage.value} order: reservation {key} released "
                    f"{world.releases[key]} times, not once"
                )
    for key in keys:
        if world.claimed(key):
            found.append(
                f"{state.stage.value} order still claims {world.claimed(key)} units of {key}"
            )
    for shipment in state.shipments:
        if shipment.status not in HANDED_OVER and world.units_out(shipment.shipment_id):
            found.append(
                f"{shipment.shipment_id} ({shipment.status.value}) holds "
                f"{world.units_out(shipment.shipment_id)} picked units that were never put back"
            )
    if state.stage is OrderStage.COMPLETED:
        delivered = [s for s in state.shipments if s.status is _F.DELIVERED]
        if not delivered:
            found.append("completed without any delivered shipment")
    return found


def stage_log_is_legal(state: OrderState) -> list[str]:
    found: list[str] = []
    previous = OrderStage.RECEIVED
    for timing in state.stage_log:
        if not can_transition(previous, timing.stage):
            found.append(f"illegal stage move {previous.value} -> {timing.stage.value}")
        previous = timing.stage
    if previous is not state.stage:
        found.append(f"stage {state.stage.value} but the log ends at {previous.value}")
    return found


def hold_is_actionable(state: OrderState) -> list[str]:
    hold = state.hold
    if hold is None:
        return []
    found: list[str] = []
    if state.stage is not OrderStage.ON_HOLD:
        found.append(f"hold {hold.code.value} while at stage {state.stage.value}")
    if hold.code is HoldCode.HUB_ERROR:
        found.append(f"hub_error hold (a bug in the workflow's rules): {hold.message}")
    actions = RESOLUTIONS.get(hold.code, ())
    if not actions:
        found.append(f"hold {hold.code.value} has no resolving action")
    missing = [a.value for a in actions if not _named(a, state.details)]
    if missing:
        found.append(
            f"held for {hold.code.value} but the details do not name {missing}: {state.details!r}"
        )
    return found


def releases_at_most_once(world: FakeWorld) -> list[str]:
    found = [f"reservation {k} released {n} times" for k, n in world.releases.items() if n > 1]
    found += [
        f"reservation {k} released again {n} time(s)" for k, n in world.release_repeats.items()
    ]
    found += [
        f"partial release {k} asked again {n} time(s)" for k, n in world.partial_repeats.items()
    ]
    return found


def labels_accounted(state: OrderState, world: FakeWorld) -> list[str]:
    """Every label bought is on a shipment still in play, or voided, or reported."""
    found: list[str] = []
    current = {s.label.label_id: s for s in state.shipments if s.label is not None}
    reported = " ".join(
        [state.details, state.cancel_reason or "", *(n.detail for n in state.after_sales)]
    )
    for label_id, record in world.labels.items():
        if world.voided[label_id] > 1:
            found.append(f"label {label_id} voided {world.voided[label_id]} times")
        shipment = current.get(label_id)
        if shipment is not None and shipment.status is not _F.CANCELLED:
            if world.voided[label_id]:
                found.append(f"label {label_id} voided but still on {shipment.shipment_id}")
            continue
        if world.voided[label_id]:
            continue
        if label_id in world.void_refusals and record.shipment_id in reported:
            continue
        found.append(
            f"label {label_id} of {record.shipment_id} neither in use, voided nor reported"
        )
    return found


def notices_once(state: OrderState, world: FakeWorld) -> list[str]:
    found = [f"notice {k} sent {n} times" for k, n in world.notices.items() if n > 1]
    repeated = sorted({k for k in state.notices_sent if state.notices_sent.count(k) > 1})
    if repeated:
        found.append(f"notices_sent lists keys twice: {repeated}")
    return found


def _named(action: Action, details: str) -> bool:
    """The details name the action by its command (`retry`) or in words (`how`, if any)."""
    how = getattr(action, "how", None)
    return action.value in details or (callable(how) and how() in details)

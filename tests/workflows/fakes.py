"""A small in-memory world behind the order workflow's activities, mocked by name.

The workflows run in the sandbox; these fakes are activities, so they run outside it, in the
test's own event loop, and share one plain Python object per test: the `FakeWorld`. It keeps
stock per SKU (what the shelf holds, what is claimed by reservations, what was picked), the
labels bought and voided, the notices sent by key, the releases per reservation key, what the
channel was told, and a carrier whose tracking answers each test scripts. Faults (an outage,
a refusal) are switched on and off per activity.

Every effect is recorded with the attempt that made it, so the invariants can tell a repeated
side effect (a bug) from a retry the fake dedupes (as the real plugins do by key).
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from hub.domain.address import Address, Contact, address_problems
from hub.domain.holds import HoldCode, HoldReason
from hub.domain.messages import (
    Allocation,
    ConfirmationReceipt,
    NoticeReceipt,
    Reservation,
    Shortage,
    TrackingUpdate,
    VoidResult,
)
from hub.domain.money import Money
from hub.domain.order import Order, OrderLine
from hub.domain.shipment import (
    CarrierChoice,
    Dimensions,
    DocumentRef,
    Label,
    LabelFormat,
    PackagingChoice,
    Parcel,
    ShipmentLine,
)
from hub.domain.status import PaymentStatus
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.workflows.contracts import (
    Activity,
    ConfirmInput,
    ErrorType,
    LabelInput,
    NoticeInput,
    PickOutcome,
    ReleaseInput,
    ReleaseOutcome,
    ReserveInput,
    ShipmentInput,
    TrackInput,
    ValidateInput,
    ValidationResult,
    VoidInput,
)
from hub.workflows.failures import NON_RETRYABLE

FAST_LOCAL_RETRY = timedelta(milliseconds=10)
WAREHOUSE = "fakewh"
CARRIER = "fakecarrier"
CATALOG = frozenset({"SKU-A", "SKU-B", "SKU-C"})
SHIP_FROM = Address(
    name="Fake Warehouse", line1="Lagerweg 1", city="Hamburg", postal_code="20095", country="DE"
)
GOOD_ADDRESS = Address(
    name="Ada L", line1="Storgatan 1", city="Stockholm", postal_code="114 55", country="SE"
)
OTHER_ADDRESS = Address(
    name="Ada L", line1="Drottninggatan 9", city="Uppsala", postal_code="753 10", country="SE"
)
BAD_ADDRESS = GOOD_ADDRESS.model_copy(update={"postal_code": "1"})
PLACED = datetime(2026, 11, 1, 12, tzinfo=UTC)
# Carrier events and promises far from the test server's clock: no delay notices by accident.
EVENT_TIME = datetime(2030, 1, 1, 9, tzinfo=UTC)
PROMISED = datetime(2100, 1, 1, tzinfo=UTC)


def make_order(
    *,
    lines: tuple[tuple[str, int], ...] = (("SKU-A", 2),),
    address: Address = GOOD_ADDRESS,
    payment: PaymentStatus = PaymentStatus.PAID,
    release_at: datetime | None = None,
    external_id: str | None = None,
    version: int = 0,
) -> Order:
    """An order with a unique id (one workflow per order on the shared test server)."""
    return Order(
        marketplace="fakemarket",
        external_id=external_id or f"T{uuid.uuid4().hex[:12]}",
        placed_at=PLACED,
        updated_at=PLACED + timedelta(minutes=version),
        currency="EUR",
        lines=tuple(
            OrderLine(
                line_id=f"L{n}",
                sku=sku,
                quantity=qty,
                unit_price=Money(amount=Decimal("10.00"), currency="EUR"),
            )
            for n, (sku, qty) in enumerate(lines, start=1)
        ),
        customer=Contact(name="Ada L", email="ada@example.com"),
        shipping_address=address,
        payment_status=payment,
        is_presale=release_at is not None,
        release_at=release_at,
    )


def next_version(order: Order, **changes: Any) -> Order:
    """The channel's next version of `order` (a later `updated_at`)."""
    assert order.updated_at is not None
    return order.model_copy(
        update={"updated_at": order.updated_at + timedelta(minutes=1), **changes}
    )


class Track(StrEnum):
    """What the fake carrier answers for a parcel."""

    NOTHING = "nothing"
    """No scan yet."""
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    RETURNED = "returned"
    """Came back to the sender (a tracking exception for the order)."""


@dataclass
class Fault:
    """Make an activity fail: `times` attempts (None: until cleared), with this error type."""

    error_type: ErrorType = ErrorType.TRANSIENT
    times: int | None = None
    message: str = "injected fault"
    only: str | None = None
    """Fail only calls whose summary (shipment id, reservation key...) contains this."""

    @property
    def non_retryable(self) -> bool:
        return self.error_type.value in NON_RETRYABLE


@dataclass
class LabelRecord:
    label: Label
    shipment_id: str
    address: Address
    attempt_id: str


@dataclass
class FakeWorld:
    stock: Counter[str] = field(default_factory=lambda: Counter({"SKU-A": 10, "SKU-B": 10}))
    """Units physically on the shelf, per SKU."""
    phantom: Counter[str] = field(default_factory=Counter)
    """Units the warehouse believes it has but cannot find (a pick of them comes up short)."""
    catalog: frozenset[str] = CATALOG
    split: bool = False
    """Reserve each order line as its own allocation (a split order: one shipment per line)."""
    parcels_per_label: int = 1
    void_refused: bool = False
    """The carrier refuses to void (already scanned): the workflow must report the label."""
    default_track: Track = Track.DELIVERED
    tracking: dict[str, Track] = field(default_factory=dict)
    """Per tracking number, overriding `default_track`."""
    faults: dict[Activity, Fault] = field(default_factory=dict)

    # ---- what happened
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(activity, one-line summary) for every attempt, failed or not."""
    claims: dict[str, Counter[str]] = field(default_factory=dict)
    """Per reservation key: reserved units not picked, per line id."""
    claim_skus: dict[str, dict[str, str]] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    releases: Counter[str] = field(default_factory=Counter)
    """Whole releases per reservation key that moved stock (more than one is a bug)."""
    release_repeats: Counter[str] = field(default_factory=Counter)
    """Whole releases asked again for a key already released (deduped here, as a WMS would)."""
    partial_releases: Counter[str] = field(default_factory=Counter)
    """Partial releases per release id that moved stock."""
    partial_repeats: Counter[str] = field(default_factory=Counter)
    anomalies: list[str] = field(default_factory=list)
    """Requests the warehouse would refuse: releasing more than is reserved, picking more..."""
    picked: dict[str, Counter[str]] = field(default_factory=dict)
    """Per shipment: picked units per line id (left the building once the shipment shipped)."""
    shipment_key: dict[str, str] = field(default_factory=dict)
    shipment_skus: dict[str, dict[str, str]] = field(default_factory=dict)
    pick_answers: dict[tuple[str, int], PickOutcome] = field(default_factory=dict)
    put_back: Counter[str] = field(default_factory=Counter)
    restocked: Counter[str] = field(default_factory=Counter)
    labels: dict[str, LabelRecord] = field(default_factory=dict)
    """Bought labels by label id."""
    label_by_key: dict[str, str] = field(default_factory=dict)
    voided: Counter[str] = field(default_factory=Counter)
    void_refusals: list[str] = field(default_factory=list)
    quotes: list[tuple[str, Address]] = field(default_factory=list)
    """(shipment id, address) for every carrier quote answered."""
    confirmed: Counter[str] = field(default_factory=Counter)
    """Shipment confirmations the channel recorded, per shipment id (idempotent there)."""
    notices: Counter[str] = field(default_factory=Counter)
    """Notices sent (delivered to the notifier without error), per notice key."""
    notice_kinds: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    validated: list[Order] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # ----------------------------------------------------------------- test controls

    def restock(self, sku: str, units: int) -> None:
        self.stock[sku] += units
        self.restocked[sku] += units

    def shrink(self, sku: str, units: int) -> None:
        """Units vanish from the shelf without the warehouse knowing: the next pick is short."""
        gone = min(units, self.stock[sku])
        self.stock[sku] -= gone
        self.phantom[sku] += gone

    def fail(self, name: Activity, fault: Fault | None = None) -> None:
        self.faults[name] = fault or Fault()

    def heal(self, name: Activity) -> None:
        self.faults.pop(name, None)

    def attempts(self, name: Activity) -> int:
        return sum(1 for n, _ in self.calls if n == name.value)

    @property
    def tracking_numbers(self) -> list[str]:
        return [n for r in self.labels.values() for n in r.label.tracking_numbers]

    def claimed(self, key: str) -> int:
        return sum(self.claims.get(key, Counter()).values())

    def units_out(self, shipment_id: str) -> int:
        return sum(self.picked.get(shipment_id, Counter()).values())

    # ----------------------------------------------------------------- the activities

    def activities(self) -> list[Any]:
        return [
            self.validate_order,
            self.reserve_stock,
            self.release_stock,
            self.pick_shipment,
            self.pack_shipment,
            self.choose_carrier,
            self.buy_label,
            self.void_label,
            self.confirm_shipment,
            self.track_shipment,
            self.notify_customer,
        ]

    def _enter(self, name: Activity, summary: str) -> None:
        self.calls.append((name.value, summary))
        fault = self.faults.get(name)
        if fault is None or (fault.only is not None and fault.only not in summary):
            return
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.pop(name, None)
        # A local attempt's backoff is real time in the worker (the server cannot skip it):
        # let the quick local attempts fail fast, as a carrier's Retry-After would. The regular
        # activity the workflow falls back to keeps the server's backoff, which time skips.
        local = activity.in_activity() and activity.info().is_local
        raise ApplicationError(
            f"{name.value}: {fault.message}",
            type=fault.error_type.value,
            non_retryable=fault.non_retryable,
            next_retry_delay=FAST_LOCAL_RETRY if local and not fault.non_retryable else None,
        )

    @activity.defn(name=Activity.VALIDATE.value)
    async def validate_order(self, input: ValidateInput) -> ValidationResult:
        self._enter(Activity.VALIDATE, input.order.key)
        order = input.order
        self.validated.append(order)
        holds: list[HoldReason] = []
        unknown = [line for line in order.lines if line.sku not in self.catalog]
        if unknown:
            listed = ", ".join(f"{line.sku} (line {line.line_id})" for line in unknown)
            holds.append(HoldReason(code=HoldCode.UNKNOWN_SKU, message=f"unknown SKU: {listed}"))
        problems = address_problems(order.shipping_address)
        if problems:
            holds.append(
                HoldReason(
                    code=HoldCode.INVALID_ADDRESS,
                    message="shipping address: " + "; ".join(problems),
                )
            )
        if order.payment_status.value in input.hold_payment_statuses:
            holds.append(
                HoldReason(code=HoldCode.UNPAID, message=f"payment is {order.payment_status}")
            )
        return ValidationResult(holds=tuple(holds))

    @activity.defn(name=Activity.RESERVE.value)
    async def reserve_stock(self, input: ReserveInput) -> Reservation:
        key = input.reservation_key
        self._enter(Activity.RESERVE, key)
        if key in self.reservations:
            return self.reservations[key]  # reserving a key twice reserves once
        lines = tuple(
            ShipmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
            for line in input.order.lines
        )
        wanted: Counter[str] = Counter()
        for line in lines:
            wanted[line.sku] += line.quantity
        shortages = tuple(
            Shortage(sku=sku, requested=qty, available=max(self._free(sku), 0))
            for sku, qty in sorted(wanted.items())
            if self._free(sku) < qty
        )
        if shortages:
            return Reservation(reservation_key=key, shortages=shortages)
        self.claims[key] = Counter({line.line_id: line.quantity for line in lines})
        self.claim_skus[key] = {line.line_id: line.sku for line in lines}
        groups = [(line,) for line in lines] if self.split else [lines]
        reservation = Reservation(
            reservation_key=key,
            allocations=tuple(
                Allocation(warehouse=WAREHOUSE, ship_from=SHIP_FROM, lines=group)
                for group in groups
            ),
        )
        self.reservations[key] = reservation
        return reservation

    def _free(self, sku: str) -> int:
        believed = self.stock[sku] + self.phantom[sku]
        claimed = sum(
            qty
            for key, claim in self.claims.items()
            for line_id, qty in claim.items()
            if self.claim_skus[key][line_id] == sku
        )
        return believed - claimed

    @activity.defn(name=Activity.RELEASE.value)
    async def release_stock(self, input: ReleaseInput) -> ReleaseOutcome:
        key = input.reservation_key
        self._enter(Activity.RELEASE, f"{key} lines={len(input.lines)} id={input.release_id}")
        if input.lines:
            return self._release_lines(input)
        if self.releases[key]:
            self.release_repeats[key] += 1
            return ReleaseOutcome()
        claim = self.claims.get(key, Counter())
        released = sum(claim.values())
        self.claims[key] = Counter()
        put_back = 0
        for sid, owner in self.shipment_key.items():
            if owner != key or sid in input.kept_shipments:
                continue
            units = self.picked.get(sid, Counter())
            for line_id, qty in units.items():
                self.stock[self.shipment_skus[sid][line_id]] += qty
                put_back += qty
            if units:
                self.put_back[sid] += 1
            self.picked[sid] = Counter()
        self.releases[key] += 1
        return ReleaseOutcome(released_units=released, put_back_units=put_back)

    def _release_lines(self, input: ReleaseInput) -> ReleaseOutcome:
        if not input.release_id:
            self.anomalies.append(f"partial release of {input.reservation_key} without an id")
            return ReleaseOutcome()
        if self.partial_releases[input.release_id]:
            self.partial_repeats[input.release_id] += 1
            return ReleaseOutcome()
        claim = self.claims.setdefault(input.reservation_key, Counter())
        released = 0
        for line in input.lines:
            if claim[line.line_id] < line.quantity:
                self.anomalies.append(
                    f"release {input.release_id}: {line.line_id} x{line.quantity} but only "
                    f"{claim[line.line_id]} reserved unpicked"
                )
            take = min(claim[line.line_id], line.quantity)
            claim[line.line_id] -= take
            released += take
        self.partial_releases[input.release_id] += 1
        return ReleaseOutcome(released_units=released)

    @activity.defn(name=Activity.PICK.value)
    async def pick_shipment(self, input: ShipmentInput) -> PickOutcome:
        shipment = input.shipment
        sid, key = shipment.shipment_id, input.reservation_key
        self._enter(Activity.PICK, f"{sid} attempt {input.pick_attempt}")
        answered = self.pick_answers.get((sid, input.pick_attempt))
        if answered is not None:
            return answered  # the same attempt again gets the same answer
        self.shipment_key[sid] = key
        skus = self.shipment_skus.setdefault(sid, {})
        picked = self.picked.setdefault(sid, Counter())
        claim = self.claims.setdefault(key, Counter())
        short: list[ShipmentLine] = []
        for line in shipment.lines:
            skus[line.line_id] = line.sku
            need = line.quantity - picked[line.line_id]
            if need <= 0:
                continue
            if claim[line.line_id] < need:
                self.anomalies.append(
                    f"pick {sid}: {line.line_id} needs {need}, {claim[line.line_id]} reserved"
                )
            take = min(need, self.stock[line.sku])
            self.stock[line.sku] -= take
            claim[line.line_id] -= min(take, claim[line.line_id])
            picked[line.line_id] += take
            if take < need:
                short.append(line.model_copy(update={"quantity": need - take}))
        outcome = PickOutcome(
            pick_list_id=f"pl-{sid}-{input.pick_attempt}",
            short_skus=tuple(sorted({line.sku for line in short})),
            short_lines=tuple(short),
        )
        self.pick_answers[(sid, input.pick_attempt)] = outcome
        return outcome

    @activity.defn(name=Activity.PACK.value)
    async def pack_shipment(self, input: ShipmentInput) -> PackagingChoice:
        self._enter(Activity.PACK, input.shipment.shipment_id)
        parcel = Parcel(
            weight_grams=500, dimensions=Dimensions(length_mm=300, width_mm=200, height_mm=100)
        )
        return PackagingChoice(
            option_id="box-m",
            box_name="M",
            parcels=(parcel,) * self.parcels_per_label,
            co2e_grams=120,
            reason="fake packer",
        )

    @activity.defn(name=Activity.CHOOSE_CARRIER.value)
    async def choose_carrier(self, input: ShipmentInput) -> CarrierChoice:
        sid = input.shipment.shipment_id
        self._enter(Activity.CHOOSE_CARRIER, sid)
        self.quotes.append((sid, input.order.shipping_address))
        return CarrierChoice(
            carrier=CARRIER,
            service_code="std",
            service_name="Fake Standard",
            price=Money(amount=Decimal("5.00"), currency="EUR"),
            estimated_delivery=PROMISED,
            reason="the only fake carrier",
        )

    @activity.defn(name=Activity.BUY_LABEL.value)
    async def buy_label(self, input: LabelInput) -> Label:
        sid = input.shipment.shipment_id
        self._enter(Activity.BUY_LABEL, f"{sid} key {input.idempotency_key}")
        known = self.label_by_key.get(input.idempotency_key)
        if known is not None:
            return self.labels[known].label  # the carrier honours the idempotency key
        n = next(self._ids)
        label_id = f"LBL-{n}"
        numbers = tuple(f"TN{uuid.uuid4().hex[:10]}" for _ in range(self.parcels_per_label))
        label = Label(
            carrier=CARRIER,
            service_code="std",
            label_id=label_id,
            tracking_numbers=numbers,
            idempotency_key=input.idempotency_key,
            price=Money(amount=Decimal("5.00"), currency="EUR"),
            document=DocumentRef(
                uri=f"mem://{label_id}", media_type="application/pdf", sha256="0" * 64, size_bytes=1
            ),
            label_format=LabelFormat.PDF,
            created_at=EVENT_TIME,
        )
        info = activity.info()
        self.labels[label_id] = LabelRecord(
            label=label,
            shipment_id=sid,
            address=input.order.shipping_address,
            attempt_id=f"{info.workflow_run_id}/{info.activity_id}/{info.attempt}",
        )
        self.label_by_key[input.idempotency_key] = label_id
        return label

    @activity.defn(name=Activity.VOID_LABEL.value)
    async def void_label(self, input: VoidInput) -> VoidResult:
        label_id = input.label.label_id
        self._enter(Activity.VOID_LABEL, label_id)
        if label_id not in self.labels:
            self.anomalies.append(f"void of unknown label {label_id}")
        if self.void_refused:
            self.void_refusals.append(label_id)
            return VoidResult(voided=False, message="already scanned by the carrier")
        self.voided[label_id] += 1
        return VoidResult(voided=True)

    @activity.defn(name=Activity.CONFIRM_SHIPMENT.value)
    async def confirm_shipment(self, input: ConfirmInput) -> ConfirmationReceipt:
        sid = input.shipment.shipment_id
        self._enter(Activity.CONFIRM_SHIPMENT, sid)
        label = input.shipment.label
        if label is None or label.label_id not in self.labels:
            self.anomalies.append(f"confirm of {sid} without a bought label")
        elif label.label_id in self.voided:
            self.anomalies.append(f"confirm of {sid} with voided label {label.label_id}")
        self.confirmed[sid] += 1
        return ConfirmationReceipt(
            channel_reference=f"ful-{sid}", already_confirmed=self.confirmed[sid] > 1
        )

    @activity.defn(name=Activity.TRACK.value)
    async def track_shipment(self, input: TrackInput) -> TrackingUpdate:
        number = input.tracking_number
        self._enter(Activity.TRACK, number)
        plan = self.tracking.get(number, self.default_track)
        events: list[TrackingEvent] = []
        if plan is not Track.NOTHING:
            events.append(_event(number, TrackingStatus.IN_TRANSIT, "IT", 0))
        if plan is Track.DELIVERED:
            events.append(_event(number, TrackingStatus.DELIVERED, "DL", 1))
        if plan is Track.RETURNED:
            events.append(_event(number, TrackingStatus.RETURN_TO_SENDER, "RS", 1))
        return TrackingUpdate(events=tuple(events))

    @activity.defn(name=Activity.NOTIFY.value)
    async def notify_customer(self, input: NoticeInput) -> list[NoticeReceipt]:
        notice = input.notice
        self._enter(Activity.NOTIFY, notice.notice_key)
        self.notices[notice.notice_key] += 1
        self.notice_kinds.append((notice.notice_key, notice.kind.value, dict(notice.facts)))
        return [NoticeReceipt(notifier="fake", notice_key=notice.notice_key)]


def _event(number: str, status: TrackingStatus, code: str, hours: int) -> TrackingEvent:
    return TrackingEvent(
        tracking_number=number,
        status=status,
        carrier_code=code,
        description=status.value,
        occurred_at=EVENT_TIME + timedelta(hours=hours),
    )

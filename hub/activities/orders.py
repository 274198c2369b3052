"""The activities of the order and tracking workflows: thin calls through the plugin host.

Activities are methods of one class that receives its dependencies, so tests and workers
build it the same way. Logs carry order keys and codes only, never personal data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from hub.activities.customs import declaration
from hub.activities.errors import plugin_errors
from hub.activities.heartbeat import heartbeating
from hub.documents import MEDIA_TYPES, LocalDocumentStore
from hub.domain.address import address_problems, contact_problems
from hub.domain.carrier_choice import CarrierRules, NoEligibleQuoteError, carriers_for, choose
from hub.domain.customs import Customs, needs_customs
from hub.domain.emissions import estimate_co2e_grams
from hub.domain.holds import HoldCode, HoldReason
from hub.domain.messages import (
    ConfirmationReceipt,
    InsertRequest,
    LabelLookup,
    LabelRequest,
    NoticeReceipt,
    PackagingOption,
    PackagingRequest,
    PackConfirmation,
    PickListRequest,
    PurchasedLabel,
    Quote,
    RateRequest,
    ReleaseRequest,
    Reservation,
    ReservationRequest,
    ShipmentConfirmation,
    TrackingUpdate,
    TrackRequest,
    VoidRequest,
    VoidResult,
)
from hub.domain.shipment import (
    CarrierChoice,
    Label,
    LabelFormat,
    PackagingChoice,
    ShipmentLine,
    ShippingPaper,
    goods_value,
)
from hub.errors import AmbiguousOutcomeError, PermanentError
from hub.host import PluginHost
from hub.plugin import Family
from hub.pushes import PushBuffer
from hub.settings import CustomsSettings, PackingRules
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

log = logging.getLogger(__name__)
T = TypeVar("T")

CAPABILITY_IDEMPOTENCY_KEY = "idempotency_key"
CAPABILITY_LABEL_LOOKUP = "label_lookup"


class OrderActivities:
    def __init__(
        self,
        host: PluginHost,
        documents: LocalDocumentStore,
        carrier_rules: CarrierRules,
        packing_rules: PackingRules,
        customs: CustomsSettings | None = None,
        label_format: LabelFormat = LabelFormat.PDF,
        pushes: PushBuffer | None = None,
    ) -> None:
        """`pushes`: carrier pushes that came before their parcel's tracking started, handed in
        by `track_shipment` (None: the carrier's polled events only)."""
        self._host = host
        self._documents = documents
        self._carrier_rules = carrier_rules
        self._packing_rules = packing_rules
        self._customs = customs or CustomsSettings()
        self._label_format = label_format
        self._pushes = pushes

    def all(self) -> list[object]:
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

    # ----------------------------------------------------------------- intake and stock

    @activity.defn(name=Activity.VALIDATE.value)
    async def validate_order(self, input: ValidateInput) -> ValidationResult:
        order = input.order
        holds: list[HoldReason] = []
        skus = sorted({line.sku for line in order.lines})
        with plugin_errors(f"look up SKUs in {input.warehouse}"):
            known = {spec.sku for spec in await self._host.item_specs(input.warehouse, skus)}
        unknown = [line for line in order.lines if line.sku not in known]
        if unknown:
            listed = ", ".join(f"{line.sku} (line {line.line_id})" for line in unknown)
            holds.append(HoldReason(code=HoldCode.UNKNOWN_SKU, message=f"unknown SKU: {listed}"))
        problems = address_problems(order.shipping_address)
        problems += contact_problems(order.customer, order.shipping_address.country)
        if problems:
            holds.append(
                HoldReason(
                    code=HoldCode.INVALID_ADDRESS,
                    message="shipping address: " + "; ".join(problems),
                )
            )
        if order.payment_status.value in input.hold_payment_statuses:
            holds.append(
                HoldReason(
                    code=HoldCode.UNPAID,
                    message=f"payment is {order.payment_status.value} at {order.marketplace}",
                )
            )
        if holds:
            log.info("order %s held: %s", order.key, ",".join(h.code.value for h in holds))
        return ValidationResult(holds=tuple(holds))

    @activity.defn(name=Activity.RESERVE.value)
    async def reserve_stock(self, input: ReserveInput) -> Reservation:
        request = ReservationRequest(
            reservation_key=input.reservation_key,
            lines=tuple(
                ShipmentLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
                for line in input.order.lines
            ),
            destination_country=input.order.shipping_address.country,
        )
        with plugin_errors(f"reserve stock in {input.warehouse}"):
            return await self._host.reserve(input.warehouse, request)

    @activity.defn(name=Activity.RELEASE.value)
    async def release_stock(self, input: ReleaseInput) -> ReleaseOutcome:
        """A whole release (cancel, with put-back) or, with lines, a partial one (short ship)."""
        with plugin_errors(f"release stock in {input.warehouse}"):
            result = await self._host.release(
                input.warehouse,
                ReleaseRequest(
                    reservation_key=input.reservation_key,
                    kept_shipments=input.kept_shipments,
                    lines=input.lines,
                    release_id=input.release_id,
                ),
            )
        return ReleaseOutcome(
            released_units=result.released_units, put_back_units=result.put_back_units
        )

    # ----------------------------------------------------------------- warehouse floor

    @activity.defn(name=Activity.PICK.value)
    async def pick_shipment(self, input: ShipmentInput) -> PickOutcome:
        shipment = input.shipment
        with plugin_errors(f"pick {shipment.shipment_id} in {input.warehouse}"):
            pick_list = await self._host.pick_list(
                input.warehouse,
                PickListRequest(
                    reservation_key=input.reservation_key,
                    shipment_id=shipment.shipment_id,
                    warehouse=shipment.warehouse,
                    lines=shipment.lines,
                    attempt=input.pick_attempt,
                ),
            )
            result = await self._host.confirm_pick(input.warehouse, pick_list)
        return PickOutcome(
            pick_list_id=pick_list.pick_list_id,
            short_skus=tuple(result.short_skus),
            route_length_m=pick_list.route_length_m,
            short_lines=result.short_lines,
        )

    @activity.defn(name=Activity.PACK.value)
    async def pack_shipment(self, input: ShipmentInput) -> PackagingChoice:
        order, shipment = input.order, input.shipment
        skus = sorted({line.sku for line in shipment.lines})
        with plugin_errors(f"pack {shipment.shipment_id}"):
            specs = {s.sku: s for s in await self._host.item_specs(input.warehouse, skus)}
            inserts = await self._host.inserts(
                InsertRequest(
                    order_key=order.key,
                    marketplace=order.marketplace,
                    destination_country=order.shipping_address.country,
                    order_total=order.total,
                    is_gift=order.is_gift,
                    tags=order.tags,
                )
            )
            options = await self._host.packaging_options(
                PackagingRequest(
                    shipment_id=shipment.shipment_id,
                    items=tuple((specs[line.sku], line.quantity) for line in shipment.lines),
                    destination_country=order.shipping_address.country,
                    minimal_packaging=order.minimal_packaging,
                    insert_weight_grams=sum(i.weight_grams for i in inserts),
                )
            )
            option, reason = self._choose_packaging(options, order.minimal_packaging)
            assert shipment.pick_list_id is not None
            result = await self._host.confirm_pack(
                input.warehouse,
                PackConfirmation(
                    pick_list_id=shipment.pick_list_id,
                    shipment_id=shipment.shipment_id,
                    warehouse=shipment.warehouse,
                    parcels=option.parcels,
                    packaging_option_id=option.option_id,
                    inserts=tuple(i.insert_id for i in inserts),
                ),
            )
        if not result.verified:
            raise ApplicationError(
                f"pack verification failed for {shipment.shipment_id}: {result.message}",
                type=ErrorType.PERMANENT.value,
                non_retryable=True,
            )
        return PackagingChoice(
            option_id=option.option_id,
            box_name=option.box_name,
            parcels=option.parcels,
            co2e_grams=option.co2e_grams,
            inserts=tuple(i.insert_id for i in inserts),
            reason=reason,
        )

    def _choose_packaging(
        self, options: list[PackagingOption], minimal_opt_in: bool
    ) -> tuple[PackagingOption, str]:
        candidates = [o for o in options if minimal_opt_in or not o.minimal]
        if minimal_opt_in and any(o.minimal for o in candidates):
            candidates = [o for o in candidates if o.minimal]
        if not candidates:
            raise PermanentError("no packaging option fits this shipment")
        if self._packing_rules.prefer == "cheapest":
            best = min(candidates, key=lambda o: (o.cost.amount, o.co2e_grams, o.option_id))
        else:
            best = min(candidates, key=lambda o: (o.co2e_grams, o.cost.amount, o.option_id))
        why = "customer opted in to minimal packaging; " if best.minimal else ""
        return best, f"{why}{self._packing_rules.prefer} of {len(candidates)} option(s)"

    # ----------------------------------------------------------------- carriers

    @activity.defn(name=Activity.CHOOSE_CARRIER.value)
    async def choose_carrier(self, input: ShipmentInput) -> CarrierChoice:
        order, shipment = input.order, input.shipment
        assert shipment.packaging is not None
        request = RateRequest(
            shipment_id=shipment.shipment_id,
            ship_from=shipment.ship_from,
            ship_to=order.shipping_address,
            parcels=shipment.packaging.parcels,
            service_level=order.service_level,
            ship_date=datetime.now(UTC),
            deliver_by=order.deliver_by,
            declared_value=goods_value(order, shipment),
        )
        destination = order.shipping_address.country
        carriers = carriers_for(destination, self._host.names(Family.CARRIERS), self._carrier_rules)
        answers = await asyncio.gather(
            *(self._host.quote(c, request) for c in carriers), return_exceptions=True
        )
        quotes: list[Quote] = []
        failures: list[str] = []
        transient = False
        for carrier, answer in zip(carriers, answers, strict=True):
            if isinstance(answer, BaseException):
                failures.append(f"{carrier}: {answer}")
                transient = transient or not isinstance(answer, PermanentError)
                log.warning(
                    "quote from %s failed for %s: %s", carrier, shipment.shipment_id, answer
                )
            else:
                quotes.extend(with_co2e_estimate(q, request) for q in answer)
        try:
            return choose(
                quotes,
                self._carrier_rules,
                service_level=order.service_level,
                deliver_by=order.deliver_by,
                label_format=self._label_format,
            )
        except NoEligibleQuoteError as exc:
            detail = f" ({'; '.join(failures)})" if failures else ""
            if transient and not quotes:
                # A carrier may be down: let Temporal retry before holding for a person.
                raise ApplicationError(
                    f"no carrier could quote{detail}", type=ErrorType.TRANSIENT.value
                ) from None
            raise ApplicationError(
                f"no carrier fits {shipment.shipment_id} to {destination}: {exc}{detail}",
                type=ErrorType.PERMANENT.value,
                non_retryable=True,
            ) from None

    @activity.defn(name=Activity.BUY_LABEL.value)
    async def buy_label(self, input: LabelInput) -> Label:
        """Buy exactly one label per idempotency key, whatever retries and crashes happen, as
        the carrier choice says: its service, eco option and label format.

        The key is in the activity's input, so Temporal has recorded it before the call.
        Carriers that honour the key dedupe a repeat themselves; for the others an earlier
        label is looked up first, and where neither is possible a retry holds for a person.
        After an ambiguous failure the hub reconciles by lookup, never by buying again.
        """
        shipment, order = input.shipment, input.order
        assert shipment.carrier is not None and shipment.packaging is not None
        choice = shipment.carrier
        carrier = choice.carrier
        capabilities = self._host.plugin(Family.CARRIERS, carrier).capabilities
        lookup = LabelLookup(
            idempotency_key=input.idempotency_key, shipment_id=shipment.shipment_id
        )
        action = f"buy {carrier} label for {shipment.shipment_id}"
        with plugin_errors(action):
            if CAPABILITY_IDEMPOTENCY_KEY not in capabilities:
                # The carrier cannot dedupe for us: look for an earlier attempt's label first.
                if CAPABILITY_LABEL_LOOKUP in capabilities:
                    existing = await self._host.find_label(carrier, lookup)
                    if existing is not None:
                        log.info(
                            "label for %s already bought; not buying again", shipment.shipment_id
                        )
                        return self._store(carrier, input.idempotency_key, existing)
                elif activity.info().attempt > 1 or input.resumed:
                    raise _uncertain(action, "an earlier attempt ended without an answer")
            customs = await self._customs_for(input)
            request = LabelRequest(
                idempotency_key=input.idempotency_key,
                shipment_id=shipment.shipment_id,
                order_reference=order.key,
                service_code=choice.service_code,
                ship_from=shipment.ship_from,
                ship_to=order.shipping_address,
                recipient=order.customer,
                parcels=shipment.packaging.parcels,
                declared_value=goods_value(order, shipment),
                ship_date=datetime.now(UTC),
                customs=customs,
                label_format=choice.label_format or self._label_format,
                eco_option=choice.eco_option,
            )
            try:
                async with heartbeating():
                    purchased = await _uninterrupted(self._host.buy_label(carrier, request))
            except AmbiguousOutcomeError as exc:
                found = None
                if CAPABILITY_LABEL_LOOKUP in capabilities:
                    found = await self._host.find_label(carrier, lookup)
                if found is None:
                    raise _uncertain(action, str(exc)) from None
                purchased = found
        return self._store(carrier, input.idempotency_key, purchased)

    async def _customs_for(self, input: LabelInput) -> Customs | None:
        shipment = input.shipment
        if not needs_customs(shipment.ship_from.country, input.order.shipping_address.country):
            return None
        skus = sorted({line.sku for line in shipment.lines})
        with plugin_errors(f"look up customs data in {input.warehouse}"):
            specs = await self._host.item_specs(input.warehouse, skus)
        return declaration(
            input.order,
            shipment,
            specs,
            incoterm=self._customs.incoterm,
            contents=self._customs.contents,
        )

    def _store(self, carrier: str, key: str, purchased: PurchasedLabel) -> Label:
        doc, number = purchased.document, purchased.tracking_numbers[0]
        ref = self._documents.put(
            doc.content,
            name=f"label-{carrier}-{number}",
            media_type=MEDIA_TYPES[doc.label_format.value],
        )
        papers = tuple(
            ShippingPaper(
                kind=paper.kind,
                document=self._documents.put(
                    paper.content,
                    name=f"{paper.kind.value}-{carrier}-{number}-{index}",
                    media_type=MEDIA_TYPES[paper.label_format.value],
                ),
            )
            for index, paper in enumerate(purchased.papers)
        )
        return Label(
            carrier=carrier,
            service_code=purchased.service_code,
            label_id=purchased.label_id,
            tracking_numbers=purchased.tracking_numbers,
            idempotency_key=key,
            price=purchased.price,
            document=ref,
            label_format=doc.label_format,
            created_at=purchased.created_at,
            tracking_url=purchased.tracking_url,
            papers=papers,
        )

    @activity.defn(name=Activity.VOID_LABEL.value)
    async def void_label(self, input: VoidInput) -> VoidResult:
        label = input.label
        with plugin_errors(f"void {label.carrier} label {label.label_id}"):
            async with heartbeating():
                result = await self._host.void_label(
                    label.carrier,
                    VoidRequest(label_id=label.label_id, tracking_numbers=label.tracking_numbers),
                )
        if not result.voided:
            log.warning("label %s not voided: %s", label.label_id, result.message)
        return result

    @activity.defn(name=Activity.CONFIRM_SHIPMENT.value)
    async def confirm_shipment(self, input: ConfirmInput) -> ConfirmationReceipt:
        order, shipment = input.order, input.shipment
        assert shipment.label is not None and shipment.carrier is not None
        label = shipment.label
        confirmation = ShipmentConfirmation(
            marketplace=order.marketplace,
            account=order.account,
            external_id=order.external_id,
            shipment_id=shipment.shipment_id,
            carrier=label.carrier,
            carrier_name=shipment.carrier.service_name,
            service_code=label.service_code,
            tracking_number=label.tracking_number,
            tracking_url=label.tracking_url,
            shipped_at=datetime.now(UTC),
            lines=shipment.lines,
            replaces=shipment.replaces,
        )
        with plugin_errors(f"confirm {shipment.shipment_id} to {order.marketplace}"):
            return await self._host.confirm_shipment(confirmation)

    @activity.defn(name=Activity.TRACK.value)
    async def track_shipment(self, input: TrackInput) -> TrackingUpdate:
        """The carrier's events for the parcel, plus pushes buffered before its tracking began."""
        with plugin_errors(f"track {input.carrier} parcel"):
            update = await self._host.track(
                input.carrier, TrackRequest(tracking_number=input.tracking_number)
            )
        if self._pushes is None:
            return update
        # Claimed last, after everything that can fail, and per call: a retry or a replay of
        # this very call gets the same events again, so none is lost to a crash.
        info = activity.info()
        claim = f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
        with plugin_errors(f"read buffered {input.carrier} pushes"):
            pushed = await asyncio.to_thread(
                self._pushes.take, input.carrier, input.tracking_number, claim
            )
        if not pushed:
            return update
        return update.model_copy(update={"events": (*update.events, *pushed)})

    @activity.defn(name=Activity.NOTIFY.value)
    async def notify_customer(self, input: NoticeInput) -> list[NoticeReceipt]:
        with plugin_errors(f"notify customer ({input.notice.kind.value})"):
            return await self._host.notify(input.notice)


def with_co2e_estimate(quote: Quote, request: RateRequest) -> Quote:
    """Quotes without the carrier's own CO2e figure get the hub's GLEC estimate, so carriers
    compare on one basis when the seller chooses by emissions."""
    if quote.co2e_grams is not None:
        return quote
    weight = sum(parcel.weight_grams for parcel in request.parcels)
    estimate = estimate_co2e_grams(request.ship_from.country, request.ship_to.country, weight)
    return quote.model_copy(update={"co2e_grams": estimate})


async def _uninterrupted(call: Awaitable[T]) -> T:
    """Finish a purchase in flight even if the activity is cancelled (the order was): cut off,
    the carrier may still charge for a label nobody knows of. Returned, the workflow voids it."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        log.info("cancel asked during a label purchase: finishing it so it can be voided")
        return await task


def _uncertain(action: str, why: str) -> ApplicationError:
    return ApplicationError(
        f"{action}: {why}; check the carrier account for a label under this shipment, "
        "then retry (buys) or cancel",
        type=ErrorType.LABEL_UNCERTAIN.value,
        non_retryable=True,
    )

"""The PostNord carrier plugin: hooks wire the pure mappings to the thin client.

- Quotes: from the configured price list (PostNord has no rating API); optionally with
  estimated arrival from the Transit Time API.
- Labels: one EDI instruction per shipment, booked and printed in one call
  (``/v3/edi/labels/{pdf|zpl}``); PostNord allocates one parcel id (tracking number) per
  parcel. Booking is not idempotent: the hub's key goes into the consignor reference (CU), and
  a record kept before the call lets a lost answer be reconciled through Track & Trace's
  search by customer number and reference (``label_lookup``).
- Voids: ``updateIndicator: "Deletion"``, which PostNord supports for PostNord Sweden (Z12)
  agreements only; elsewhere an unused label is simply not handed over (PostNord invoices a
  parcel only once it has registered it).
- Tracking: Track & Trace ``findByIdentifier``. PostNord documents no tracking push, so there
  is no ``carrier_parse_tracking_webhook``.
References per request and answer: :mod:`.booking`, :mod:`.responses`, :mod:`.tracking`,
:mod:`.transit`, :mod:`.client`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

from hub.domain.messages import (
    LabelDocument,
    LabelLookup,
    LabelRequest,
    PurchasedLabel,
    Quote,
    RateRequest,
    TrackingUpdate,
    TrackRequest,
    VoidRequest,
    VoidResult,
)
from hub.errors import AmbiguousOutcomeError, HubError, NotReadyError, PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.carriers.postnord import booking, pricing, responses, tracking, transit
from plugins.carriers.postnord.client import PostnordClient
from plugins.carriers.postnord.mapping import customer_reference
from plugins.carriers.postnord.services import DELETION_ISSUERS
from plugins.carriers.postnord.settings import PostnordSettings
from plugins.carriers.postnord.store import BookingRecord, BookingState, BookingStore

log = logging.getLogger(__name__)

TRACKING_URL = "https://tracking.postnord.com/{}/?id={}"
_TRACKING_SITE = {"Z11": "dk", "Z12": "se", "Z13": "no", "Z14": "fi"}
_ITEM_ID = re.compile(r"^[A-Za-z0-9]{1,35}$")
_RECONCILE_RETRY_SECONDS = 60.0


def checked_item_id(value: str, field: str) -> str:
    """Parcel ids go into URLs: letters and digits only."""
    if not _ITEM_ID.fullmatch(value):
        raise PermanentError(f"{field}: {value[:40]!r} is not a PostNord parcel id")
    return value


class PostnordCarrier(HubPlugin[PostnordSettings]):
    """PostNord (Sweden, Denmark, Norway, Finland) through developer.postnord.com's APIs."""

    family = Family.CARRIERS
    name = "postnord"
    settings_model = PostnordSettings
    capabilities = frozenset({"label_lookup"})
    """Bookings are found again by their consignor reference (the hub's idempotency key)."""

    def __init__(self, settings: PostnordSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = PostnordClient(settings)
        self.store = BookingStore(self.state_dir / "bookings")
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ quotes

    @hookimpl
    async def carrier_quote(self, request: RateRequest) -> list[Quote]:
        settings = self.settings
        if not (settings.transit_times and transit.applies(request)):
            return pricing.quotes(request, settings)
        try:
            payload = await self.client.transit_times(transit.transit_params(request, settings))
            verdicts = transit.parse_transit(payload, request, settings)
        except HubError as exc:
            # Arrival estimates only enrich the price list's quotes: never fail a quote on them.
            log.warning(
                "PostNord transit times for %s unavailable (%s); quoting without them",
                request.shipment_id,
                type(exc).__name__,
            )
            return pricing.quotes(request, settings)
        return pricing.quotes(request, settings, verdicts)

    # ------------------------------------------------------------------ labels

    @hookimpl
    async def carrier_buy_label(self, request: LabelRequest) -> PurchasedLabel:
        settings = self.settings
        fmt = booking.checked_format(request.label_format)
        booking.checked_service(request, settings)
        reference = customer_reference(request.idempotency_key)
        earlier = await self.carrier_find_label(
            LabelLookup(idempotency_key=request.idempotency_key, shipment_id=request.shipment_id)
        )
        if earlier is not None:  # booked before under this key: never book twice
            log.info("PostNord booking %s already made; not booking again", reference)
            return earlier
        price = pricing.label_price(
            request.service_code, request.ship_to.country, request.parcels, settings
        )
        now = self.clock()
        body = booking.edi_instruction(request, settings, reference=reference, price=price, now=now)
        params = booking.label_params(fmt, request.ship_to.country, settings)
        record = BookingRecord(
            reference=reference,
            state=BookingState.PENDING,
            service_code=request.service_code,
            label_format=fmt,
            price=price,
            parcels=len(request.parcels),
            consignor=body["shipment"][0]["parties"]["consignor"],
            created_at=now,
        )
        await self._save(record)
        try:
            payload = await self.client.book(fmt, body, params, reference=reference)
        except AmbiguousOutcomeError:
            raise  # the record stays pending: carrier_find_label reconciles it
        except HubError:
            await self._save(record.model_copy(update={"state": BookingState.FAILED}))
            raise
        try:
            answer = responses.read_label_response(payload)
            made = responses.booked(answer, len(request.parcels))
        except responses.BookingRefused:
            await self._save(record.model_copy(update={"state": BookingState.FAILED}))
            raise
        except responses.UnreadableAnswer as exc:
            raise AmbiguousOutcomeError(
                f"PostNord answered booking {reference} for {request.shipment_id} in a way "
                f"that cannot be read ({exc}); reconcile by its reference"
            ) from None
        record = record.model_copy(
            update={
                "state": BookingState.BOOKED,
                "shipment_id": made.shipment_id,
                "item_ids": made.item_ids,
                "print_ids": made.print_ids,
                "tracking_url": made.tracking_url,
            }
        )
        await self._save(record)
        log.info(
            "PostNord booking %s for %s: parcels %s",
            reference,
            request.shipment_id,
            ", ".join(made.item_ids),
        )
        try:
            content = responses.label_document(answer.labelPrintout, fmt)
        except responses.UnreadableAnswer as exc:
            # Booked: the labels can be printed again by parcel id (carrier_find_label).
            raise AmbiguousOutcomeError(
                f"PostNord booked {reference} (parcels {', '.join(made.item_ids)}) but its "
                f"label cannot be used: {exc}"
            ) from None
        return self._purchased(record, content)

    @hookimpl
    async def carrier_find_label(self, lookup: LabelLookup) -> PurchasedLabel | None:
        """The label booked under this key. Only bookings this hub attempted are looked for:
        with no record, nothing was sent. A booking whose answer was lost is searched for in
        Track & Trace by customer number and reference; PostNord needs a moment to show a new
        booking there, so a young one is asked about again later (NotReadyError) before it
        is concluded that the booking was not made."""
        reference = customer_reference(lookup.idempotency_key)
        record = await self._load(reference)
        if record is None or record.state in (BookingState.FAILED, BookingState.CANCELLED):
            return None
        if record.state is BookingState.PENDING:
            found = await self._reconcile(record, lookup.shipment_id)
            if found is None:
                return None
            record = found
        ids = record.print_ids or record.item_ids
        body, params = booking.reprint_request(ids, record.label_format, self.settings)
        payload = await self.client.labels_by_ids(record.label_format, body, params)
        try:
            content = responses.label_document(
                responses.read_printouts(payload), record.label_format
            )
        except responses.UnreadableAnswer as exc:
            raise PermanentError(
                f"PostNord booking {reference} exists (parcels {', '.join(record.item_ids)}) "
                f"but its labels cannot be printed again: {exc}"
            ) from None
        log.info("PostNord booking %s found for %s", reference, lookup.shipment_id)
        return self._purchased(record, content)

    async def _reconcile(self, record: BookingRecord, shipment_id: str) -> BookingRecord | None:
        reference = record.reference
        payload = await self.client.find_by_reference(self.settings.customer_number, reference)
        items = None if payload is None else tracking.booked_items(payload, reference)
        if items is None:
            age = (self.clock() - record.created_at).total_seconds()
            if age < self.settings.reconcile_grace_seconds:
                raise NotReadyError(
                    f"PostNord shows no booking {reference} for {shipment_id} yet",
                    retry_after=_RECONCILE_RETRY_SECONDS,
                )
            log.warning("PostNord booking %s for %s was not made", reference, shipment_id)
            await self._save(record.model_copy(update={"state": BookingState.FAILED}))
            return None
        for item in items:
            checked_item_id(item, "TrackingInformationResponse.shipments.items.itemId")
        if len(items) != record.parcels:
            raise PermanentError(
                f"PostNord booking {reference} has {len(items)} parcels ({', '.join(items)}), "
                f"not {record.parcels}: check it by hand"
            )
        found = record.model_copy(update={"state": BookingState.BOOKED, "item_ids": items})
        await self._save(found)
        return found

    def _purchased(self, record: BookingRecord, content: bytes) -> PurchasedLabel:
        site = _TRACKING_SITE[self.settings.issuer_code]
        return PurchasedLabel(
            label_id=record.reference,
            service_code=record.service_code,
            tracking_numbers=record.item_ids,
            price=record.price,
            document=LabelDocument(label_format=record.label_format, content=content),
            tracking_url=record.tracking_url or TRACKING_URL.format(site, record.item_ids[0]),
            created_at=record.created_at,
        )

    # ------------------------------------------------------------------ voids

    @hookimpl
    async def carrier_void_label(self, request: VoidRequest) -> VoidResult:
        record = await self._load(request.label_id)
        if record is None:
            raise PermanentError(
                f"PostNord label {request.label_id}: no booking record in this hub's data "
                "directory, so its cancellation cannot be built; cancel it in PostNord's portal"
            )
        if record.state is BookingState.CANCELLED:
            return VoidResult(voided=True, message=f"{record.reference}: already cancelled")
        if record.state is not BookingState.BOOKED:
            raise PermanentError(
                f"PostNord label {record.reference}: the booking is {record.state.value}; "
                "find the label first"
            )
        if self.settings.issuer_code not in DELETION_ISSUERS:
            raise PermanentError(
                f"PostNord cancels EDI bookings only under PostNord Sweden (Z12) agreements, "
                f"not {self.settings.issuer_code}: do not hand over parcels "
                f"{', '.join(record.item_ids)}; PostNord invoices a parcel only once it has "
                "registered it"
            )
        body = booking.deletion_instruction(
            settings=self.settings,
            reference=record.reference,
            service_code=record.service_code,
            consignor_party=record.consignor,
            shipment_id=record.shipment_id,
            item_ids=record.item_ids,
            now=self.clock(),
        )
        payload = await self.client.delete(body, reference=record.reference)
        result = responses.deletion_result(payload, record.item_ids)
        if result.cancelled:
            await self._save(record.model_copy(update={"state": BookingState.CANCELLED}))
        log.info("PostNord cancellation of %s: cancelled=%s", record.reference, result.cancelled)
        return VoidResult(voided=result.cancelled, message=f"{record.reference}: {result.message}")

    # ------------------------------------------------------------------ tracking

    @hookimpl
    async def carrier_track(self, request: TrackRequest) -> TrackingUpdate:
        number = checked_item_id(request.tracking_number, "tracking_number")
        payload = await self.client.track(number)
        if payload is None:
            return TrackingUpdate(events=())  # not in Track & Trace yet
        return tracking.parse_tracking(number, payload, self.settings.timezone)

    # ------------------------------------------------------------------ records

    async def _load(self, reference: str) -> BookingRecord | None:
        return await asyncio.to_thread(self.store.load, reference)

    async def _save(self, record: BookingRecord) -> None:
        await asyncio.to_thread(self.store.save, record)

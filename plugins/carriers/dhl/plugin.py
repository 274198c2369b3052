"""The DHL Parcel DE carrier plugin: hooks wire the pure mappings to the thin client.

- Quotes: Parcel DE has no rating endpoint. Prices come from the configured price list; each
  priced product is checked by DHL's dry run (``POST /orders?validate=true``) and quoted only
  if DHL accepts it for these parcels and this address (see :mod:`.pricing`). Each quote names
  the label formats it can be bought in: several parcels only in ZPL (one document per DHL
  shipment, and only ZPL documents join); several parcels abroad are not quoted at all.
- Labels: ``POST /orders``, one DHL shipment (and shipment number) per parcel, all in one call;
  ``refNo`` carries the hub's idempotency key. DHL has no idempotency key, so a lost answer is
  ambiguous and is never resent here. If DHL refuses some parcels of a shipment, the ones it
  booked are deleted again so nothing is left billed.
- No label lookup: Parcel DE finds documents by shipment number only (``GET /orders?
  shipment=``), never by ``refNo``, so a label whose answer was lost cannot be found.
- Voids: ``DELETE /orders?shipment=`` (possible until the shipment is manifested).
- Tracking: Shipment Tracking - Unified, polled. With ``push_url`` set, each new label's
  shipment numbers are also subscribed to Shipment Tracking - Unified - Push (best effort: the
  hub polls anyway), whose messages arrive at ``/webhooks/carriers/dhl`` (see :mod:`.push`).
References per request and answer: :mod:`.mapping`, :mod:`.responses`, :mod:`.tracking`,
:mod:`.push`, :mod:`.client`.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from hub.domain.customs import needs_customs
from hub.domain.messages import (
    LabelDocument,
    LabelLookup,
    LabelRequest,
    PaperDocument,
    PurchasedLabel,
    Quote,
    RateRequest,
    TrackingUpdate,
    TrackRequest,
    VoidRequest,
    VoidResult,
    WebhookRequest,
)
from hub.domain.shipment import DocumentKind, LabelFormat
from hub.errors import AmbiguousOutcomeError, HubError, PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.carriers.dhl import mapping, pricing, push, responses, tracking
from plugins.carriers.dhl.client import DhlClient
from plugins.carriers.dhl.products import Product, serves
from plugins.carriers.dhl.settings import DhlSettings

log = logging.getLogger(__name__)


class DhlCarrier(HubPlugin[DhlSettings]):
    """DHL Paket (Post & Parcel Germany) through the Parcel DE Shipping API v2."""

    family = Family.CARRIERS
    name = "dhl"
    settings_model = DhlSettings
    capabilities = frozenset()
    """No idempotency key in the API and no lookup by reference (see the module docstring)."""

    def __init__(self, settings: DhlSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = DhlClient(settings)

    async def aclose(self) -> None:
        await self.client.aclose()

    def _shipping_day(self, requested: datetime) -> date:
        zone = self.settings.zone
        return mapping.ship_date(requested, zone, datetime.now(zone).date())

    # ------------------------------------------------------------------ quotes

    @hookimpl
    async def carrier_quote(self, request: RateRequest) -> list[Quote]:
        mapping.check_origin(request.ship_from, "ship_from")
        # What would be refused at label time is refused now, so no chosen quote fails there.
        count = len(request.parcels)
        mapping.check_declarable(request.ship_from.country, request.ship_to.country, count)
        formats = mapping.label_formats(count, self.settings)
        if not formats:
            raise PermanentError(
                f"parcels: DHL makes one label per parcel and only ZPL labels join into one "
                f"document, but [carriers.dhl] label_format is {self.settings.label_format}"
            )
        found = pricing.candidates(request, self.settings)
        if not found:
            log.info("DHL: no priced product for shipment %s", request.shipment_id)
            return []
        day = self._shipping_day(request.ship_date)
        runs = pricing.dry_runs(request, found, self.settings, day.isoformat())
        results: list[tuple[pricing.DryRun, responses.Outcome]] = []
        for start in range(0, len(runs), mapping.MAX_SHIPMENTS):
            chunk = runs[start : start + mapping.MAX_SHIPMENTS]
            body = mapping.order_body([shipment for _, shipment in chunk], self.settings)
            payload = await self.client.validate(body, shipment_id=request.shipment_id)
            what = f"DHL dry run for {request.shipment_id}"
            outcomes = responses.outcomes(payload, len(chunk), what)
            results.extend(zip((run for run, _ in chunk), outcomes, strict=True))
        return pricing.quotes(request, found, results, self.settings, day, formats)

    # ------------------------------------------------------------------ labels

    @hookimpl
    async def carrier_buy_label(self, request: LabelRequest) -> PurchasedLabel:
        settings = self.settings
        label_format = settings.label_format or request.label_format
        mapping.check_printable(len(request.parcels), label_format, settings)
        product = mapping.product_of(request.service_code)
        price = pricing.label_price(product, request.ship_to.country, request.parcels, settings)
        shipments = self._shipments(request, product)
        body = mapping.order_body(shipments, settings)
        params = mapping.order_params(label_format, settings)
        reference = str(shipments[0]["refNo"])
        payload = await self.client.create(
            body, params, shipment_id=request.shipment_id, reference=reference
        )
        booked = await self._settle(payload, len(shipments), request.shipment_id, reference)
        numbers = [o.shipment_no or "" for o in booked]
        document = await self._document(booked, label_format, request.shipment_id, numbers)
        log.info("DHL shipments %s booked for %s", ", ".join(numbers), request.shipment_id)
        await self._subscribe(numbers)
        return PurchasedLabel(
            label_id=numbers[0],
            service_code=product.code,
            tracking_numbers=tuple(numbers),
            price=price,
            document=document,
            tracking_url=settings.tracking_url.format(tracking_number=numbers[0]),
            created_at=datetime.now(UTC),
            papers=self._customs_papers(booked),
        )

    async def _subscribe(self, numbers: list[str]) -> None:
        """Best effort: a failed subscription only means the hub polls for these parcels."""
        if self.settings.push_url is None or self.settings.push_token is None:
            return
        try:
            ids = await self.client.subscribe_push(numbers)
        except HubError as exc:
            log.warning("DHL push subscription failed; polling instead: %s", exc)
            return
        except Exception:
            # The label is booked and billed: no fault here may turn it into a failed purchase.
            log.exception("DHL push subscription for %s broke; polling instead", numbers)
            return
        log.info("DHL push subscription(s) %s for %s", ", ".join(ids), ", ".join(numbers))

    async def _settle(
        self, payload: Any, count: int, shipment_id: str, reference: str
    ) -> list[responses.Outcome]:
        """The shipments DHL booked, each with its number; if it refused any parcel, the others
        are deleted again and the refusal raised (naming DHL's properties)."""
        try:
            booked = responses.outcomes(payload, count, "DHL label")
        except PermanentError as exc:
            # DHL said yes to the request: labels may exist, so never let this read as "none".
            raise AmbiguousOutcomeError(
                f"DHL label for {shipment_id} (refNo {reference}): the answer cannot be read: {exc}"
            ) from None
        if any(not o.ok for o in booked):
            reasons = "; ".join(
                f"parcels.{i} {m}" if count > 1 else m
                for i, o in enumerate(booked)
                for m in o.messages
            )
            left = await self._delete_booked([o for o in booked if o.ok], shipment_id)
            if left:
                raise AmbiguousOutcomeError(
                    f"DHL refused part of {shipment_id} ({reasons}) and shipments "
                    f"{', '.join(left)} it did book could not be deleted: void them by hand"
                )
            raise PermanentError(f"DHL refused the label for {shipment_id}: {reasons}")
        if not all(o.shipment_no for o in booked):
            raise AmbiguousOutcomeError(
                f"DHL booked {shipment_id} (refNo {reference}) without shipment numbers"
            )
        for outcome in booked:
            if outcome.warnings:
                log.warning(
                    "DHL shipment %s booked with warnings on %s",
                    outcome.shipment_no,
                    ", ".join(outcome.warnings),
                )
        return booked

    def _shipments(self, request: LabelRequest, product: Product) -> list[dict[str, Any]]:
        settings = self.settings
        origin, destination = request.ship_from.country, request.ship_to.country
        mapping.check_origin(request.ship_from, "ship_from")
        if not serves(product, origin, destination):
            scope = "within Germany" if product.national else "from Germany abroad"
            raise PermanentError(f"service_code: {product.code} ships {scope} only")
        customs: dict[str, Any] | None = None
        services = mapping.eco_services(request.eco_option)
        if needs_customs(origin, destination):
            if request.customs is None:
                raise PermanentError(
                    f"customs: {origin} -> {destination} leaves the EU customs union; the label "
                    "needs a customs declaration (items with HS code, origin, value)"
                )
            mapping.check_declarable(origin, destination, len(request.parcels))
            customs, duty_services = mapping.customs_section(
                request.customs, product.code, settings
            )
            services = {**services, **duty_services}
        day = self._shipping_day(request.ship_date)
        count = len(request.parcels)
        return [
            mapping.shipment_body(
                product=product,
                parcel=parcel,
                parcel_field=f"parcels.{index}",
                ship_from=request.ship_from,
                ship_to=request.ship_to,
                contact=request.recipient,
                settings=settings,
                day=day.isoformat(),
                ref=mapping.ref_no(request.idempotency_key, index, count),
                customs=customs,
                services=services,
            )
            for index, parcel in enumerate(request.parcels)
        ]

    async def _document(
        self,
        booked: list[responses.Outcome],
        label_format: LabelFormat,
        shipment_id: str,
        numbers: list[str],
    ) -> LabelDocument:
        parts = []
        try:
            for outcome in booked:
                what = f"DHL label {outcome.shipment_no}"
                content = responses.document_bytes(outcome.label, label_format, what)
                if content is None and outcome.label and outcome.label.url:
                    content = await self.client.document(outcome.label.url, what=what)
                    responses.check_magic(content, label_format, what)
                if content is None:
                    raise responses.UnreadableLabel(f"{what}: no label content")
                parts.append(content)
            return responses.join_labels(parts, label_format)
        except (responses.UnreadableLabel, HubError) as exc:
            # DHL booked (and will bill) the shipments: the hub must reconcile, not rebuy.
            raise AmbiguousOutcomeError(
                f"DHL booked {shipment_id} as {', '.join(numbers)} but the label cannot be "
                f"read: {exc}"
            ) from None

    @staticmethod
    def _customs_papers(booked: list[responses.Outcome]) -> tuple[PaperDocument, ...]:
        """DHL Paket International returns the CN23 as its own A4 PDF, to print and attach with
        the label. The label is booked and billed whatever it holds: a missing or unreadable
        CN23 is logged (``GET /orders?shipment=`` returns the documents again)."""
        papers = []
        for outcome in booked:
            doc = outcome.customs_doc
            if doc is None:
                continue
            try:
                content = responses.document_bytes(doc, LabelFormat.PDF, "DHL customs document")
            except responses.UnreadableLabel:
                content = None
            if not content:
                log.warning("DHL shipment %s: no readable customs document", outcome.shipment_no)
                continue
            papers.append(
                PaperDocument(
                    kind=DocumentKind.CUSTOMS_DECLARATION,
                    label_format=LabelFormat.PDF,
                    content=content,
                )
            )
        return tuple(papers)

    async def _delete_booked(self, booked: list[responses.Outcome], shipment_id: str) -> list[str]:
        """Part of a shipment was refused: delete the parcels DHL did book, so a failed purchase
        leaves nothing to be billed. Returns the shipment numbers left booked."""
        numbers = [o.shipment_no for o in booked if o.shipment_no]
        if not numbers:
            return []
        try:
            result = responses.void_result(await self.client.delete(numbers), numbers)
        except HubError:
            log.exception("DHL shipments %s of %s left booked", ", ".join(numbers), shipment_id)
            return numbers
        if not result.voided:
            log.error("DHL shipments of %s left booked: %s", shipment_id, result.message)
            return numbers
        return []

    @hookimpl
    async def carrier_find_label(self, lookup: LabelLookup) -> PurchasedLabel | None:
        raise PermanentError(
            f"DHL Parcel DE cannot find the label of {lookup.shipment_id}: its API looks "
            "shipments up by shipment number only, not by reference (refNo)"
        )

    # ------------------------------------------------------------------ voids

    @hookimpl
    async def carrier_void_label(self, request: VoidRequest) -> VoidResult:
        numbers = list(dict.fromkeys(request.tracking_numbers or (request.label_id,)))
        results = []
        for start in range(0, len(numbers), mapping.MAX_SHIPMENTS):
            chunk = numbers[start : start + mapping.MAX_SHIPMENTS]
            results.append(responses.void_result(await self.client.delete(chunk), chunk))
        log.info("DHL delete of %s: voided=%s", request.label_id, all(r.voided for r in results))
        return VoidResult(
            voided=all(r.voided for r in results), message="; ".join(r.message for r in results)
        )

    # ------------------------------------------------------------------ tracking

    @hookimpl
    async def carrier_track(self, request: TrackRequest) -> TrackingUpdate:
        payload = await self.client.track(request.tracking_number)
        if payload is None:
            return TrackingUpdate(events=())  # not in DHL's tracking yet
        return tracking.parse_tracking(
            request.tracking_number,
            payload,
            self.settings.zone,
            self.settings.tracking_service,
        )

    @hookimpl
    async def carrier_parse_tracking_webhook(self, request: WebhookRequest) -> TrackingUpdate:
        settings = self.settings
        token = settings.push_token
        push.check_token(
            request.headers, settings.push_header, token.get_secret_value() if token else None
        )
        message = push.parse_push(request.body, settings.zone)
        subscription = message.subscription_id or "?"
        if message.scope is push.Scope.VALIDATE:
            assert message.secret is not None  # parse_push guarantees both for validate
            # Errors propagate. Transient (DHL down, 429): the edge answers 503 and DHL sends
            # the validate message again. Permanent (DHL refused the activation): the edge
            # answers 400 and records it in the rejects file, so ops see why the subscription
            # never went live; acknowledging it would hide that. The hub polls either way.
            await self.client.activate_push(subscription, message.secret)
            log.info("DHL push subscription %s activated", subscription)
        elif message.scope is push.Scope.READY:
            log.info("DHL push subscription %s is live", subscription)
        elif message.scope is push.Scope.FAILURE:
            log.warning("DHL push subscription %s failed: %s", subscription, message.failure)
        return message.update

"""The sandbox carrier plugin: a carrier on a compressed clock, for a hub on one machine.

It behaves like a real carrier with an idempotency key (USPS v3 style): it rates by zone and
billable weight, refuses parcels over its limits, charges once per key, prints PDF or ZPL
labels, voids labels until the first scan, answers tracking from a deterministic journey
and signs its tracking pushes. Hooks are plain functions: the host runs them in a worker
thread, and each opens its own SQLite connection (see store.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from hub.domain.customs import needs_customs
from hub.domain.messages import (
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
from hub.domain.tracking import TrackingEvent
from hub.errors import InvalidSignatureError, PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.carriers.sandbox import documents, rates, webhook
from plugins.carriers.sandbox.customs_form import render_cn23
from plugins.carriers.sandbox.settings import SandboxCarrierSettings
from plugins.carriers.sandbox.store import Charge, LabelStore, StoredLabel, VoidOutcome
from plugins.carriers.sandbox.timeline import Route, Scenarios, first_scan_at, timeline
from plugins.carriers.sandbox.tracking_numbers import new_tracking_number, parse_tracking_number
from plugins.carriers.sandbox.zones import zone_of


class SandboxCarrier(HubPlugin[SandboxCarrierSettings]):
    """Rates, labels, voids and tracking of a simulated parcel carrier (see module docstring)."""

    family = Family.CARRIERS
    name = "sandbox"
    settings_model = SandboxCarrierSettings
    capabilities = frozenset({"idempotency_key", "label_lookup"})

    def __init__(self, settings: SandboxCarrierSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.store = LabelStore(
            self.state_dir / settings.database, busy_timeout_ms=settings.busy_timeout_ms
        )
        self.store.initialise()
        self.scenarios = Scenarios(settings.delay_rate, settings.failed_attempt_rate)
        self.capabilities = frozenset(
            name
            for name, on in (
                ("idempotency_key", settings.honour_idempotency_key),
                ("label_lookup", settings.label_lookup),
            )
            if on
        )

    # ----------------------------------------------------------------- rating

    @hookimpl
    def carrier_quote(self, request: RateRequest) -> list[Quote]:
        _refuse_parcels(request)
        return rates.quotes(request, self.settings.clock_speed, documents.FORMATS)

    # ----------------------------------------------------------------- labels

    @hookimpl
    def carrier_buy_label(self, request: LabelRequest) -> PurchasedLabel:
        service = rates.SERVICES.get(request.service_code)
        if service is None:
            known = ", ".join(rates.SERVICES)
            raise PermanentError(
                f"SBX-4003: unknown service code {request.service_code!r} (known: {known})"
            )
        _refuse_parcels(request)
        if request.customs is None and needs_customs(
            request.ship_from.country, request.ship_to.country
        ):
            raise PermanentError(
                f"SBX-4006: customs: a declaration is required from {request.ship_from.country} "
                f"to {request.ship_to.country} (commodities with HS code, origin and value)"
            )
        if request.label_format not in documents.FORMATS:
            raise PermanentError(
                f"SBX-4004: label format {request.label_format.value} is not offered (PDF, ZPL)"
            )
        if request.eco_option is not None and request.eco_option not in service.eco_options:
            offered = ", ".join(service.eco_options) or "none"
            raise PermanentError(
                f"SBX-4007: eco option {request.eco_option!r} is not offered with "
                f"{service.code} (offered: {offered})"
            )
        fingerprint = request_fingerprint(request)
        if self.settings.honour_idempotency_key:
            stored = self.store.by_key(request.idempotency_key)
        else:
            # The key is kept only as the shipment's reference: every call buys a new label.
            stored = None
            suffix = secrets.token_hex(4)
            request = request.model_copy(
                update={"idempotency_key": f"{request.idempotency_key}#{suffix}"}
            )
        if stored is None:
            stored = self.store.record_purchase(self._new_label(request, service, fingerprint))
        if stored.request_sha256 != fingerprint:
            raise PermanentError(
                f"SBX-4090: idempotency key reused with a different request "
                f"(key {request.idempotency_key!r} belongs to label {stored.label_id})"
            )
        if self.settings.label_latency_seconds:
            # Charged and recorded, answer not yet sent: a caller dying now must reconcile.
            time.sleep(self.settings.label_latency_seconds)
        return stored.purchased()

    def _new_label(
        self, request: LabelRequest, service: rates.Service, fingerprint: str
    ) -> StoredLabel:
        zone = zone_of(request.ship_from.country, request.ship_to.country)
        numbers = tuple(new_tracking_number(service, zone) for _ in request.parcels)
        content = documents.contents(request, service.name, numbers)
        papers: tuple[PaperDocument, ...] = ()
        if request.customs is not None and needs_customs(
            request.ship_from.country, request.ship_to.country
        ):
            cn23 = render_cn23(request, request.customs, numbers)
            papers = (
                PaperDocument(
                    kind=DocumentKind.CUSTOMS_DECLARATION,
                    label_format=LabelFormat.PDF,
                    content=cn23,
                ),
            )
        return StoredLabel(
            idempotency_key=request.idempotency_key,
            request_sha256=fingerprint,
            label_id=f"SBL{secrets.token_hex(8).upper()}",
            shipment_id=request.shipment_id,
            service_code=service.code,
            price=rates.price(service, zone, request.parcels),
            label_format=request.label_format,
            document=documents.render(request.label_format, content),
            route=Route(
                origin_city=request.ship_from.city,
                origin_country=request.ship_from.country,
                destination_city=request.ship_to.city,
                destination_country=request.ship_to.country,
            ),
            clock_speed=self.settings.clock_speed,
            scenarios=self.scenarios,
            created_at=_now(),
            tracking_numbers=numbers,
            papers=papers,
        )

    @hookimpl
    def carrier_find_label(self, lookup: LabelLookup) -> PurchasedLabel | None:
        stored = self.store.find(lookup.idempotency_key, lookup.shipment_id)
        return None if stored is None else stored.purchased()

    @hookimpl
    def carrier_void_label(self, request: VoidRequest) -> VoidResult:
        now = _now()

        def in_network(label: StoredLabel) -> bool:
            if not set(request.tracking_numbers) <= set(label.tracking_numbers):
                raise PermanentError(
                    f"SBX-4005: tracking numbers {', '.join(request.tracking_numbers)} "
                    f"do not all belong to label {label.label_id}"
                )
            return any(
                first_scan_at(tn, label.created_at, label.clock_speed, label.route) <= now
                for tn in label.tracking_numbers
            )

        outcome = self.store.void(request.label_id, now, in_network)
        if outcome is VoidOutcome.UNKNOWN_LABEL:
            raise PermanentError(f"SBX-4040: unknown label {request.label_id}")
        if outcome is VoidOutcome.IN_NETWORK:
            return VoidResult(voided=False, message=outcome.value)
        if outcome is VoidOutcome.ALREADY_VOIDED:
            return VoidResult(voided=True, message=outcome.value)
        return VoidResult(voided=True, message="voided; the label charge is refunded")

    # ----------------------------------------------------------------- tracking

    @hookimpl
    def carrier_track(self, request: TrackRequest) -> TrackingUpdate:
        try:
            number = parse_tracking_number(request.tracking_number)
        except ValueError as exc:
            raise PermanentError(f"SBX-4006: {exc}") from None
        label = self.store.by_tracking_number(number.value)
        if label is None:
            raise PermanentError(f"SBX-4041: unknown tracking number {number.value}")
        events = timeline(
            number.value,
            label.created_at,
            _now(),
            label.clock_speed,
            label.route,
            voided_at=label.voided_at,
            scenarios=label.scenarios,
        )
        return TrackingUpdate(events=tuple(events))

    @hookimpl
    def carrier_parse_tracking_webhook(self, request: WebhookRequest) -> TrackingUpdate:
        secret = self.settings.webhook_secret.get_secret_value()
        if not webhook.is_authentic(secret, request.headers, request.body):
            raise InvalidSignatureError("invalid signature")
        return TrackingUpdate(events=tuple(webhook.decode(request.body)))

    def signed_tracking_webhook(
        self, events: Sequence[TrackingEvent]
    ) -> tuple[dict[str, str], bytes]:
        """The headers (lower-cased) and raw body of the push this carrier sends for `events`:
        for tests and the dev feed."""
        body = webhook.encode(events)
        secret = self.settings.webhook_secret.get_secret_value()
        headers = {
            "content-type": "application/json",
            webhook.SIGNATURE_HEADER: webhook.signature(secret, body),
        }
        return headers, body

    # ----------------------------------------------------------------- account (tests, CLI)

    def charges(self) -> list[Charge]:
        """The account's ledger, oldest first: a ``label`` row per purchase, ``refund`` per void."""
        return self.store.charges()


def request_fingerprint(request: LabelRequest) -> str:
    """SHA-256 of what defines the label. Left out: the key itself, and ``ship_date``, which the
    hub stamps at call time, so a retry of the same purchase would otherwise look different."""
    payload = request.model_dump(mode="json", exclude={"idempotency_key", "ship_date"})
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _refuse_parcels(request: RateRequest | LabelRequest) -> None:
    problems = rates.parcel_problems(request.parcels)
    if problems:
        raise PermanentError("; ".join(problems))


def _now() -> datetime:
    return datetime.now(UTC)

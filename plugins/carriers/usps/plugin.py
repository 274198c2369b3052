"""The USPS carrier plugin: hooks wire the pure mappings to the thin client.

- Quotes: Domestic Prices total rates, one call per parcel; domestic (US and territories) only.
- Labels: one USPS label per parcel, each with its own ``X-Idempotency-Key`` derived from the
  hub's key, so a retry after a timeout or a crash gets the same labels back unbilled. A
  multi-parcel shipment needs ZPL (labels concatenate into the one document the hub keeps), and
  its quotes say so (``Quote.label_formats``); if USPS refuses a later parcel for good, the
  labels already bought are cancelled.
- Voids: ``DELETE /labels/v3/label/{trackingNumber}`` per tracking number.
- Tracking: ``GET /tracking/v3/tracking/{trackingNumber}?expand=DETAIL``; with
  ``tracking_webhook_url`` set, USPS also pushes updates (signed ``X-HMAC``) to the hub's
  ``/webhooks/carriers/usps``: the MID is subscribed once, after the first label.
References per request and answer: see :mod:`.mapping`, :mod:`.labels`, :mod:`.tracking`,
:mod:`.subscriptions`, :mod:`.push`, :mod:`.client`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from hub.domain.messages import (
    LabelRequest,
    PurchasedLabel,
    Quote,
    RateRequest,
    TrackingUpdate,
    TrackRequest,
    VoidRequest,
    VoidResult,
    WebhookRequest,
)
from hub.errors import AmbiguousOutcomeError, HubError, PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.carriers.usps import labels, mapping, subscriptions, tracking
from plugins.carriers.usps.client import UspsClient
from plugins.carriers.usps.push import parse_push, verified_envelope
from plugins.carriers.usps.settings import UspsSettings

SUBSCRIPTION_FILE = "tracking_subscription.json"

log = logging.getLogger(__name__)


class UspsCarrier(HubPlugin[UspsSettings]):
    """USPS domestic shipping through the USPS APIs v3 (apis.usps.com)."""

    family = Family.CARRIERS
    name = "usps"
    settings_model = UspsSettings
    capabilities = frozenset({"idempotency_key"})
    """``X-Idempotency-Key``: the same key and payload return the existing label, unbilled."""

    def __init__(self, settings: UspsSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = UspsClient(settings)
        self._subscribing = asyncio.Lock()

    async def aclose(self) -> None:
        await self.client.aclose()

    @hookimpl
    async def carrier_quote(self, request: RateRequest) -> list[Quote]:
        count = len(request.parcels)
        formats = labels.label_formats(count, self.settings)
        if not formats:
            # Said at quote time: no service is quoted that cannot be labelled.
            raise PermanentError(
                f"parcels: USPS makes one label per parcel and only ZPL labels join into one "
                f"document, but [carriers.usps] label_format is {self.settings.label_format}"
            )
        bodies = mapping.rate_bodies(request, self.settings)
        answers = [
            await self.client.total_rates(body, shipment_id=request.shipment_id) for body in bodies
        ]
        return mapping.quotes(request, answers, self.settings, formats)

    @hookimpl
    async def carrier_buy_label(self, request: LabelRequest) -> PurchasedLabel:
        label_format = labels.effective_format(request, self.settings)
        labels.check_printable(len(request.parcels), label_format, self.settings)
        labels.check_eco_option(request)
        bodies = [labels.label_body(request, i, self.settings) for i in range(len(request.parcels))]
        bought: list[labels.BoughtLabel] = []
        for index, body in enumerate(bodies):
            key = labels.idempotency_uuid(request.idempotency_key, self.settings.crid, index)
            try:
                content_type, content = await self.client.create_label(
                    body, idempotency_key=key, shipment_id=request.shipment_id
                )
            except PermanentError:
                await self._cancel_partial(bought, request.shipment_id)
                raise
            try:
                bought.append(labels.parse_label(content_type, content))
            except labels.UnreadableLabel as exc:
                # USPS made (and charged) the label; asking again with the same key returns it.
                raise AmbiguousOutcomeError(
                    f"USPS label for {request.shipment_id} (X-Idempotency-Key {key}) was "
                    f"bought but its answer cannot be read: {exc}"
                ) from None
            log.info(
                "USPS label %s bought for shipment %s",
                bought[-1].metadata.trackingNumber,
                request.shipment_id,
            )
        purchased = labels.purchased_label(request, bought, label_format, datetime.now(UTC))
        try:
            await self._ensure_subscription()
        except Exception:
            # The labels are bought and billed: no fault here may turn them into a failure.
            log.exception("USPS tracking subscription broke; polling instead")
        return purchased

    async def _ensure_subscription(self) -> None:
        """Best effort, once per MID, URL and secret: without a subscription the hub polls."""
        if not self.settings.tracking_webhook_url:
            return
        wanted = subscriptions.fingerprint(self.settings)
        record = self.state_dir / SUBSCRIPTION_FILE
        async with self._subscribing:
            known = subscriptions.loads(record.read_text()) if record.exists() else None
            now = datetime.now(UTC)
            if known is not None and known.holds_for(wanted, now):
                return
            try:
                sub_id, live = await self.client.subscribe_tracking(
                    subscriptions.subscription_body(self.settings)
                )
            except HubError as exc:
                log.warning("USPS tracking subscription failed; polling instead: %s", exc)
                return
            # A live duplicate is news unless it is the subscription this record made.
            if live and not (
                known and known.fingerprint == wanted and known.subscription_id == sub_id
            ):
                log.warning(
                    "USPS already has tracking subscription %s for this listener URL; the hub "
                    "uses it. If tracking_webhook_secret changed since it was made, delete it "
                    "(DELETE %s/%s) so the next label subscribes with the new secret",
                    sub_id,
                    subscriptions.SUBSCRIPTIONS_PATH,
                    sub_id,
                )
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(subscriptions.dumps(subscriptions.Subscription(sub_id, wanted, now)))
            log.info("USPS pushes tracking of MID %s (subscription %s)", self.settings.mid, sub_id)

    async def _cancel_partial(self, bought: list[labels.BoughtLabel], shipment_id: str) -> None:
        """A later parcel was refused for good: cancel the labels already bought for the
        shipment, so a failed purchase leaves nothing billed behind."""
        for label in bought:
            number = label.metadata.trackingNumber
            try:
                await self.client.cancel_label(number)
            except Exception:  # the original refusal is what the caller must see
                log.exception("USPS label %s of shipment %s left uncancelled", number, shipment_id)

    @hookimpl
    async def carrier_void_label(self, request: VoidRequest) -> VoidResult:
        numbers = request.tracking_numbers or (request.label_id,)
        results = []
        for number in numbers:
            outcome = await self.client.cancel_label(number)
            if outcome.refused is not None:
                results.append(mapping.void_refused(number, outcome.refused))
            else:
                results.append(mapping.void_result(number, outcome.payload))
        return mapping.combine_voids(results)

    @hookimpl
    async def carrier_parse_tracking_webhook(self, request: WebhookRequest) -> TrackingUpdate:
        secret = self.settings.tracking_webhook_secret
        envelope = verified_envelope(
            request.headers, request.body, secret.get_secret_value() if secret else None
        )
        return parse_push(envelope)

    @hookimpl
    async def carrier_track(self, request: TrackRequest) -> TrackingUpdate:
        payload = await self.client.tracking(request.tracking_number)
        if payload is None:
            return TrackingUpdate(events=())  # not in USPS's system yet (label just made)
        return tracking.parse_tracking(request.tracking_number, payload)

"""The UPS carrier plugin: rates (Shop), labels (Ship), voids and tracking over UPS's REST APIs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from hub.domain.messages import (
    LabelLookup,
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
from plugins.carriers.ups import labels, mapping
from plugins.carriers.ups.client import UpsClient, trans_id_for
from plugins.carriers.ups.customs import (
    CustomsDeclaration,
    declaration_from_defaults,
    declaration_from_request,
)
from plugins.carriers.ups.services import needs_customs
from plugins.carriers.ups.settings import UpsSettings
from plugins.carriers.ups.track_alert import check_credential, parse_track_alert
from plugins.carriers.ups.tracking import parse_track_response

log = logging.getLogger(__name__)


class UpsCarrier(HubPlugin[UpsSettings]):
    family = Family.CARRIERS
    name = "ups"
    settings_model = UpsSettings
    # UPS honours no idempotency key (transId is for correlation only), and neither its Track
    # by Reference nor its Label Recovery API returns what a label cost, which a found label
    # must carry: so no lookup either. An ambiguous purchase is left to a person.
    capabilities = frozenset()

    def __init__(self, settings: UpsSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self._client = UpsClient(settings)

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------ rates

    @hookimpl
    async def carrier_quote(self, request: RateRequest) -> list[Quote]:
        mode = self.settings.carbon_neutral
        quotes = await self._shop(request, mode if mode == "always" else None)
        if mode == "offer":
            try:
                quotes += await self._shop(request, mode)
            except PermanentError:
                # Carbon neutral is an option on top: where UPS refuses it, plain rates stand.
                log.warning("UPS carbon neutral rates refused for %s", request.shipment_id)
        return quotes

    async def _shop(self, request: RateRequest, carbon_neutral: str | None) -> list[Quote]:
        """``carbon_neutral``: None for plain rates, else the mode the eco rates are for."""
        body = mapping.rate_request(
            request, self.settings, carbon_neutral=carbon_neutral is not None
        )
        payload = await self._client.rate(
            body, option=mapping.rate_option(self.settings), shipment_id=request.shipment_id
        )
        return mapping.parse_rate_response(
            payload,
            carrier=self.name,
            service_level=request.service_level,
            carbon_neutral=carbon_neutral,
            label_formats=labels.label_formats(self.settings.label_format),
        )

    # ------------------------------------------------------------------ labels

    @hookimpl
    async def carrier_buy_label(self, request: LabelRequest) -> PurchasedLabel:
        service_code, _ = mapping.split_service_code(request.service_code)
        label_format = self.settings.label_format or request.label_format
        body = mapping.ship_request(
            request,
            self.settings,
            service_code=service_code,
            carbon_neutral=mapping.ships_carbon_neutral(request, self.settings),
            customs=self._customs(request),
            label_format=label_format,
        )
        trans_id = trans_id_for(request.idempotency_key)
        log.info("buying UPS label for %s (transId %s)", request.shipment_id, trans_id)
        payload = await self._client.ship(body, trans_id=trans_id, shipment_id=request.shipment_id)
        try:
            label = mapping.parse_ship_response(
                payload,
                service_code=request.service_code,
                label_format=label_format,
                tracking_url=self.settings.tracking_url,
                now=datetime.now(UTC),
            )
        except (PermanentError, ValueError) as exc:
            # UPS said yes, so a label exists and is billed: never let this look like "no label".
            shipment = mapping.shipment_id_of(payload) or "unknown"
            raise AmbiguousOutcomeError(
                f"UPS accepted the label for {request.shipment_id} (shipment {shipment}, "
                f"transId {trans_id}) but its answer cannot be used: {exc}"
            ) from None
        log.info("UPS label %s bought for %s", label.label_id, request.shipment_id)
        await self._subscribe(list(label.tracking_numbers))
        return label

    async def _subscribe(self, tracking_numbers: list[str]) -> None:
        """Best effort: a failed subscription only means the hub polls for this parcel."""
        url, credential = self.settings.track_alert_url, self.settings.track_alert_credential
        if not url or credential is None:
            return
        try:
            accepted = await self._client.subscribe_track_alert(
                tracking_numbers, url, credential.get_secret_value()
            )
        except HubError as exc:
            log.warning("UPS Track Alert subscription failed; polling instead: %s", exc)
            return
        if set(accepted) != set(tracking_numbers):
            log.warning("UPS Track Alert refused %s", sorted(set(tracking_numbers) - set(accepted)))

    @hookimpl
    async def carrier_parse_tracking_webhook(self, request: WebhookRequest) -> TrackingUpdate:
        credential = self.settings.track_alert_credential
        check_credential(request.headers, credential.get_secret_value() if credential else None)
        return TrackingUpdate(events=(parse_track_alert(request.body),))

    def _customs(self, request: LabelRequest) -> CustomsDeclaration | None:
        origin, destination = request.ship_from.country, request.ship_to.country
        if not needs_customs(origin, destination):
            return None
        if request.customs is not None:
            try:
                return declaration_from_request(request, request.customs)
            except ValueError as exc:
                raise PermanentError(f"customs: {exc}") from None
        if self.settings.customs is None:
            raise PermanentError(
                f"customs: {origin} -> {destination} needs a commercial invoice; "
                "send a declaration or set [carriers.ups.customs] (contents, hs_code, origin)"
            )
        return declaration_from_defaults(request, self.settings.customs)

    @hookimpl
    async def carrier_find_label(self, lookup: LabelLookup) -> PurchasedLabel | None:
        raise PermanentError(
            f"UPS cannot find the label of {lookup.shipment_id}: it has no idempotency key, and "
            "its reference lookups (Track by Reference, Label Recovery) do not return the price"
        )

    @hookimpl
    async def carrier_void_label(self, request: VoidRequest) -> VoidResult:
        query = mapping.void_query(request.label_id, request.tracking_numbers)
        answer = await self._client.void(request.label_id, query)
        if not answer.accepted:
            log.warning("UPS refused to void %s", request.label_id)
            return VoidResult(voided=False, message=answer.message)
        result = mapping.parse_void_response(answer.body)
        log.info("UPS void of %s: voided=%s", request.label_id, result.voided)
        return result

    # ------------------------------------------------------------------ tracking

    @hookimpl
    async def carrier_track(self, request: TrackRequest) -> TrackingUpdate:
        payload = await self._client.track(request.tracking_number)
        if payload is None:
            return TrackingUpdate(events=())
        return parse_track_response(payload, request.tracking_number)

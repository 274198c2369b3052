"""The WooCommerce channel: signed webhooks as hints, REST polling as the truth, tracking back.

Each hook is thin: read with the client, decide with the pure modules (webhooks, events,
mapping, polling, shipping). Logs carry ids only, never names, addresses or keys.
"""

from __future__ import annotations

import logging
from datetime import datetime

from hub.domain.messages import (
    ChannelEvent,
    ConfirmationReceipt,
    FetchRequest,
    OrderPage,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.errors import PermanentError, TransientError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.marketplaces.woocommerce.client import ORDERS_ROOT, WooClient
from plugins.marketplaces.woocommerce.events import (
    gone_event,
    ignored_event,
    modified_at,
    order_event,
    required_order_id,
)
from plugins.marketplaces.woocommerce.mapping import MARKETPLACE, order_id
from plugins.marketplaces.woocommerce.polling import (
    ORDERS_PATH,
    Cursor,
    decode_token,
    encode_token,
    has_more,
    next_cursor,
    orders_query,
)
from plugins.marketplaces.woocommerce.settings import StatusMeaning, WooCommerceSettings
from plugins.marketplaces.woocommerce.shipping import (
    PROVIDERS_PATH,
    OrderState,
    all_shipped,
    check_lines,
    created_tracking,
    matching_tracking,
    order_update,
    parse,
    parse_trackings,
    provider_fields,
    provider_names,
    read_record,
    record_with,
    tracking_request,
    trackings_path,
)
from plugins.marketplaces.woocommerce.webhooks import (
    DELETED_TOPIC,
    ORDER_TOPICS,
    SIGNATURE_HEADER,
    Delivery,
    is_ping,
    read_delivery,
    signature_valid,
)

log = logging.getLogger(__name__)


class WooCommerceMarketplace(HubPlugin[WooCommerceSettings]):
    """Orders from one WooCommerce shop in, tracking numbers and completion back."""

    family = Family.MARKETPLACES
    name = MARKETPLACE
    settings_model = WooCommerceSettings

    def __init__(self, settings: WooCommerceSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = WooClient(settings)
        self._providers: list[str] | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    # ----------------------------------------------------------------- intake: webhooks

    @hookimpl
    def marketplace_verify_webhook(self, request: WebhookRequest) -> bool:
        if is_ping(request):
            return True  # nothing in it to trust or act on; parse answers it ignored
        secret = self.settings.webhook_secret.get_secret_value()
        return signature_valid(secret, request.body, request.headers.get(SIGNATURE_HEADER))

    @hookimpl
    async def marketplace_parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        if is_ping(request):
            log.info("woocommerce webhook ping acknowledged")
            return [
                ignored_event(
                    "-",
                    self.settings,
                    request.received_at,
                    key=f"ping:{request.body.strip().decode()}",
                    why="webhook ping (sent when a webhook is saved)",
                )
            ]
        delivery = read_delivery(request)
        if delivery.source_host and delivery.source_host != self.settings.store_host:
            # Signed with this shop's secret, sent by another site (a staging copy, say).
            return [
                ignored_event(
                    order_id(delivery.payload.get("id")) or "-",
                    self.settings,
                    request.received_at,
                    key=f"{delivery.topic}:{delivery.body_hash}",
                    why=f"shop not configured: {delivery.source_host}",
                )
            ]
        if delivery.topic in ORDER_TOPICS:
            return [order_event(delivery.payload, self.settings, fallback_time=request.received_at)]
        if delivery.topic == DELETED_TOPIC:
            return [await self._trashed(delivery, request)]
        return [
            ignored_event(
                order_id(delivery.payload.get("id")) or "-",
                self.settings,
                request.received_at,
                key=f"{delivery.topic}:{delivery.body_hash}",
                why=f"topic {delivery.topic} is not handled",
            )
        ]

    async def _trashed(self, delivery: Delivery, request: WebhookRequest) -> ChannelEvent:
        """``order.deleted`` says only ``{"id": N}``: read the order as it is now (it may have
        been restored since; a trashed order still reads, with status ``trash``)."""
        external_id = required_order_id(delivery.payload.get("id"))
        try:
            answer = await self.client.find("order", f"{ORDERS_ROOT}{ORDERS_PATH}/{external_id}")
        except TransientError as exc:
            # WooCommerce never redelivers, and polling does not list trashed orders: act on
            # the signed delivery rather than lose the cancellation.
            log.warning("woocommerce order %s trashed; re-read failed: %s", external_id, exc)
            return gone_event(
                external_id,
                self.settings,
                request.received_at,
                key=f"{external_id}@trash",
                why="moved to the trash on WooCommerce",
            )
        if answer is None:
            return gone_event(
                external_id,
                self.settings,
                request.received_at,
                key=f"{external_id}@deleted",
                why="deleted on WooCommerce",
            )
        if not isinstance(answer.body, dict):
            raise PermanentError("woocommerce order: answer is not a JSON object")
        return order_event(
            answer.body,
            self.settings,
            fallback_time=request.received_at,
            reason="re-read after order.deleted",
        )

    # ----------------------------------------------------------------- intake: polling

    @hookimpl
    async def marketplace_fetch_orders(self, request: FetchRequest) -> OrderPage:
        self._own_account(request.account)
        after, before = request.updated_after, request.updated_before
        cursor = decode_token(request.page_token, after, before) if request.page_token else None
        per_page = min(request.page_size, self.settings.page_size)
        answer = await self.client.get(
            "orders", ORDERS_ROOT + ORDERS_PATH, orders_query(after, before, cursor, per_page)
        )
        if not isinstance(answer.body, list):
            raise PermanentError("woocommerce orders: answer is not a JSON array")
        events: list[ChannelEvent] = []
        positions: list[tuple[str, datetime | None]] = []
        for item in answer.body:
            if not isinstance(item, dict):
                raise PermanentError("woocommerce orders: an entry is not an object")
            event = order_event(item, self.settings, fallback_time=before)
            events.append(event)
            positions.append((event.external_id, modified_at(item)))
        token = None
        if has_more(answer.headers, len(events), per_page):
            token = encode_token(self._advance(cursor, positions), after, before)
        log.info("woocommerce: %d order events, more: %s", len(events), token is not None)
        return OrderPage(events=tuple(events), next_page_token=token)

    @staticmethod
    def _advance(cursor: Cursor | None, positions: list[tuple[str, datetime | None]]) -> Cursor:
        moved = next_cursor(cursor, positions)
        if moved is None or moved == cursor:
            raise PermanentError(
                "woocommerce orders: the page moved the cursor nowhere (no date_modified_gmt, "
                "or the shop ignored 'exclude')"
            )
        return moved

    # ----------------------------------------------------------------- push-back

    @hookimpl
    async def marketplace_confirm_shipment(
        self, confirmation: ShipmentConfirmation
    ) -> ConfirmationReceipt:
        """Add the tracking item and, once every line has shipped, complete the order.

        Idempotent by looking first: a tracking item with the same number is this shipment's
        earlier confirmation (a retry after a lost answer, or a repeat), and the shipment record
        on the order says whether the status and record are already up to date.
        """
        self._own_account(confirmation.account)
        external_id = required_order_id(confirmation.external_id, "external_id")
        order_path = f"{ORDERS_ROOT}{ORDERS_PATH}/{external_id}"
        order: OrderState = parse(
            OrderState, (await self.client.get("order", order_path)).body, "woocommerce order"
        )
        if self.settings.status_meaning(order.status) is StatusMeaning.CANCELLED:
            raise PermanentError(
                f"order {external_id} is {order.status} on WooCommerce: shipment not recorded"
            )
        check_lines(order, confirmation)
        trackings = parse_trackings(await self._trackings(external_id))
        existing = matching_tracking(trackings, confirmation.tracking_number)
        if existing is not None:
            tracking_id = existing.tracking_id
        else:
            created = await self.client.post(
                "shipment_tracking_create",
                trackings_path(external_id),
                tracking_request(confirmation, await self._provider(confirmation)),
            )
            tracking_id = created_tracking(created.body).tracking_id
        meta_id, before = read_record(order)
        after = record_with(before, confirmation, tracking_id)
        update = order_update(order, meta_id, before, after, all_shipped(order, after))
        if update:
            await self.client.put("order_update", order_path, update)
        log.info(
            "shipment %s on WooCommerce order %s: tracking %s%s",
            confirmation.shipment_id,
            external_id,
            tracking_id,
            ", order completed" if update.get("status") == "completed" else "",
        )
        return ConfirmationReceipt(
            channel_reference=tracking_id, already_confirmed=existing is not None and not update
        )

    async def _trackings(self, external_id: str) -> object:
        try:
            answer = await self.client.get("shipment_trackings", trackings_path(external_id))
        except PermanentError as exc:
            if "rest_no_route" in str(exc):
                raise PermanentError(
                    f"{exc} (is the WooCommerce Shipment Tracking extension active?)"
                ) from None
            raise
        return answer.body

    async def _provider(self, confirmation: ShipmentConfirmation) -> dict[str, str]:
        overrides = self.settings.tracking_providers
        if confirmation.carrier not in overrides and self._providers is None:
            answer = await self.client.get("shipment_tracking_providers", PROVIDERS_PATH)
            self._providers = provider_names(answer.body)
        return provider_fields(confirmation, overrides, self._providers)

    def _own_account(self, account: str) -> None:
        if account not in {"default", self.settings.account_name}:
            raise PermanentError(
                f"this WooCommerce plugin serves account {self.settings.account_name}, "
                f"not {account}"
            )

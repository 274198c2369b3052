"""The eBay channel: getOrders polling is the truth, shipping fulfillments go back.

eBay sends sellers no signed order webhooks for this flow (the Notification API does not
announce new orders to a seller's own endpoint), so this plugin implements no webhook hooks and
the hub's poller brings every order and cancellation in. Each hook is thin: read with the
client, decide with the pure modules (paging, events, mapping, fulfillment). Logs carry ids
only, never names, addresses or tokens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from hub.domain.messages import (
    ChannelEvent,
    ConfirmationReceipt,
    FetchRequest,
    OrderPage,
    ShipmentConfirmation,
)
from hub.errors import PermanentError, TransientError
from hub.hookspecs import hookimpl
from hub.http import RateLimiter
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.marketplaces.ebay.client import EbayClient, FulfillmentExists
from plugins.marketplaces.ebay.events import needs_cancel_requests, order_event, order_id
from plugins.marketplaces.ebay.fulfillment import (
    carrier_code,
    channel_reference,
    fulfillment_body,
    fulfillment_id,
    read_fulfillments,
    tracking_number,
    with_tracking,
)
from plugins.marketplaces.ebay.mapping import MARKETPLACE
from plugins.marketplaces.ebay.paging import (
    decode_token,
    encode_token,
    next_cursor,
    read_page,
    resumed,
    search_params,
    search_window,
)
from plugins.marketplaces.ebay.settings import EbaySettings

log = logging.getLogger(__name__)


class EbayMarketplace(HubPlugin[EbaySettings]):
    """One eBay seller account through the Sell Fulfillment API."""

    family = Family.MARKETPLACES
    name = MARKETPLACE
    settings_model = EbaySettings

    def __init__(
        self,
        settings: EbaySettings,
        runtime: PluginRuntime,
        *,
        clock: Callable[[], datetime] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(settings, runtime)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.client = EbayClient(settings, limiter=limiter)

    async def aclose(self) -> None:
        await self.client.aclose()

    # ----------------------------------------------------------------- intake: polling

    @hookimpl
    async def marketplace_fetch_orders(self, request: FetchRequest) -> OrderPage:
        self._own_account(request.account)
        window = search_window(request, self._clock())
        if window is None:
            return OrderPage(events=())  # the window has not begun yet
        cursor = decode_token(request.page_token)
        page, orders = read_page(
            await self.client.get_orders(search_params(window, cursor, request.page_size))
        )
        again = resumed(cursor, page.total)
        if again is not None:
            log.info(
                "ebay getOrders: %d orders left the window while paging, re-reading from %d",
                (cursor.total or 0) - (page.total or 0),
                again.offset,
            )
            cursor = again
            page, orders = read_page(
                await self.client.get_orders(search_params(window, cursor, request.page_size))
            )
        events = [await self._event(raw) for raw in orders]
        after = next_cursor(page, cursor, len(orders))
        log.info(
            "ebay getOrders offset %d: %d orders of %s%s",
            cursor.offset,
            len(orders),
            page.total,
            ", more pages" if after else "",
        )
        return OrderPage(
            events=tuple(events), next_page_token=encode_token(after) if after else None
        )

    async def _event(self, raw: Mapping[str, Any]) -> ChannelEvent:
        if needs_cancel_requests(raw):
            # getOrders leaves cancelRequests empty: only getOrder says whether a pending
            # cancellation was accepted.
            detail = await self.client.get_order(order_id(raw))
            if not isinstance(detail, dict):
                raise PermanentError("getOrder: the answer is not a JSON object")
            log.info("ebay order %s: re-read for its cancel requests", order_id(raw))
            raw = detail
        return order_event(raw, self.settings)

    # ----------------------------------------------------------------- push-back

    @hookimpl
    async def marketplace_confirm_shipment(
        self, confirmation: ShipmentConfirmation
    ) -> ConfirmationReceipt:
        """Create the package's shipping fulfillment, once.

        Idempotent by asking eBay first: a fulfillment that already carries the tracking number
        is this package's earlier confirmation (a retry after a lost answer, or a repeat).
        """
        self._own_account(confirmation.account)
        order = confirmation.external_id
        tracking = tracking_number(confirmation.tracking_number)
        body = fulfillment_body(
            confirmation, carrier_code(confirmation, self.settings.carrier_codes), tracking
        )
        earlier = await self._fulfillment_with(order, tracking)
        if earlier is not None:
            log.info("shipment %s already on eBay order %s", confirmation.shipment_id, order)
            return ConfirmationReceipt(channel_reference=earlier, already_confirmed=True)
        try:
            location = await self.client.create_shipping_fulfillment(order, body)
        except FulfillmentExists:
            # eBay says the package is there although the list did not show it: believe it
            # only once the list does.
            found = await self._fulfillment_with(order, tracking)
            if found is None:
                raise
            return ConfirmationReceipt(channel_reference=found, already_confirmed=True)
        created = fulfillment_id(location)
        if created is None:
            found = await self._fulfillment_with(order, tracking)
            if found is None:
                raise TransientError(
                    "createShippingFulfillment: created without a Location and not listed yet"
                )
            reference = found
        else:
            reference = channel_reference(order, created)
        log.info(
            "shipment %s confirmed on eBay order %s as %s",
            confirmation.shipment_id,
            order,
            reference,
        )
        return ConfirmationReceipt(channel_reference=reference)

    async def _fulfillment_with(self, order: str, tracking: str) -> str | None:
        listed = read_fulfillments(await self.client.get_shipping_fulfillments(order))
        found = with_tracking(listed, tracking)
        return channel_reference(order, found.fulfillmentId) if found else None

    def _own_account(self, account: str) -> None:
        # One plugin instance serves one seller account; "default" means "this one".
        if account not in {"default", self.settings.account}:
            raise PermanentError(
                f"the ebay plugin serves account {self.settings.account!r}, not {account!r}"
            )

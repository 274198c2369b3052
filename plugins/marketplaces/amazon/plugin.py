"""The Amazon Selling Partner API marketplace plugin.

- Intake by polling: Orders API v2026-01-01 ``searchOrders`` (``orders_2026-01-01.json``).
- Push-back: Orders API v0 ``confirmShipment`` (``ordersV0.json``), one call per hub shipment.
- Notifications: SP-API pushes ``ORDER_CHANGE`` to SQS/EventBridge, not to HTTP endpoints
  (``schemas/notifications/OrderChangeNotification.json``); parse_webhook reads such a
  notification body, verify_webhook refuses direct HTTP posts.
All from github.com/amzn/selling-partner-api-models; see mapping.py, confirmation.py,
notifications.py and client.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from hub.domain.messages import (
    ChannelEvent,
    ConfirmationReceipt,
    FetchRequest,
    OrderPage,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.http import RateLimiter
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.marketplaces.amazon.client import AmazonClient, PossiblyAlreadyConfirmed
from plugins.marketplaces.amazon.confirmation import (
    channel_reference,
    confirm_shipment_body,
    confirmation_fingerprint,
    marketplace_of,
    package_detail,
    package_with_tracking,
)
from plugins.marketplaces.amazon.ledger import ConfirmationLedger, Confirmed
from plugins.marketplaces.amazon.mapping import (
    encode_page_token,
    order_event,
    parse_search_page,
    search_params,
    search_window,
)
from plugins.marketplaces.amazon.notifications import notification_events
from plugins.marketplaces.amazon.settings import AmazonSettings

log = logging.getLogger(__name__)


class AmazonMarketplace(HubPlugin[AmazonSettings]):
    """Amazon seller account (merchant-fulfilled orders) through the Selling Partner API."""

    family = Family.MARKETPLACES
    name = "amazon"
    settings_model = AmazonSettings

    def __init__(
        self,
        settings: AmazonSettings,
        runtime: PluginRuntime,
        *,
        clock: Callable[[], datetime] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        super().__init__(settings, runtime)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.client = AmazonClient(settings, limiter=limiter)
        self._ledger = ConfirmationLedger(self.state_dir / "confirmations.sqlite3")

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ notifications

    @hookimpl
    async def marketplace_verify_webhook(self, request: WebhookRequest) -> bool:
        # SP-API has no HTTP webhooks and no signature to check: notifications go to an SQS
        # queue or EventBridge bus, authenticated by AWS IAM. A direct HTTP post is refused.
        return False

    @hookimpl
    async def marketplace_parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        return notification_events(request.body, account=self.settings.account)

    # ------------------------------------------------------------------ polling

    @hookimpl
    async def marketplace_fetch_orders(self, request: FetchRequest) -> OrderPage:
        self._check_account(request.account)
        now = self._clock()
        window = search_window(request, now)
        if window is None:
            return OrderPage(events=())  # the whole window is younger than Amazon allows
        params = search_params(window, self.settings.marketplace_ids, request.page_size)
        raw_orders, next_token = parse_search_page(await self.client.search_orders(params))
        events = tuple(
            order_event(raw, account=self.settings.account, now=now) for raw in raw_orders
        )
        log.info(
            "amazon searchOrders %s..%s: %d orders%s",
            window.last_updated_after,
            window.last_updated_before,
            len(events),
            ", more pages" if next_token else "",
        )
        return OrderPage(
            events=events,
            next_page_token=encode_page_token(window, next_token) if next_token else None,
        )

    # ------------------------------------------------------------------ push-back

    @hookimpl
    async def marketplace_confirm_shipment(
        self, confirmation: ShipmentConfirmation
    ) -> ConfirmationReceipt:
        self._check_account(confirmation.account)
        account, order_id = self.settings.account, confirmation.external_id
        detail = package_detail(confirmation, carrier_codes=self.settings.carrier_codes)
        reference = str(detail["packageReferenceId"])
        fingerprint = confirmation_fingerprint(detail)
        known = await self._ledger.find(account, order_id, reference)
        if known is not None and known.fingerprint == fingerprint:
            return ConfirmationReceipt(
                channel_reference=known.channel_reference, already_confirmed=True
            )
        body = confirm_shipment_body(await self._marketplace_id(order_id), detail)
        try:
            await self.client.confirm_shipment(order_id, body)
        except PossiblyAlreadyConfirmed:
            # Believe it only if the order shows a package with our tracking number.
            answer = await self.client.get_order(order_id, ("PACKAGES",))
            found = package_with_tracking(answer, confirmation.tracking_number)
            if found is None:
                raise
            receipt = ConfirmationReceipt(
                channel_reference=channel_reference(order_id, found), already_confirmed=True
            )
        else:
            # A changed repeat (say, a corrected tracking number) edited a package Amazon had.
            receipt = ConfirmationReceipt(
                channel_reference=channel_reference(order_id, reference),
                already_confirmed=known is not None,
            )
        await self._ledger.record(
            account, order_id, reference, Confirmed(fingerprint, receipt.channel_reference)
        )
        log.info(
            "amazon order %s package %s confirmed%s",
            order_id,
            reference,
            " (already known)" if receipt.already_confirmed else "",
        )
        return receipt

    async def _marketplace_id(self, order_id: str) -> str:
        if len(self.settings.marketplace_ids) == 1:
            return self.settings.marketplace_ids[0]
        return marketplace_of(await self.client.get_order(order_id))

    def _check_account(self, account: str) -> None:
        # One plugin instance serves one selling account; "default" means "this one".
        if account not in {"default", self.settings.account}:
            raise PermanentError(
                f"the amazon plugin serves account {self.settings.account!r}, not {account!r}"
            )

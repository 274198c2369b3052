"""The sandbox marketplace: a sales channel on one machine that the hub takes orders from by
the same paths as from a real one. Its orders live in its own SQLite store, it announces them
with signed webhooks (hints) and answers polls (the truth), and it records the shipment
confirmations it is sent.

The plain methods (``place_orders``, ``cancel_order``, ``signed_webhook``, ``confirmations``)
are the channel's own side, for the dev feed, the CLI and tests. Hooks are plain functions: the
host runs them in a worker thread, and each opens its own SQLite connection (see store.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.domain.messages import (
    ChannelEvent,
    ChannelEventKind,
    ConfirmationReceipt,
    FetchRequest,
    MappingProblem,
    OrderPage,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.marketplaces.sandbox import paging, signing
from plugins.marketplaces.sandbox.catalog import load_products
from plugins.marketplaces.sandbox.clock import Clock, next_update, utc_now
from plugins.marketplaces.sandbox.fulfilment import confirmation_problem
from plugins.marketplaces.sandbox.generator import OrderGenerator, OrderNumber, Rates
from plugins.marketplaces.sandbox.mapping import external_id_of, map_order
from plugins.marketplaces.sandbox.settings import SandboxMarketplaceSettings
from plugins.marketplaces.sandbox.store import Payload, SandboxStore

log = logging.getLogger(__name__)

TOPIC_KINDS = {
    signing.ORDERS_CREATE: ChannelEventKind.ORDER_UPSERTED,
    signing.ORDERS_UPDATED: ChannelEventKind.ORDER_UPSERTED,
    signing.ORDERS_CANCELLED: ChannelEventKind.ORDER_CANCELLED,
}
CANCEL_REASONS = frozenset({"customer", "fraud", "inventory", "declined", "other"})
"""Shopify's cancel reasons; only these reach the hub's event (no free text from the channel)."""
DATABASE = "marketplace.sqlite3"


class SandboxMarketplace(HubPlugin[SandboxMarketplaceSettings]):
    """A simulated sales channel with webhooks, polling and shipment push-back (see module)."""

    family = Family.MARKETPLACES
    name = "sandbox"
    settings_model = SandboxMarketplaceSettings

    def __init__(
        self,
        settings: SandboxMarketplaceSettings,
        runtime: PluginRuntime,
        *,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(settings, runtime)
        self.clock = clock
        # At start-up, so a broken catalogue stops the hub with a ConfigError, not an order.
        products = load_products(runtime.config_dir / (settings.catalog_file or "catalog.toml"))
        rates = Rates(
            invalid_address=settings.invalid_address_rate,
            unknown_sku=settings.unknown_sku_rate,
            unpaid=settings.unpaid_rate,
        )
        self._generator = OrderGenerator(products, rates, random.Random(settings.seed))
        self._generating = threading.Lock()  # one RNG, hooks in several threads
        self.store = SandboxStore(self.state_dir / DATABASE)
        self.store.initialise()

    @property
    def account(self) -> str:
        return self.settings.account

    # ----------------------------------------------------------------- the channel's side

    def place_orders(self, n: int) -> list[Payload]:
        """Customers place ``n`` orders now; returns them as the channel stores them."""
        if n < 0:
            raise ValueError("cannot place a negative number of orders")
        created_at = self.clock()

        def build(numbers: Sequence[OrderNumber]) -> list[Payload]:
            return [self._generator.order(number, created_at) for number in numbers]

        with self._generating:
            payloads = self.store.add_orders(self.account, n, build)
        log.info("sandbox marketplace: %d order(s) placed", len(payloads))
        return payloads

    def cancel_order(self, external_id: str, reason: str = "customer") -> Payload:
        """Cancel an order at the channel (idempotent); the payment is voided or refunded."""
        if reason not in CANCEL_REASONS:
            raise ValueError(f"reason must be one of {sorted(CANCEL_REASONS)}")
        now = self.clock()

        def cancel(payload: Payload) -> Payload:
            if payload.get("cancelled_at"):
                return payload
            refunded = payload["financial_status"] in {"paid", "partially_refunded"}
            updated_at = next_update(payload["updated_at"], now)
            return {
                **payload,
                "cancelled_at": updated_at,
                "cancel_reason": reason,
                "financial_status": "refunded" if refunded else "voided",
                "updated_at": updated_at,
            }

        cancelled = self.store.update_order(self.account, external_id, cancel)
        if cancelled is None:
            raise PermanentError(f"order {external_id} is unknown to the channel")
        return cancelled

    def signed_webhook(self, topic: str, payload: Mapping[str, Any]) -> WebhookRequest:
        """The delivery the channel makes for ``topic`` about ``payload``. Built again for the
        same order version, it is a redelivery: same body, signature and event id."""
        body = signing.body_of(payload)
        updated_at = payload.get("updated_at")
        triggered_at = updated_at if isinstance(updated_at, str) else self.clock().isoformat()
        headers = {
            "content-type": "application/json",
            signing.TOPIC_HEADER: topic,
            signing.ACCOUNT_HEADER: self.account,
            signing.SIGNATURE_HEADER: signing.signature(body, self._secret),
            signing.EVENT_ID_HEADER: signing.event_id(
                self.account, topic, payload.get("id"), updated_at
            ),
            signing.TRIGGERED_AT_HEADER: triggered_at,
        }
        return WebhookRequest(
            plugin=self.name, headers=headers, body=body, received_at=self.clock()
        )

    def confirmations(self, external_id: str) -> list[ShipmentConfirmation]:
        """Shipment confirmations the channel accepted for the order, oldest first."""
        return self.store.confirmations(self.account, external_id)

    # ----------------------------------------------------------------- intake hooks

    @hookimpl
    def marketplace_verify_webhook(self, request: WebhookRequest) -> bool:
        return signing.is_authentic(request.headers, request.body, self._secret)

    @hookimpl
    def marketplace_parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):  # a UnicodeDecodeError is a ValueError
            raise PermanentError("body: not JSON") from None
        if not isinstance(body, dict):
            raise PermanentError("body: not a JSON object")
        topic = request.headers.get(signing.TOPIC_HEADER, "")
        event_id = request.headers.get(signing.EVENT_ID_HEADER, "")
        occurred_at = _triggered_at(request)
        external_id = external_id_of(body)

        def ignored(reason: str) -> list[ChannelEvent]:
            return [
                ChannelEvent(
                    kind=ChannelEventKind.IGNORED,
                    marketplace=self.name,
                    account=self.account,
                    external_id=external_id or "",
                    dedupe_key=event_id,
                    occurred_at=occurred_at,
                    reason=reason,
                )
            ]

        account = request.headers.get(signing.ACCOUNT_HEADER)
        if account and account != self.account:
            # Signed with this channel's secret for another account: not this hub's orders.
            return ignored(f"account not configured: {account}")
        kind = TOPIC_KINDS.get(topic)
        if kind is None:
            return ignored(f"topic {topic or '(none)'} is not one the hub acts on")
        if external_id is None:
            raise PermanentError("id: missing or not an order id")
        if not event_id:
            raise PermanentError(f"{signing.EVENT_ID_HEADER} header: missing")
        # The payload is the truth: an orders/updated delivery of a cancelled order cancels it.
        cancelled = kind is ChannelEventKind.ORDER_CANCELLED or bool(body.get("cancelled_at"))
        return [self._event(body, external_id, event_id, occurred_at, cancelled=cancelled)]

    @hookimpl
    def marketplace_fetch_orders(self, request: FetchRequest) -> OrderPage:
        if request.account != self.account:
            raise PermanentError(f"account {request.account} is not this channel's account")
        start = paging.decode(request.page_token) if request.page_token else None
        rows = self.store.changed(
            self.account,
            request.updated_after,
            request.updated_before,
            start,
            request.page_size + 1,  # one more than asked: says whether another page follows
        )
        page = rows[: request.page_size]
        events = [self._polled(payload) for _, payload in page]
        more = len(rows) > request.page_size
        return OrderPage(
            events=tuple(events), next_page_token=paging.encode(page[-1][0]) if more else None
        )

    @hookimpl
    def marketplace_confirm_shipment(
        self, confirmation: ShipmentConfirmation
    ) -> ConfirmationReceipt:
        def check(order: Payload, earlier: list[ShipmentConfirmation]) -> str | None:
            return confirmation_problem(order, earlier, confirmation)

        reference, again = self.store.record_confirmation(confirmation, check, self.clock())
        return ConfirmationReceipt(channel_reference=reference, already_confirmed=again)

    @hookimpl
    def marketplace_simulate_orders(self, count: int) -> list[WebhookRequest]:
        payloads = self.place_orders(max(count, 0))
        return [
            self.signed_webhook(signing.ORDERS_CREATE, payload)
            for payload in payloads
            if not self.webhook_lost(str(payload["id"]))
        ]

    def webhook_lost(self, external_id: str) -> bool:
        """Whether this order's creation webhook is one the channel 'loses'."""
        digest = hashlib.sha256(f"lost:{external_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.settings.webhook_loss_rate

    # ----------------------------------------------------------------- events

    def _polled(self, payload: Payload) -> ChannelEvent:
        """An order as a poll sees it: its version (updated_at) is the dedupe key."""
        external_id = str(payload["id"])
        updated_at = payload["updated_at"]
        return self._event(
            payload,
            external_id,
            f"{external_id}@{updated_at}",
            datetime.fromisoformat(updated_at),
            cancelled=bool(payload.get("cancelled_at")),
        )

    def _event(
        self,
        payload: Mapping[str, Any],
        external_id: str,
        dedupe_key: str,
        occurred_at: datetime,
        *,
        cancelled: bool,
    ) -> ChannelEvent:
        common: dict[str, Any] = {
            "marketplace": self.name,
            "account": self.account,
            "external_id": external_id,
            "dedupe_key": dedupe_key,
            "occurred_at": occurred_at,
        }
        if cancelled:
            reason = payload.get("cancel_reason")
            why = f" ({reason})" if isinstance(reason, str) and reason in CANCEL_REASONS else ""
            return ChannelEvent(
                kind=ChannelEventKind.ORDER_CANCELLED,
                reason=f"cancelled at the channel{why}",
                **common,
            )
        mapped = map_order(payload, marketplace=self.name, account=self.account)
        if isinstance(mapped, MappingProblem):
            return ChannelEvent(kind=ChannelEventKind.ORDER_UPSERTED, problem=mapped, **common)
        return ChannelEvent(kind=ChannelEventKind.ORDER_UPSERTED, order=mapped, **common)

    @property
    def _secret(self) -> str:
        return self.settings.webhook_secret.get_secret_value()


def _triggered_at(request: WebhookRequest) -> datetime:
    """When the channel says the event happened; when it arrived if that is unreadable."""
    raw = request.headers.get(signing.TRIGGERED_AT_HEADER, "")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return request.received_at
    return moment if moment.tzinfo is not None else request.received_at

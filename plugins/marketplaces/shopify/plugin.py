"""The Shopify channel: webhooks as hints, GraphQL polling as the truth, fulfilments back.

Each hook is thin: read with the client, decide with the pure modules (webhooks, events,
mapping, fulfillment). Logs carry ids only, never names, addresses or tokens.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from hub.domain.messages import (
    ChannelEvent,
    ChannelEventKind,
    ConfirmationReceipt,
    FetchRequest,
    OrderPage,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.errors import PermanentError
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.marketplaces.shopify import queries
from plugins.marketplaces.shopify.client import ShopifyClient
from plugins.marketplaces.shopify.events import graphql_order_event
from plugins.marketplaces.shopify.fulfillment import (
    FulfillmentState,
    FulfillmentWithLines,
    channel_reference,
    covered_quantities,
    created_fulfillment,
    fulfillment_input,
    matching_fulfillments,
    order_gid,
    parse,
    plan_fulfillments,
    still_to_confirm,
    tracking_company,
)
from plugins.marketplaces.shopify.mapping import MARKETPLACE
from plugins.marketplaces.shopify.settings import ShopifySettings
from plugins.marketplaces.shopify.shapes import PageInfo
from plugins.marketplaces.shopify.webhooks import (
    HMAC_HEADER,
    Delivery,
    delivery_events,
    is_foreign,
    read_delivery,
    refetch_target,
    signature_valid,
)

log = logging.getLogger(__name__)


class ShopifyMarketplace(HubPlugin[ShopifySettings]):
    """Orders from one Shopify shop in, fulfilments with tracking back."""

    family = Family.MARKETPLACES
    name = MARKETPLACE
    settings_model = ShopifySettings

    def __init__(self, settings: ShopifySettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.client = ShopifyClient(settings)

    async def aclose(self) -> None:
        await self.client.aclose()

    # ----------------------------------------------------------------- intake: webhooks

    @hookimpl
    def marketplace_verify_webhook(self, request: WebhookRequest) -> bool:
        secret = self.settings.client_secret.get_secret_value()
        return signature_valid(secret, request.body, request.headers.get(HMAC_HEADER))

    @hookimpl
    async def marketplace_parse_webhook(self, request: WebhookRequest) -> list[ChannelEvent]:
        delivery = read_delivery(request)
        target = None if is_foreign(delivery, self.settings) else refetch_target(delivery)
        if target is None:
            return delivery_events(delivery, self.settings)
        order_id, reason = target
        return [await self._refetched(order_id, reason, delivery)]

    async def _refetched(self, order_id: str, reason: str, delivery: Delivery) -> ChannelEvent:
        """Topics that only point at an order (edits, refunds): read the order as it is now."""
        data = await self.client.execute("order", queries.ORDER, {"id": order_gid(order_id)})
        node = data.get("order")
        if not isinstance(node, dict):
            return ChannelEvent(
                kind=ChannelEventKind.IGNORED,
                marketplace=MARKETPLACE,
                account=self.settings.account_name,
                external_id=order_id,
                dedupe_key=delivery.dedupe_key,
                occurred_at=delivery.occurred_at,
                # The topic, not the edit or refund id: one cause however many deliveries.
                reason=f"{delivery.topic}: order not readable (deleted, or older than the app "
                "may read)",
            )
        node = await self._all_line_items(node)
        log.info("shopify %s: re-read order %s", delivery.topic, order_id)
        return graphql_order_event(
            node,
            self.settings,
            dedupe_key=delivery.dedupe_key,
            occurred_at=delivery.occurred_at,
            reason=reason,
        )

    # ----------------------------------------------------------------- intake: polling

    @hookimpl
    async def marketplace_fetch_orders(self, request: FetchRequest) -> OrderPage:
        self._own_account(request.account)
        variables = {
            "first": min(request.page_size, self.settings.orders_page_size),
            "after": request.page_token,
            "query": orders_search(request.updated_after, request.updated_before),
        }
        data = await self.client.execute("orders", queries.ORDERS, variables)
        connection = data.get("orders")
        if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
            raise PermanentError("shopify orders: answer has no orders.nodes")
        page = parse(PageInfo, connection.get("pageInfo") or {}, "shopify orders")
        events = []
        for node in connection["nodes"]:
            if not isinstance(node, dict):
                raise PermanentError("shopify orders: a node is not an object")
            events.append(graphql_order_event(await self._all_line_items(node), self.settings))
        log.info("shopify: %d order events, more: %s", len(events), page.hasNextPage)
        return OrderPage(
            events=tuple(events), next_page_token=page.endCursor if page.hasNextPage else None
        )

    async def _all_line_items(self, node: dict[str, Any]) -> dict[str, Any]:
        """An order with more lines than the first page of ``lineItems``: read the rest."""
        lines = node.get("lineItems")
        if not isinstance(lines, dict) or not isinstance(lines.get("nodes"), list):
            return node  # the mapping names the missing field
        info = parse(PageInfo, lines.get("pageInfo") or {}, "shopify order lines")
        nodes = list(lines["nodes"])
        while info.hasNextPage and info.endCursor:
            data = await self.client.execute(
                "order_line_items",
                queries.ORDER_LINE_ITEMS,
                {"id": node.get("id"), "after": info.endCursor},
            )
            more = (data.get("order") or {}).get("lineItems")
            if not isinstance(more, dict) or not isinstance(more.get("nodes"), list):
                raise PermanentError("shopify order_line_items: answer has no lineItems.nodes")
            nodes.extend(more["nodes"])
            info = parse(PageInfo, more.get("pageInfo") or {}, "shopify order lines")
        return {**node, "lineItems": {"nodes": nodes, "pageInfo": {"hasNextPage": False}}}

    # ----------------------------------------------------------------- push-back

    @hookimpl
    async def marketplace_confirm_shipment(
        self, confirmation: ShipmentConfirmation
    ) -> ConfirmationReceipt:
        """Create the fulfilment(s) for the shipment, once.

        Idempotent by looking first: fulfilments that already carry the tracking number are
        this shipment's earlier confirmation (a retry after a lost answer, or a repeat), and only
        what they do not cover is still created.
        """
        self._own_account(confirmation.account)
        gid = order_gid(confirmation.external_id)
        data = await self.client.execute(
            "fulfillment_state", queries.FULFILLMENT_STATE, {"id": gid}
        )
        if data.get("order") is None:
            raise PermanentError(f"order {confirmation.external_id} not found on Shopify")
        state = parse(FulfillmentState, data["order"], "shopify fulfillment_state")
        earlier = matching_fulfillments(state.fulfillments, confirmation.tracking_number)
        lines = list(confirmation.lines)
        if earlier:
            lines = still_to_confirm(lines, covered_quantities(await self._lines_of(earlier)))
            if not lines:
                log.info("shipment %s already on Shopify", confirmation.shipment_id)
                return ConfirmationReceipt(
                    channel_reference=channel_reference(earlier), already_confirmed=True
                )
        plans = plan_fulfillments(lines, state, self.settings.location_number)
        company = tracking_company(confirmation, self.settings.tracking_companies)
        created = []
        for plan in plans:
            result = await self.client.execute(
                "fulfillment_create",
                queries.FULFILLMENT_CREATE,
                fulfillment_input(plan, confirmation, company),
            )
            created.append(created_fulfillment(result))
        log.info(
            "shipment %s confirmed on Shopify order %s as %s",
            confirmation.shipment_id,
            confirmation.external_id,
            created,
        )
        return ConfirmationReceipt(channel_reference=channel_reference([*earlier, *created]))

    async def _lines_of(self, fulfillment_ids: list[str]) -> list[FulfillmentWithLines]:
        data = await self.client.execute(
            "fulfillment_lines", queries.FULFILLMENT_LINES, {"ids": fulfillment_ids}
        )
        nodes = data.get("nodes")
        if not isinstance(nodes, list):
            raise PermanentError("shopify fulfillment_lines: answer has no nodes")
        return [
            parse(FulfillmentWithLines, node, "shopify fulfillment_lines")
            for node in nodes
            if node is not None
        ]

    def _own_account(self, account: str) -> None:
        if account not in {"default", self.settings.account_name}:
            raise PermanentError(
                f"this Shopify plugin serves account {self.settings.account_name}, not {account}"
            )


def orders_search(after: datetime, before: datetime) -> str:
    """The ``orders(query:)`` filter for ``[after, before)`` in Shopify's search syntax
    (shopify.dev/docs/api/usage/search-syntax; ``updated_at`` filter of the orders query)."""
    return f"updated_at:>='{_utc(after)}' AND updated_at:<'{_utc(before)}'"


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

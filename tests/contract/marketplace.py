"""The marketplace contract suite. A marketplace plugin is done when a subclass of
`MarketplaceContract` with its fixtures passes:

    class TestMyChannelContract(MarketplaceContract):
        @pytest.fixture
        def plugin(self, respx_mock): ...        # the configured plugin, remote API mocked
        @pytest.fixture
        def fetch_request(self): ...             # a window in which the mock has orders
        @pytest.fixture
        def webhook(self): ...                   # a correctly signed delivery, or None if the
                                                 # channel has no HTTP webhooks
        @pytest.fixture
        def confirmation(self): ...              # a shipment of an order the mock knows
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.domain.messages import (
    ChannelEventKind,
    FetchRequest,
    ShipmentConfirmation,
    WebhookRequest,
)
from hub.errors import PermanentError
from hub.plugin import Family, HubPlugin
from tests.contract.common import PluginContract, host_for


class MarketplaceContract(PluginContract):
    def test_is_a_marketplace(self, plugin: HubPlugin[Any]) -> None:
        assert plugin.family is Family.MARKETPLACES

    async def test_fetch_pages_events_with_dedupe_keys(
        self, plugin: HubPlugin[Any], fetch_request: FetchRequest
    ) -> None:
        host = host_for(plugin)
        seen: list[str] = []
        page = await host.fetch_orders(plugin.name, fetch_request)
        for _ in range(50):
            for event in page.events:
                assert event.marketplace == plugin.name and event.external_id and event.dedupe_key
                if event.kind is ChannelEventKind.ORDER_UPSERTED:
                    assert (event.order is None) != (event.problem is None)
                if event.kind is ChannelEventKind.IGNORED:
                    assert event.reason, "an ignored event says why (ops count them by it)"
                    if event.order is not None:
                        assert event.order.marketplace == plugin.name
                        assert event.order.external_id == event.external_id
                seen.append(event.dedupe_key)
            if not page.next_page_token:
                break
            page = await host.fetch_orders(
                plugin.name, fetch_request.model_copy(update={"page_token": page.next_page_token})
            )
        assert seen, "the fetch window should hold orders"
        assert len(seen) == len(set(seen)), "an event appeared twice across pages"

    async def test_webhook_signature_is_checked(
        self, plugin: HubPlugin[Any], webhook: WebhookRequest | None
    ) -> None:
        if webhook is None:
            pytest.skip("channel has no HTTP webhooks")
        host = host_for(plugin)
        assert await host.verify_webhook(plugin.name, webhook)
        tampered = webhook.model_copy(update={"body": webhook.body + b" "})
        assert not await host.verify_webhook(plugin.name, tampered)
        unsigned = webhook.model_copy(
            update={
                "headers": {
                    k: v
                    for k, v in webhook.headers.items()
                    if "hmac" not in k and "signature" not in k
                }
            }
        )
        assert not await host.verify_webhook(plugin.name, unsigned)

    async def test_webhook_parses_and_redelivery_keeps_its_key(
        self, plugin: HubPlugin[Any], webhook: WebhookRequest | None
    ) -> None:
        if webhook is None:
            pytest.skip("channel has no HTTP webhooks")
        host = host_for(plugin)
        first = await host.parse_webhook(plugin.name, webhook)
        again = await host.parse_webhook(plugin.name, webhook)
        assert first and [e.dedupe_key for e in first] == [e.dedupe_key for e in again]
        assert all(e.reason for e in first if e.kind is ChannelEventKind.IGNORED)
        with pytest.raises(PermanentError):
            await host.parse_webhook(plugin.name, webhook.model_copy(update={"body": b"not json"}))

    async def test_confirm_shipment_is_idempotent(
        self, plugin: HubPlugin[Any], confirmation: ShipmentConfirmation
    ) -> None:
        host = host_for(plugin)
        first = await host.confirm_shipment(confirmation)
        second = await host.confirm_shipment(confirmation)
        assert first.channel_reference
        assert second.already_confirmed and second.channel_reference == first.channel_reference

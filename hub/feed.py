"""The sandbox order feed: orders placed on the sandbox channel arrive over the same
verify -> parse -> intake path a real channel's webhooks take."""

from __future__ import annotations

import asyncio
import logging

import httpx

from hub.domain.messages import WebhookRequest
from hub.domain.order import order_workflow_id
from hub.errors import PermanentError
from hub.host import PluginHost
from hub.intake import Intake, IntakeOutcome

log = logging.getLogger(__name__)


Delivered = tuple[str, IntakeOutcome]
"""(workflow id, what the intake did with it)."""


async def deliver_webhook(
    host: PluginHost, intake: Intake, marketplace: str, request: WebhookRequest
) -> list[Delivered]:
    """Verify, parse and take in one webhook delivery; refuse it if the signature is wrong."""
    if not await host.verify_webhook(marketplace, request):
        raise PermanentError(f"webhook for {marketplace} refused: bad or missing signature")
    events = await host.parse_webhook(marketplace, request)
    outcomes = await intake.take_delivery(marketplace, events)
    return [
        (order_workflow_id(e.marketplace, e.external_id), outcome)
        for e, outcome in zip(events, outcomes, strict=True)
    ]


async def place_sandbox_orders(
    host: PluginHost, intake: Intake, marketplace: str, count: int, concurrency: int = 8
) -> list[Delivered]:
    requests = await host.simulate_orders(marketplace, count)
    gate = asyncio.Semaphore(concurrency)

    async def one(request: WebhookRequest) -> list[Delivered]:
        async with gate:
            return await deliver_webhook(host, intake, marketplace, request)

    results = await asyncio.gather(*(one(r) for r in requests))
    return [outcome for outcomes in results for outcome in outcomes]


async def post_webhook(http: httpx.AsyncClient, marketplace: str, request: WebhookRequest) -> str:
    """Send one delivery to the hub's webhook endpoint, exactly as the channel would."""
    response = await http.post(
        f"/webhooks/{marketplace}", content=request.body, headers=request.headers
    )
    if response.status_code != 200:
        return f"refused {response.status_code}: {response.text[:200]}"
    return ", ".join(response.json().get("accepted", []))


async def run_feed(
    host: PluginHost, intake_url: str, marketplace: str, orders_per_minute: float
) -> None:
    """Place sandbox orders at a steady rate until cancelled (used by `hub dev`); the channel's
    webhooks go over HTTP to the intake service, like any real channel's."""
    interval = 60.0 / orders_per_minute
    async with httpx.AsyncClient(base_url=intake_url, timeout=10.0) as http:
        while True:
            try:
                for request in await host.simulate_orders(marketplace, 1):
                    outcome = await post_webhook(http, marketplace, request)
                    log.info("sandbox order webhook: %s", outcome)
            except (PermanentError, httpx.HTTPError) as exc:
                log.error("sandbox feed: %s", exc)
            await asyncio.sleep(interval)

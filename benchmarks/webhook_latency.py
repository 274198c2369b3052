"""How fast the webhook intake answers: the time from a channel's POST to the 2xx, which
Shopify wants within 5 s and which the hub gives only once the order is in Temporal.

    python -m benchmarks.webhook_latency --orders 200

Starts one dev server, serves the real ASGI app with the sandbox channel, and posts N signed
new-order webhooks, then the same N again (duplicates, folded into the running workflows),
then N signed carrier tracking pushes, each signalled into its parcel's tracking workflow
(started beforehand). No worker runs: the intake's job ends when the event is durably in
Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from hub.devserver import dev_server
from hub.domain.address import Contact
from hub.domain.tracking import TrackingEvent, TrackingStatus
from hub.host import PluginHost
from hub.plugin import Family
from hub.settings import HubSettings, load_settings, use_profile
from hub.temporal import SEARCH_ATTRIBUTE_NAMES, build_intake, connect
from hub.webhooks import create_app
from hub.workflows.contracts import TrackingInput, tracking_workflow_id
from hub.workflows.tracking import ShipmentTrackingWorkflow
from plugins.carriers.sandbox import SandboxCarrier


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def main(count: int) -> dict[str, object]:
    use_profile("demo")
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        settings = load_settings().model_copy(update={"data_dir": Path(tmp)})
        async with dev_server(search_attributes=SEARCH_ATTRIBUTE_NAMES) as server:
            temporal = settings.temporal.model_copy(update={"address": server.address})
            settings = settings.model_copy(update={"temporal": temporal})
            host = PluginHost.from_settings(settings)
            try:
                client = await connect(settings)
                app = create_app(host, build_intake(client, settings), Path(tmp) / "rejects")
                webhooks = await host.simulate_orders("sandbox", count)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
                    rounds = {}
                    for name in ("new", "duplicate"):
                        latencies = []
                        for hook in webhooks:
                            started = time.perf_counter()
                            answer = await http.post(
                                "/webhooks/sandbox", content=hook.body, headers=hook.headers
                            )
                            latencies.append((time.perf_counter() - started) * 1000)
                            assert answer.status_code == 200, answer.text
                        rounds[name] = _summary(latencies)
                    pushes = await _carrier_pushes(http, host, client, settings, count)
                    rounds["carrier_push"] = pushes
            finally:
                await host.aclose()
    return {"webhooks": len(webhooks), **rounds}


async def _carrier_pushes(
    http: httpx.AsyncClient, host: PluginHost, client: Client, settings: HubSettings, count: int
) -> dict[str, float]:
    """N parcels in transit, one signed sandbox-carrier push each (verify, parse, signal)."""
    carrier = host.plugin(Family.CARRIERS, "sandbox")
    assert isinstance(carrier, SandboxCarrier)
    numbers = [f"BENCH{n:06d}" for n in range(count)]
    for number in numbers:
        await client.start_workflow(
            ShipmentTrackingWorkflow.run,
            TrackingInput(
                order_key=f"bench:{number}",
                marketplace="sandbox",
                recipient=Contact(name="Bench Mark"),
                shipment_id=number,
                carrier="sandbox",
                tracking_number=number,
                promised_by=None,
                poll_seconds=3600,
                history_limit=1000,
            ),
            id=tracking_workflow_id("sandbox", number),
            task_queue=settings.temporal.task_queue,
        )
    latencies = []
    for number in numbers:
        event = TrackingEvent(
            tracking_number=number,
            status=TrackingStatus.IN_TRANSIT,
            carrier_code="IT",
            description="arrived at the sorting centre",
            occurred_at=datetime.now(UTC),
        )
        headers, body = carrier.signed_tracking_webhook([event])
        started = time.perf_counter()
        answer = await http.post("/webhooks/carriers/sandbox", content=body, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.json() == {"parcels": {number: "signalled"}}, answer.text
    return _summary(latencies)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.orders)), indent=2))

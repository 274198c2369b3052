"""How fast the webhook intake answers: the time from a channel's POST to the 2xx, which
Shopify wants within 5 s and which the hub gives only once the order is in Temporal.

    python -m benchmarks.webhook_latency --orders 200

Starts one dev server, serves the real ASGI app with the sandbox channel, and posts N signed
new-order webhooks, then the same N again (duplicates, folded into the running workflows).
No worker runs: the intake's job ends when the event is durably in Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from hub.devserver import dev_server
from hub.host import PluginHost
from hub.settings import load_settings, use_profile
from hub.temporal import SEARCH_ATTRIBUTE_NAMES, build_intake, connect
from hub.webhooks import create_app


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
            finally:
                await host.aclose()
    return {"webhooks": len(webhooks), **rounds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.orders)), indent=2))

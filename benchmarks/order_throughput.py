"""Order throughput and history size on one machine, against a same-run baseline.

    python -m benchmarks.order_throughput --orders 40

Starts one Temporal dev server, then measures in the same run:
1. baseline: N trivial workflows with one activity each (what Temporal + a Python worker do
   on this box with no hub code), and
2. the hub: N sandbox orders end to end (`hub demo`'s path, valid orders only, fast clock).
Machines are noisy: read the ratio of the two, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

from temporalio.client import Client
from temporalio.worker import Worker

from benchmarks.baseline_workflow import Baseline, noop
from hub.demo import run_demo
from hub.devserver import dev_server
from hub.settings import load_settings, use_profile


async def baseline(address: str, count: int) -> float:
    client = await Client.connect(address)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[Baseline], activities=[noop]):
        started = time.perf_counter()
        handles = [
            await client.start_workflow(Baseline.run, i, id=f"bench-{queue}-{i}", task_queue=queue)
            for i in range(count)
        ]
        await asyncio.gather(*(h.result() for h in handles))
        return count / (time.perf_counter() - started)


async def main(count: int) -> dict[str, object]:
    use_profile("demo")
    os.environ.setdefault("HUB_MARKETPLACES__SANDBOX__INVALID_ADDRESS_RATE", "0")
    os.environ.setdefault("HUB_MARKETPLACES__SANDBOX__UNKNOWN_SKU_RATE", "0")
    settings = load_settings()
    async with dev_server(search_attributes=()) as server:
        base = await baseline(server.address, count)
    report = await run_demo(settings, count)
    return {
        "orders": count,
        "baseline_workflows_per_second": round(base, 2),
        "hub_orders_per_second": round(report.orders_per_second, 2),
        "ratio_hub_to_baseline": round(report.orders_per_second / base, 3),
        "history_events_per_order": round(report.history_events_per_order, 1),
        "history_events_max": report.history_events_max,
        "by_stage": report.by_stage,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=40)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.orders)), indent=2))

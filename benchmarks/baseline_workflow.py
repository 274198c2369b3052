"""The benchmark's baseline: one trivial activity per workflow. Its own module, importing
nothing of the hub, so the workflow sandbox can load it."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def noop(x: int) -> int:
    return x


@workflow.defn
class Baseline:
    @workflow.run
    async def run(self, x: int) -> int:
        return await workflow.execute_activity(
            noop, x, start_to_close_timeout=timedelta(seconds=10)
        )

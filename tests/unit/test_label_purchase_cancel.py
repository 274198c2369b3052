"""A cancel that reaches a label purchase in flight lets it finish, so the label is known and
voided instead of charged and forgotten."""

from __future__ import annotations

import asyncio

from hub.activities.orders import _uninterrupted


async def test_a_cancelled_purchase_still_returns_its_label():
    started, release = asyncio.Event(), asyncio.Event()

    async def purchase() -> str:
        started.set()
        await release.wait()
        return "label-1"

    activity = asyncio.ensure_future(_uninterrupted(purchase()))
    await started.wait()
    activity.cancel()  # what Temporal does to an activity whose workflow asks to cancel it
    await asyncio.sleep(0)  # let the cancellation land while the carrier has not answered
    assert not activity.done()
    release.set()
    assert await activity == "label-1"

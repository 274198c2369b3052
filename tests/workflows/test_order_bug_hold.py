"""A bug in the hub's own rules holds the order (`hub_error`) instead of failing its workflow
task; retry (after a fix is deployed) or cancel ends the hold.

No input reaches `hub_error` (every plugin failure has a hold of its own), so the test plants
the bug: a status table that refuses one move once. Workflow code binds `transition` when the
sandbox imports it for each run, so patching the domain module before the order starts is
enough.
"""

from __future__ import annotations

import pytest

from hub.domain import status
from hub.domain.holds import HoldCode
from hub.domain.status import FulfilmentStatus, IllegalTransitionError, OrderStage
from hub.workflows.contracts import CancelRequest
from hub.workflows.order import OrderWorkflow
from tests.workflows.harness import Hub


@pytest.fixture
def refuse_packing_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    refused: list[int] = []
    real = status.transition

    def transition(current, new):  # type: ignore[no-untyped-def]
        if new is FulfilmentStatus.PACKED and not refused:
            refused.append(1)
            raise IllegalTransitionError(f"{current.value} -> {new.value} refused by a planted bug")
        return real(current, new)

    monkeypatch.setattr(status, "transition", transition)
    return refused


async def test_a_hub_bug_holds_and_retry_resumes(hub: Hub, refuse_packing_once: list[int]) -> None:
    run = await hub.start()
    state = await run.held(HoldCode.HUB_ERROR)
    assert "IllegalTransitionError" in state.hold.message  # type: ignore[union-attr]
    assert "retry" in state.details and "cancel" in state.details
    await run.handle.execute_update(OrderWorkflow.retry)
    final = await run.finish()
    assert final.stage is OrderStage.COMPLETED
    assert len(hub.world.labels) == 1, "the retried step did not buy a second label"


async def test_a_hub_bug_hold_can_be_cancelled(hub: Hub, refuse_packing_once: list[int]) -> None:
    run = await hub.start()
    await run.held(HoldCode.HUB_ERROR)
    await run.handle.signal(OrderWorkflow.cancel, CancelRequest(reason="gave up"))
    final = await run.finish()
    assert final.stage is OrderStage.CANCELLED
    assert not hub.world.labels

"""Placing one sandbox order with chosen details, through the normal intake."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.domain.address import Address, Contact
from hub.intake import IntakeOutcome
from hub.workflows.contracts import OrderState
from hub.workflows.order import OrderWorkflow

GOTHENBURG = Address(
    name="Sara Lind", line1="Kungsgatan 12", city="Goteborg", postal_code="411 19", country="SE"
)
SARA = Contact(name="Sara Lind", email="sara.lind@example.com", phone="+46 31 123 45 67")


async def place_order(rt: Any, *, to: Address = GOTHENBURG, customer: Contact = SARA) -> str:
    """A sandbox order placed at the channel, sent to `to`; its workflow id."""
    (request,) = await rt.host.simulate_orders("sandbox", 1)
    (event,) = await rt.host.parse_webhook("sandbox", request)
    order = event.order.model_copy(update={"shipping_address": to, "customer": customer})
    assert await rt.intake.submit(order) is IntakeOutcome.STARTED
    return order.workflow_id


async def run_order(rt: Any, *, to: Address = GOTHENBURG, customer: Contact = SARA) -> OrderState:
    """A sandbox order placed at the channel, sent to `to`, run to its end (at most 90 s)."""
    workflow_id = await place_order(rt, to=to, customer=customer)
    handle = rt.client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
    try:
        return await asyncio.wait_for(handle.result(), timeout=90)
    except TimeoutError:
        state = await handle.query(OrderWorkflow.status)
        raise AssertionError(f"order stuck at {state.stage.value}: {state.details}") from None

"""Pure planning of shipment confirmations: which fulfilment order lines a shipment covers,
which of it Shopify already knows (idempotency), and the ``fulfillmentCreate`` inputs.

References (GraphQL Admin API 2025-10): ``FulfillmentOrder`` (statuses OPEN, IN_PROGRESS,
SCHEDULED, ON_HOLD, INCOMPLETE, CLOSED, CANCELLED; ``assignedLocation``; ``lineItems`` with
``remainingQuantity`` and the order's ``lineItem``), ``Fulfillment`` (``status``,
``trackingInfo``, ``fulfillmentLineItems``), ``FulfillmentInput`` (``lineItemsByFulfillmentOrder``
of ``{fulfillmentOrderId, fulfillmentOrderLineItems: [{id, quantity}]}``, ``trackingInfo``
``{company, number, url}``, ``notifyCustomer``), ``UserError``. ``fulfillmentCreate`` accepts
fulfilment orders of one order *and one location* per call, so the plan is one input per
location.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.domain.messages import ShipmentConfirmation
from hub.domain.shipment import ShipmentLine
from hub.errors import PermanentError
from plugins.marketplaces.shopify.mapping import numeric_id
from plugins.marketplaces.shopify.shapes import PageInfo

OPEN_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfilment orders that can take a fulfilment now (ON_HOLD/SCHEDULED must be released first)."""
DEAD_FULFILLMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})

# Shopify builds tracking links for the companies on its list (FulfillmentTrackingInfo.company,
# "Supported tracking companies"); the keys are the hub's carrier plugin names.
TRACKING_COMPANIES: dict[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl_express": "DHL Express",
    "mydhl": "DHL Express",
    "dhl_ecommerce": "DHL eCommerce",
    "deutsche_post": "Deutsche Post",
    "canada_post": "Canada Post",
    "royal_mail": "Royal Mail",
    "australia_post": "Australia Post",
}


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Ref(_Shape):
    id: str


class TrackingInfo(_Shape):
    number: str | None = None
    company: str | None = None
    url: str | None = None


class Fulfillment(_Shape):
    id: str
    status: str
    trackingInfo: list[TrackingInfo] = []


class FulfillmentOrderLine(_Shape):
    id: str
    remainingQuantity: int
    lineItem: Ref


class FulfillmentOrderLines(_Shape):
    nodes: list[FulfillmentOrderLine]
    pageInfo: PageInfo = PageInfo()


class AssignedLocation(_Shape):
    location: Ref | None = None


class FulfillmentOrder(_Shape):
    id: str
    status: str
    assignedLocation: AssignedLocation | None = None
    lineItems: FulfillmentOrderLines


class FulfillmentOrders(_Shape):
    nodes: list[FulfillmentOrder]
    pageInfo: PageInfo = PageInfo()


class FulfillmentState(_Shape):
    """``order`` of ``queries.FULFILLMENT_STATE``."""

    id: str
    fulfillments: list[Fulfillment] = []
    fulfillmentOrders: FulfillmentOrders


class FulfillmentLine(_Shape):
    quantity: int | None = None
    lineItem: Ref


class FulfillmentLines(_Shape):
    nodes: list[FulfillmentLine]
    pageInfo: PageInfo = PageInfo()


class FulfillmentWithLines(_Shape):
    id: str
    fulfillmentLineItems: FulfillmentLines


S = TypeVar("S", bound=BaseModel)


def parse(shape: type[S], value: object, what: str) -> S:
    """Validate a GraphQL answer; a shape Shopify's schema does not allow is a PermanentError."""
    try:
        return shape.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise PermanentError(
            f"{what}: unexpected answer at {where or 'top'}: {error['msg']}"
        ) from None


def order_gid(external_id: str) -> str:
    return f"gid://shopify/Order/{external_id}"


# --------------------------------------------------------------------------- idempotency


def matching_fulfillments(fulfillments: Sequence[Fulfillment], tracking_number: str) -> list[str]:
    """Ids of live fulfilments that already carry this tracking number."""
    wanted = tracking_number.strip().upper()
    return [
        f.id
        for f in fulfillments
        if f.status not in DEAD_FULFILLMENTS
        and any((t.number or "").strip().upper() == wanted for t in f.trackingInfo)
    ]


def covered_quantities(fulfillments: Sequence[FulfillmentWithLines]) -> dict[str, int]:
    """Order line id -> quantity those fulfilments already shipped."""
    covered: dict[str, int] = defaultdict(int)
    for fulfillment in fulfillments:
        if fulfillment.fulfillmentLineItems.pageInfo.hasNextPage:
            raise PermanentError(
                f"fulfillment {fulfillment.id}: more lines than one lookup reads; "
                "check it on Shopify before confirming again"
            )
        for line in fulfillment.fulfillmentLineItems.nodes:
            line_id = numeric_id(line.lineItem.id)
            if line_id and line.quantity:
                covered[line_id] += line.quantity
    return dict(covered)


def still_to_confirm(
    lines: Sequence[ShipmentLine], covered: Mapping[str, int]
) -> list[ShipmentLine]:
    """The shipment's lines less what earlier fulfilments with its tracking number shipped."""
    left = dict(covered)
    remaining = []
    for line in lines:
        done = min(line.quantity, left.get(line.line_id, 0))
        left[line.line_id] = left.get(line.line_id, 0) - done
        if line.quantity > done:
            remaining.append(line.model_copy(update={"quantity": line.quantity - done}))
    return remaining


# --------------------------------------------------------------------------- planning


@dataclass
class LocationPlan:
    """What one ``fulfillmentCreate`` call fulfils: fulfilment order id -> [(FO line id, qty)]."""

    location: str
    items: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def plan_fulfillments(
    lines: Sequence[ShipmentLine], state: FulfillmentState, location: str | None = None
) -> list[LocationPlan]:
    """Spread the shipment's lines over open fulfilment order lines, grouped by location.

    PermanentError if a line cannot be covered: it was fulfilled outside the hub, is on hold,
    or is not part of this order.
    """
    available = [
        fo
        for fo in state.fulfillmentOrders.nodes
        if fo.status in OPEN_STATUSES and (location is None or _location_of(fo) == location)
    ]
    remaining = {
        fo_line.id: fo_line.remainingQuantity for fo in available for fo_line in fo.lineItems.nodes
    }
    plans: dict[str, LocationPlan] = {}
    for line in lines:
        wanted = line.quantity
        for fo in available:
            for fo_line in fo.lineItems.nodes:
                if wanted == 0 or numeric_id(fo_line.lineItem.id) != line.line_id:
                    continue
                take = min(wanted, remaining[fo_line.id])
                if take <= 0:
                    continue
                remaining[fo_line.id] -= take
                wanted -= take
                plan = plans.setdefault(_location_of(fo), LocationPlan(_location_of(fo)))
                plan.items.setdefault(fo.id, []).append((fo_line.id, take))
        if wanted:
            raise PermanentError(_shortfall(line, wanted, state, location))
    return list(plans.values())


def fulfillment_input(
    plan: LocationPlan, confirmation: ShipmentConfirmation, company: str
) -> dict[str, Any]:
    """Variables of ``queries.FULFILLMENT_CREATE`` for one location."""
    tracking: dict[str, str] = {"company": company, "number": confirmation.tracking_number}
    if confirmation.tracking_url:
        tracking["url"] = confirmation.tracking_url
    return {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo_id,
                    "fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in items],
                }
                for fo_id, items in plan.items.items()
            ],
            "trackingInfo": tracking,
            "notifyCustomer": confirmation.notify_customer,
        }
    }


def created_fulfillment(data: Mapping[str, Any]) -> str:
    """The new fulfilment's id from ``fulfillmentCreate``; its userErrors as a PermanentError."""
    payload = data.get("fulfillmentCreate")
    if not isinstance(payload, dict):
        raise PermanentError("fulfillmentCreate: answer has no payload")
    errors = payload.get("userErrors") or []
    if errors:
        messages = "; ".join(_user_error(e) for e in errors)
        raise PermanentError(f"fulfillmentCreate refused: {messages}")
    created = payload.get("fulfillment")
    if not isinstance(created, dict) or not isinstance(created.get("id"), str):
        raise PermanentError("fulfillmentCreate: answer has no fulfillment id")
    return str(created["id"])


def tracking_company(confirmation: ShipmentConfirmation, overrides: Mapping[str, str]) -> str:
    """Shopify's name for the carrier where it has one, else the carrier's own name."""
    key = confirmation.carrier.strip().lower()
    return overrides.get(key) or TRACKING_COMPANIES.get(key) or confirmation.carrier_name


def channel_reference(fulfillment_ids: Sequence[str]) -> str:
    """One shipment may need one fulfilment per location: name them all, in a stable order."""
    return ",".join(sorted(set(fulfillment_ids)))


def _location_of(fo: FulfillmentOrder) -> str:
    located = fo.assignedLocation.location if fo.assignedLocation else None
    return (numeric_id(located.id) or located.id) if located else f"unassigned:{fo.id}"


def _shortfall(line: ShipmentLine, missing: int, state: FulfillmentState, loc: str | None) -> str:
    where = f" at location {loc}" if loc else ""
    message = (
        f"line {line.line_id} ({line.sku}): {missing} of {line.quantity} not open for "
        f"fulfilment{where} (fulfilled outside the hub, on hold, or not in this order)"
    )
    truncated = state.fulfillmentOrders.pageInfo.hasNextPage or any(
        fo.lineItems.pageInfo.hasNextPage for fo in state.fulfillmentOrders.nodes
    )
    if truncated:
        message += "; the order has more fulfilment orders or lines than one lookup reads"
    return message


def _user_error(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = error.get("field")
    path = ".".join(str(p) for p in where) if isinstance(where, list) else ""
    return f"{path}: {error.get('message')}" if path else str(error.get("message"))

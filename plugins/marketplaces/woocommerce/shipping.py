"""Pure pieces of confirming a shipment: tracking items, provider choice, the shipment record.

References:
- WooCommerce Shipment Tracking extension, REST API (woocommerce.com/document/shipment-tracking,
  "Create a tracking item with the Shipment Tracking REST API", "Create a custom-provider tracking
  item", "List Shipment Tracking providers", "Understand Shipment Tracking REST API responses"):
  ``GET|POST /wp-json/wc-shipment-tracking/v3/orders/<order_id>/shipment-trackings`` with
  ``tracking_provider`` (a name from ``GET /wp-json/wc-shipment-tracking/v3/shipment-trackings/
  providers``, ``{region: {name: url format}}``) or ``custom_tracking_provider`` +
  ``custom_tracking_link``, ``tracking_number``, ``date_shipped`` (``YYYY-MM-DD``); an item is
  ``{tracking_id, tracking_provider, tracking_link, tracking_number, date_shipped}``.
- WooCommerce REST API docs, wp-api-v3 "Update an order": ``PUT /wp-json/wc/v3/orders/<id>`` with
  ``status`` and ``meta_data [{id?, key, value}]``.

An order is marked ``completed`` only once the hub's shipments cover every line: completing sends
the customer the "order complete" email, wrong after the first parcel of a split order. Which
shipments were confirmed, with which lines, is kept on the order itself (meta ``_hub_shipments``),
so a retry, another worker or a restarted hub reads it from WooCommerce, not from memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from hub.domain.messages import ShipmentConfirmation
from hub.errors import PermanentError
from plugins.marketplaces.woocommerce.shapes import Id, Text, WcMeta

RECORD_KEY = "_hub_shipments"
TRACKING_ROOT = "/wc-shipment-tracking/v3"
PROVIDERS_PATH = f"{TRACKING_ROOT}/shipment-trackings/providers"


def trackings_path(order_id: str) -> str:
    return f"{TRACKING_ROOT}/orders/{order_id}/shipment-trackings"


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Tracking(_Shape):
    tracking_id: Id
    tracking_provider: Text = None
    tracking_number: Text = None


class OrderLineState(_Shape):
    id: Id
    quantity: int


class OrderState(_Shape):
    """What confirming needs of an order: its status, lines and the hub's record."""

    id: Id
    status: str
    line_items: list[OrderLineState] = []
    meta_data: list[WcMeta] = []


Record = dict[str, dict[str, Any]]
"""shipment_id -> {"tracking_id": str, "lines": {line_id: quantity}}"""


def parse(shape: type[_Shape], value: object, action: str) -> Any:
    try:
        return shape.model_validate(value)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "answer"
        raise PermanentError(f"{action}: {where}: {error['msg']}") from None


def parse_trackings(value: object) -> list[Tracking]:
    if not isinstance(value, list):
        raise PermanentError("shipment tracking list: answer is not a JSON array")
    return [parse(Tracking, item, "shipment tracking list") for item in value]


def _normal(number: str | None) -> str:
    return re.sub(r"[\s-]", "", number or "").upper()


def matching_tracking(trackings: Sequence[Tracking], tracking_number: str) -> Tracking | None:
    """The item already holding this tracking number (spaces and case aside)."""
    wanted = _normal(tracking_number)
    return next((t for t in trackings if _normal(t.tracking_number) == wanted), None)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def provider_names(value: object) -> list[str]:
    """Provider names from ``{region: {name: url}}``."""
    if not isinstance(value, dict):
        raise PermanentError("shipment tracking providers: answer is not a JSON object")
    return [name for group in value.values() if isinstance(group, dict) for name in group]


def provider_fields(
    confirmation: ShipmentConfirmation,
    overrides: Mapping[str, str],
    known: Sequence[str] | None,
) -> dict[str, str]:
    """A configured provider name, else one of the store's whose name is the carrier's, else the
    carrier as a custom provider with the label's tracking link."""
    if confirmation.carrier in overrides:
        return {"tracking_provider": overrides[confirmation.carrier]}
    wanted = {_key(confirmation.carrier), _key(confirmation.carrier_name)}
    for name in known or ():
        if _key(name) in wanted:
            return {"tracking_provider": name}
    fields = {"custom_tracking_provider": confirmation.carrier_name or confirmation.carrier}
    if confirmation.tracking_url:
        fields["custom_tracking_link"] = confirmation.tracking_url
    return fields


def tracking_request(
    confirmation: ShipmentConfirmation, provider: Mapping[str, str]
) -> dict[str, str]:
    return {
        **provider,
        "tracking_number": confirmation.tracking_number,
        "date_shipped": confirmation.shipped_at.astimezone(UTC).date().isoformat(),
    }


def created_tracking(value: object) -> Tracking:
    tracking: Tracking = parse(Tracking, value, "shipment tracking create")
    return tracking


# --------------------------------------------------------------------------- the record


def read_record(order: OrderState) -> tuple[int | None, Record]:
    """(meta id, record) of ``_hub_shipments``; an unreadable value counts as empty."""
    for meta in order.meta_data:
        if meta.key != RECORD_KEY:
            continue
        value = meta.value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if isinstance(value, dict):
            return meta.id, {k: v for k, v in value.items() if isinstance(v, dict)}
        return meta.id, {}
    return None, {}


def check_lines(order: OrderState, confirmation: ShipmentConfirmation) -> None:
    known = {line.id for line in order.line_items}
    unknown = [line.line_id for line in confirmation.lines if line.line_id not in known]
    if unknown:
        raise PermanentError(
            f"line(s) {', '.join(unknown)} are not on WooCommerce order {confirmation.external_id}"
        )


def record_with(record: Record, confirmation: ShipmentConfirmation, tracking_id: str) -> Record:
    lines: dict[str, int] = {}
    for line in confirmation.lines:
        lines[line.line_id] = lines.get(line.line_id, 0) + line.quantity
    entry = {"tracking_id": tracking_id, "lines": lines}
    return {**record, confirmation.shipment_id: entry}


def all_shipped(order: OrderState, record: Record) -> bool:
    """Whether the recorded shipments cover every line of the order in full."""
    shipped: dict[str, int] = {}
    for entry in record.values():
        lines = entry.get("lines")
        if not isinstance(lines, dict):
            continue
        for line_id, quantity in lines.items():
            if isinstance(quantity, int) and not isinstance(quantity, bool):
                shipped[str(line_id)] = shipped.get(str(line_id), 0) + quantity
    return all(shipped.get(line.id, 0) >= line.quantity for line in order.line_items)


def order_update(
    order: OrderState, meta_id: int | None, before: Record, after: Record, complete: bool
) -> dict[str, Any]:
    """The ``PUT /orders/<id>`` body, empty when nothing changes."""
    body: dict[str, Any] = {}
    if after != before:
        meta: dict[str, Any] = {"key": RECORD_KEY, "value": json.dumps(after, sort_keys=True)}
        if meta_id is not None:
            meta["id"] = meta_id
        body["meta_data"] = [meta]
    if complete and order.status != "completed":
        body["status"] = "completed"
    return body

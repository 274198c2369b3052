"""What the channel accepts as a shipment confirmation, as a real one would: only for a live
order, only lines of that order, never more units than were ordered. Pure."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hub.domain.messages import ShipmentConfirmation


def confirmation_problem(
    order: dict[str, Any], earlier: list[ShipmentConfirmation], new: ShipmentConfirmation
) -> str | None:
    """Why the channel refuses ``new`` for ``order`` (which already has ``earlier``), or None."""
    if order.get("cancelled_at"):
        return f"order {new.external_id} is cancelled at the channel"
    if not new.lines:
        return f"shipment {new.shipment_id} has no lines"
    ordered = {str(item["id"]): int(item["quantity"]) for item in order["line_items"]}
    shipped = Counter[str]()
    for confirmation in earlier:
        if confirmation.shipment_id == new.replaces:
            continue  # a reship takes over the lost shipment's lines, as its new tracking
        for line in confirmation.lines:
            shipped[line.line_id] += line.quantity
    for line in new.lines:
        if line.line_id not in ordered:
            return f"line {line.line_id} is not on order {new.external_id}"
        shipped[line.line_id] += line.quantity
        if shipped[line.line_id] > ordered[line.line_id]:
            return (
                f"line {line.line_id}: {shipped[line.line_id]} units confirmed as shipped, "
                f"{ordered[line.line_id]} ordered"
            )
    return None

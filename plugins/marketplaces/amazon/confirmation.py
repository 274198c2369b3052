"""Pure mapping for confirmShipment: hub shipment -> ``ConfirmShipmentRequest``, and the reading
of Amazon's answers that decide whether a package is already confirmed.

Shapes: ``models/orders-api-model/ordersV0.json`` (``ConfirmShipmentRequest``,
``PackageDetail``, ``PackageReferenceId``, ``ConfirmShipmentOrderItem``) and, for the check of an
order's packages, ``orders_2026-01-01.json`` (``GetOrderResponse``, ``OrderPackage``), both in
github.com/amzn/selling-partner-api-models. Editing semantics of a repeated packageReferenceId:
the "Confirm the shipment status" guide (developer-docs.amazon.com/sp-api/docs/
confirm-the-shipment-status).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain.messages import ShipmentConfirmation
from hub.errors import PermanentError
from plugins.marketplaces.amazon.mapping import iso

_DIGITS = re.compile(r"[0-9]+")


def package_reference_id(shipment_id: str, external_id: str) -> str:
    """Amazon's ``packageReferenceId`` for a hub shipment: only positive numbers are accepted.

    The hub names shipments ``{order id}-{n}`` (n = 1, 2... per order), so ``n`` is used: it is
    unique within the order, as Amazon requires, and stable across retries, so a repeat is an
    edit of the same package, never a second one. A purely numeric id is used as is; any other
    id gets a stable 15-digit number from its SHA-256.
    """
    for candidate in (shipment_id, shipment_id.removeprefix(f"{external_id}-")):
        if _DIGITS.fullmatch(candidate) and int(candidate) > 0:
            return str(int(candidate))
    digest = int(hashlib.sha256(shipment_id.encode()).hexdigest()[:15], 16)
    return str(digest % 10**15 + 1)


def package_detail(
    confirmation: ShipmentConfirmation, *, carrier_codes: Mapping[str, str]
) -> dict[str, Any]:
    """The ``PackageDetail`` for one hub shipment (= one Amazon package)."""
    if not confirmation.lines:
        raise PermanentError(f"shipment {confirmation.shipment_id} has no lines to confirm")
    quantities: dict[str, int] = {}
    for line in confirmation.lines:
        quantities[line.line_id] = quantities.get(line.line_id, 0) + line.quantity
    codes = {k.lower(): v for k, v in carrier_codes.items()}
    carrier_code = codes.get(confirmation.carrier.lower(), "Other")
    # carrierName is required with "Other"; Amazon's sandbox example sends it with a code too.
    carrier_name = confirmation.carrier_name.strip() or confirmation.carrier
    return {
        "packageReferenceId": package_reference_id(
            confirmation.shipment_id, confirmation.external_id
        ),
        "carrierCode": carrier_code,
        "carrierName": carrier_name,
        "shippingMethod": confirmation.service_code,
        "trackingNumber": confirmation.tracking_number,
        "shipDate": iso(confirmation.shipped_at, timespec="milliseconds"),
        "orderItems": [
            {"orderItemId": item_id, "quantity": quantity}
            for item_id, quantity in quantities.items()
        ],
    }


def confirm_shipment_body(marketplace_id: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ConfirmShipmentRequest``."""
    return {"marketplaceId": marketplace_id, "packageDetail": dict(detail)}


def confirmation_fingerprint(detail: Mapping[str, Any]) -> str:
    """What makes a package confirmation the same one again. ``shipDate`` is left out: the hub
    stamps it anew on every attempt."""
    canonical = json.dumps({k: v for k, v in detail.items() if k != "shipDate"}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def channel_reference(order_id: str, package_reference: str) -> str:
    return f"{order_id}/package/{package_reference}"


def looks_already_confirmed(errors: Sequence[Mapping[str, str]]) -> bool:
    """Whether a confirmShipment 400 may mean the package is already recorded.

    Amazon documents no "already confirmed" code: repeating a packageReferenceId is an edit and
    answers 204. The one known refusal of that kind is ``PackageToUpdateNotFound`` ("Failed to
    create package due to not finding a matching package or order already fulfilled"). Such an
    answer is only a reason to look (getOrder PACKAGES), never proof by itself.
    """
    text = " ".join(" ".join(e.values()) for e in errors).lower()
    return "packagetoupdatenotfound" in text or "already" in text


def package_with_tracking(order_body: object, tracking_number: str) -> str | None:
    """The packageReferenceId of a package of a getOrder answer carrying this tracking number."""
    wanted = _normal_tracking(tracking_number)
    order = order_body.get("order") if isinstance(order_body, dict) else None
    packages = order.get("packages") if isinstance(order, dict) else None
    for package in packages if isinstance(packages, list) else []:
        if not isinstance(package, dict):
            continue
        reference, tracking = package.get("packageReferenceId"), package.get("trackingNumber")
        if (
            isinstance(reference, str)
            and isinstance(tracking, str)
            and _normal_tracking(tracking) == wanted
        ):
            return reference
    return None


def marketplace_of(order_body: object) -> str:
    """``salesChannel.marketplaceId`` of a getOrder answer."""
    order = order_body.get("order") if isinstance(order_body, dict) else None
    channel = order.get("salesChannel") if isinstance(order, dict) else None
    marketplace_id = channel.get("marketplaceId") if isinstance(channel, dict) else None
    if not isinstance(marketplace_id, str) or not marketplace_id:
        raise PermanentError("getOrder response: order.salesChannel.marketplaceId is missing")
    return marketplace_id


def _normal_tracking(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()

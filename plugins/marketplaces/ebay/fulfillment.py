"""Pure planning of shipment confirmations as eBay shipping fulfillments.

References (``sell_fulfillment_v1_oas3`` v1.20.0): createShippingFulfillment
``POST /order/{orderId}/shipping_fulfillment`` with ``ShippingFulfillmentDetails`` (``lineItems``
of ``{lineItemId, quantity}``, ``shippedDate``, ``shippingCarrierCode``, ``trackingNumber``),
answering 201 with ``Location: {ENV}/sell/fulfillment/v1/order/{ORDERID}/shipping_fulfillment/
{FULFILLMENTID}``; one call per package; tracking numbers are letters and digits only, no spaces
or hyphens; a line item appears once per request (error 32210). getShippingFulfillments
``GET /order/{orderId}/shipping_fulfillment`` answers ``ShippingFulfillmentPagedCollection``
(``fulfillments[]`` of ``{fulfillmentId, shipmentTrackingNumber, shippingCarrierCode,
lineItems}``). Carrier codes: the Trading API's ``ShippingCarrierCodeType`` / GeteBayDetails
``ShippingCarrierDetails`` values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from hub.domain.messages import ShipmentConfirmation
from hub.errors import PermanentError
from plugins.marketplaces.ebay import shapes
from plugins.marketplaces.ebay.mapping import iso_millis

# Hub carrier plugin name -> eBay shippingCarrierCode, for carriers whose eBay code is spelt in
# ShippingCarrierCodeType or the GeteBayDetails carrier list. Others: settings.carrier_codes.
CARRIER_CODES: Mapping[str, str] = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhl_express": "DHL",
    "mydhl": "DHL",
    "deutsche_post": "DeutschePost",
    "hermes": "Hermes",
    "dpd": "DPD",
    "australia_post": "AustraliaPost",
}
_NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")
_SEPARATORS = re.compile(r"[\s-]+")


def carrier_code(confirmation: ShipmentConfirmation, extra: Mapping[str, str]) -> str:
    carrier = confirmation.carrier.strip().lower()
    table = {**CARRIER_CODES, **{k.strip().lower(): v for k, v in extra.items()}}
    if carrier not in table:
        raise PermanentError(
            f"carrier {confirmation.carrier!r} has no eBay shippingCarrierCode: add it to "
            "[marketplaces.ebay] carrier_codes"
        )
    return table[carrier]


def tracking_number(value: str) -> str:
    """The tracking number as eBay takes it: spaces and hyphens of the printed form dropped."""
    number = _SEPARATORS.sub("", value)
    if not number or _NOT_ALPHANUMERIC.search(number):
        raise PermanentError(
            f"tracking_number: eBay accepts letters and digits only, not {value!r:.40}"
        )
    return number


def fulfillment_body(
    confirmation: ShipmentConfirmation, carrier: str, tracking: str
) -> dict[str, Any]:
    """``ShippingFulfillmentDetails`` for the shipment's one package; a line listed twice is
    sent once with the quantities added."""
    quantities: dict[str, int] = {}
    for line in confirmation.lines:
        quantities[line.line_id] = quantities.get(line.line_id, 0) + line.quantity
    if not quantities:
        raise PermanentError("lines: a shipment without lines cannot be confirmed on eBay")
    return {
        "lineItems": [{"lineItemId": i, "quantity": q} for i, q in quantities.items()],
        "shippedDate": iso_millis(confirmation.shipped_at),
        "shippingCarrierCode": carrier,
        "trackingNumber": tracking,
    }


def read_fulfillments(body: Any) -> shapes.ShippingFulfillments:
    if not isinstance(body, dict):
        raise PermanentError("getShippingFulfillments: the answer is not a JSON object")
    try:
        return shapes.ShippingFulfillments.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise PermanentError(f"getShippingFulfillments: {where}: {error['msg']}") from None


def with_tracking(
    fulfillments: shapes.ShippingFulfillments, tracking: str
) -> shapes.ShippingFulfillment | None:
    """The fulfillment already carrying this tracking number: the package's earlier
    confirmation (by the hub after a lost answer, or by hand in Seller Hub)."""
    wanted = tracking.upper()
    for fulfillment in fulfillments.fulfillments:
        known = _SEPARATORS.sub("", fulfillment.shipmentTrackingNumber or "").upper()
        if known == wanted:
            return fulfillment
    return None


def fulfillment_id(location: str | None) -> str | None:
    """The ``FULFILLMENTID`` at the end of createShippingFulfillment's ``Location``."""
    if not location:
        return None
    path = urlsplit(location).path.rstrip("/")
    head, _, tail = path.rpartition("/")
    if not head.endswith("/shipping_fulfillment") or not tail:
        return None
    return unquote(tail)


def channel_reference(order_id: str, fulfillment: str) -> str:
    """Stable name of a fulfillment: its id is unique only within its order."""
    return f"{order_id}/shipping_fulfillment/{fulfillment}"

"""WooCommerce's order JSON as pydantic shapes: only the fields the hub reads, the rest ignored.

Reference: WooCommerce REST API docs, wp-api-v3 "Orders" ("Order properties", "Order - Billing /
Shipping / Meta data / Line items / Shipping lines / Refunds properties" and the "Retrieve an
order" JSON example), github.com/woocommerce/woocommerce-rest-api-docs
``source/includes/wp-api-v3/_orders.md`` (commit 13d6196). Webhook deliveries carry the same JSON
("Webhooks", "Delivery/payload": "exactly the same as if requested via the REST API").

Money fields are strings ("29.35"); the line ``price`` is a JSON number (total / quantity), which
the client reads as Decimal, never float. ``*_gmt`` dates carry no offset: they are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(value: object) -> object:
    """Ids and loosely typed values as text (JSON integers; meta values a plugin stored)."""
    return str(value) if isinstance(value, int | float | Decimal) else value


Gmt = Annotated[datetime, AfterValidator(_utc)]
"""A ``*_gmt`` field: naive in the JSON, UTC by definition."""
Id = Annotated[str, BeforeValidator(_text)]
Text = Annotated[str | None, BeforeValidator(_text)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WcAddress(_Shape):
    first_name: Text = None
    last_name: Text = None
    company: Text = None
    address_1: Text = None
    address_2: Text = None
    city: Text = None
    state: Text = None
    postcode: Text = None
    country: Text = None
    email: Text = None
    phone: Text = None


class WcMeta(_Shape):
    id: int | None = None
    key: str
    value: Any = None


class WcLineItem(_Shape):
    id: Id
    name: Text = None
    product_id: int | None = None
    variation_id: int | None = None
    quantity: int
    sku: Text = None
    subtotal: Decimal | None = None
    total: Decimal | None = None
    price: Decimal | None = None
    meta_data: list[WcMeta] = []


class WcShippingLine(_Shape):
    method_id: Text = None
    method_title: Text = None
    total: Decimal | None = None


class WcRefund(_Shape):
    id: Id
    total: Decimal | None = None


class WcOrder(_Shape):
    id: Id
    number: Text = None
    status: str
    currency: str
    date_created_gmt: Gmt | None = None
    date_modified_gmt: Gmt | None = None
    date_paid_gmt: Gmt | None = None
    billing: WcAddress = WcAddress()
    shipping: WcAddress = WcAddress()
    line_items: list[WcLineItem]
    shipping_lines: list[WcShippingLine] = []
    shipping_total: Decimal | None = None
    refunds: list[WcRefund] = []
    meta_data: list[WcMeta] = []

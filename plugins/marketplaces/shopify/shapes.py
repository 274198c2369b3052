"""Shopify's order JSON as pydantic shapes: only the fields the hub uses, the rest ignored.

``Rest*``: the REST-shaped order of order webhooks (Admin REST ``Order`` resource, 2025-10, as in
the ``orders/create`` sample payload at shopify.dev/docs/api/webhooks/2025-10).
``Gql*``: the GraphQL Admin ``Order`` selected by ``queries.ORDER_FRAGMENT``
(shopify.dev/docs/api/admin-graphql/2025-10/objects/Order and linked objects).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _text(value: object) -> object:
    """Read loosely typed values as text: cart attributes (a theme may post numbers or
    booleans) and REST ids (JSON integers)."""
    return str(value) if isinstance(value, int | float | bool) else value


Text = Annotated[str | None, BeforeValidator(_text)]
Id = Annotated[str, BeforeValidator(_text)]
"""REST ids are JSON integers; as text they keep an error's field name free of union tags."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestMoney(_Shape):
    amount: Decimal
    currency_code: str


class RestMoneySet(_Shape):
    shop_money: RestMoney


class RestAddress(_Shape):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None


class RestLineItem(_Shape):
    id: Id
    sku: str | None = None
    title: str | None = None
    name: str | None = None
    quantity: int
    current_quantity: int | None = None
    requires_shipping: bool = True
    price: Decimal | None = None
    price_set: RestMoneySet | None = None

    @property
    def current(self) -> int:
        """The quantity after order edits (0: the line was removed)."""
        return self.quantity if self.current_quantity is None else self.current_quantity


class RestShippingLine(_Shape):
    title: str | None = None
    code: str | None = None
    is_removed: bool = False


class RestAttribute(_Shape):
    name: str
    value: Text = None


class RestCustomer(_Shape):
    first_name: str | None = None
    last_name: str | None = None


class RestOrder(_Shape):
    id: Id
    created_at: datetime | None = None
    processed_at: datetime | None = None
    currency: str | None = None
    financial_status: str | None = None
    email: str | None = None
    contact_email: str | None = None
    phone: str | None = None
    tags: str | None = None
    note_attributes: list[RestAttribute] = []
    customer: RestCustomer | None = None
    shipping_address: RestAddress | None = None
    line_items: list[RestLineItem]
    shipping_lines: list[RestShippingLine] = []
    total_shipping_price_set: RestMoneySet | None = None


class GqlMoney(_Shape):
    amount: Decimal
    currencyCode: str


class GqlMoneyBag(_Shape):
    shopMoney: GqlMoney


class GqlAddress(_Shape):
    name: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    provinceCode: str | None = None
    zip: str | None = None
    countryCodeV2: str | None = None
    phone: str | None = None


class GqlLineItem(_Shape):
    id: str
    sku: str | None = None
    title: str | None = None
    name: str | None = None
    quantity: int
    currentQuantity: int | None = None
    requiresShipping: bool = True
    originalUnitPriceSet: GqlMoneyBag | None = None

    @property
    def current(self) -> int:
        """The quantity after order edits (0: the line was removed)."""
        return self.quantity if self.currentQuantity is None else self.currentQuantity


class PageInfo(_Shape):
    hasNextPage: bool = False
    endCursor: str | None = None


class GqlLineItems(_Shape):
    nodes: list[GqlLineItem]
    pageInfo: PageInfo = PageInfo()


class GqlAttribute(_Shape):
    key: str
    value: Text = None


class GqlCustomer(_Shape):
    firstName: str | None = None
    lastName: str | None = None


class GqlShippingLine(_Shape):
    title: str | None = None
    code: str | None = None


class GqlOrder(_Shape):
    id: str
    createdAt: datetime | None = None
    processedAt: datetime | None = None
    displayFinancialStatus: str | None = None
    currencyCode: str | None = None
    email: str | None = None
    phone: str | None = None
    tags: list[str] = []
    customAttributes: list[GqlAttribute] = []
    customer: GqlCustomer | None = None
    shippingAddress: GqlAddress | None = None
    shippingLine: GqlShippingLine | None = None
    totalShippingPriceSet: GqlMoneyBag | None = None
    lineItems: GqlLineItems

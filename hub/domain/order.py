"""The order as the hub sees it, whatever channel it came from."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.domain.address import Address, Contact
from hub.domain.money import CurrencyCode, Money
from hub.domain.status import PaymentStatus


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    line_id: str = Field(min_length=1, description="The channel's id of this line")
    sku: str = Field(min_length=1)
    quantity: int = Field(gt=0)
    unit_price: Money
    title: str = ""
    weight_grams: int | None = Field(default=None, ge=0)


class Order(BaseModel):
    """An order taken in from a marketplace. `key` identifies it across the hub."""

    model_config = ConfigDict(frozen=True)

    marketplace: str = Field(pattern=r"^[a-z0-9_\-]+$", description="Plugin name, e.g. 'shopify'")
    account: str = Field(default="default", description="Channel account / shop, for multi-shop")
    external_id: str = Field(min_length=1, pattern=r"^[^\s:]+$")
    placed_at: datetime
    updated_at: datetime | None = None
    """When the channel last changed this order; orders the versions a workflow receives."""
    currency: CurrencyCode
    lines: tuple[OrderLine, ...] = Field(min_length=1)
    customer: Contact
    shipping_address: Address
    payment_status: PaymentStatus = PaymentStatus.PAID
    service_level: str = Field(default="standard", description="standard | express | economy")
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    shipping_paid: Money | None = None
    is_gift: bool = False
    gift_message: str | None = None
    is_presale: bool = False
    release_at: datetime | None = None
    """Presale: not to be shipped before this moment (the product's release date)."""
    minimal_packaging: bool = Field(
        default=False, description="Customer opted in to minimal packaging"
    )
    tags: tuple[str, ...] = ()

    @field_validator("placed_at", "updated_at", "ship_by", "deliver_by", "release_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a timezone")
        return value

    @model_validator(mode="after")
    def _one_currency(self) -> Order:
        for line in self.lines:
            if line.unit_price.currency != self.currency:
                raise ValueError(
                    f"line {line.line_id} is priced in {line.unit_price.currency}, "
                    f"the order in {self.currency}"
                )
        return self

    @property
    def key(self) -> str:
        """`{marketplace}:{external_id}`; the workflow id is `order:{key}`."""
        return f"{self.marketplace}:{self.external_id}"

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.marketplace, self.external_id)

    @property
    def total(self) -> Money:
        total = Money(amount=Decimal(0), currency=self.currency)
        for line in self.lines:
            total = total + line.unit_price * line.quantity
        return total

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def order_workflow_id(marketplace: str, external_id: str) -> str:
    return f"order:{marketplace}:{external_id}"

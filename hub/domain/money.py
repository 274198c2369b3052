"""Money as Decimal plus an ISO 4217 currency: never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict


def _iso_4217(code: str) -> str:
    code = code.upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[str, AfterValidator(_iso_4217)]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(amount=self.amount * factor, currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(amount=Decimal(0), currency=currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"

"""Customs data for cross-border shipments: what carriers need for a commercial invoice / CN23."""

from __future__ import annotations

from enum import StrEnum

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.domain.money import Money

# The EU customs union's member states since 2020-02-01 (european-union.europa.eu, "EU
# countries"). Parcels between them need no customs declaration; any other border does.
# (Special fiscal territories such as the Canary Islands are not modelled.)
EU_CUSTOMS_UNION = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


def needs_customs(origin: str, destination: str) -> bool:
    """Whether a parcel from `origin` to `destination` (ISO alpha-2) crosses a customs border."""
    if origin == destination:
        return False
    return not (origin in EU_CUSTOMS_UNION and destination in EU_CUSTOMS_UNION)


class Incoterm(StrEnum):
    """Incoterms 2020 used for parcels: who pays duties and taxes on arrival."""

    DAP = "DAP"  # delivered at place: the recipient pays import duties
    DDP = "DDP"  # delivered duty paid: the seller pays them
    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DPU = "DPU"


class ContentsType(StrEnum):
    MERCHANDISE = "merchandise"
    GIFT = "gift"
    DOCUMENTS = "documents"
    SAMPLE = "sample"
    RETURNED_GOODS = "returned_goods"


class CustomsItem(BaseModel):
    """One commodity line of the customs declaration."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    sku: str
    description: str = Field(min_length=1, max_length=256)
    hs_code: str = Field(pattern=r"^\d{6,10}$")
    """Harmonized System tariff number: 6 digits worldwide, up to 10 nationally."""
    origin_country: str
    quantity: int = Field(gt=0)
    unit_value: Money
    unit_weight_grams: int = Field(gt=0)

    @field_validator("origin_country")
    @classmethod
    def _iso_country(cls, value: str) -> str:
        code = value.upper()
        if pycountry.countries.get(alpha_2=code) is None:
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return code

    @property
    def total_value(self) -> Money:
        return self.unit_value * self.quantity


class Customs(BaseModel):
    model_config = ConfigDict(frozen=True)

    contents: ContentsType = ContentsType.MERCHANDISE
    incoterm: Incoterm = Incoterm.DAP
    items: tuple[CustomsItem, ...] = Field(min_length=1)
    invoice_number: str | None = None
    shipping_charges: Money | None = None
    """What the buyer paid to ship this parcel ("postal charges" on a CN23, "freight" on an
    invoice): many countries levy duty on goods plus transport. None: nothing was charged."""

    @property
    def total_value(self) -> Money:
        """What the goods declared are worth together."""
        first, *rest = (item.total_value for item in self.items)
        return sum(rest, first)

    @model_validator(mode="after")
    def _one_currency(self) -> Customs:
        currencies = {item.unit_value.currency for item in self.items}
        if self.shipping_charges is not None:
            currencies.add(self.shipping_charges.currency)
        if len(currencies) > 1:
            raise ValueError("a declaration is valued in one currency")
        return self

"""Settings of the standard inserts plugin: ``[inserts.standard]`` in ``config/hub.toml``.

One table per insert; every key has a default, so an empty ``[inserts.standard]`` works::

    [inserts.standard.return_guide]
    countries = ["DE", "AT", "CH"]      # or "all"

    [inserts.standard.coupon]
    thresholds = { EUR = "100", GBP = "85" }

    [inserts.standard.season_flyer]
    tag = "new-season"
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.address import CountryCode
from hub.domain.money import CurrencyCode
from hub.plugin import PluginSettings

_INSERT_ID = r"^[a-z0-9][a-z0-9_\-]*$"


class Card(BaseModel):
    """A printed insert: its id is what the packer scans and the WMS counts stock under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    insert_id: str = Field(pattern=_INSERT_ID)
    name: str = Field(min_length=1)
    weight_grams: int = Field(ge=0)


class ThankYouCard(Card):
    insert_id: str = Field(default="thank-you-card", pattern=_INSERT_ID)
    name: str = Field(default="Thank-you card", min_length=1)
    weight_grams: int = Field(default=6, ge=0)


class ReturnGuide(Card):
    insert_id: str = Field(default="return-guide", pattern=_INSERT_ID)
    name: str = Field(default="Return guide", min_length=1)
    weight_grams: int = Field(default=8, ge=0)
    countries: Literal["all"] | frozenset[CountryCode] = "all"
    """Destinations (ISO 3166-1 alpha-2) whose parcels get the guide, or "all"."""


class GiftNote(Card):
    insert_id: str = Field(default="gift-note", pattern=_INSERT_ID)
    name: str = Field(default="Gift note", min_length=1)
    weight_grams: int = Field(default=5, ge=0)


class CouponCard(Card):
    insert_id: str = Field(default="coupon-card", pattern=_INSERT_ID)
    name: str = Field(default="Coupon card", min_length=1)
    weight_grams: int = Field(default=5, ge=0)
    thresholds: dict[CurrencyCode, Decimal] = Field(default_factory=lambda: {"EUR": Decimal(100)})
    """Order total from which the coupon goes in, per currency. No exchange rates: an order in
    a currency not listed gets no coupon."""


class SeasonFlyer(Card):
    insert_id: str = Field(default="new-season-flyer", pattern=_INSERT_ID)
    name: str = Field(default="New-season picks flyer", min_length=1)
    weight_grams: int = Field(default=12, ge=0)
    tag: str = Field(default="new-season", min_length=1)
    """Order tag (compared case-insensitively) that calls for the flyer."""


class StandardInsertsSettings(PluginSettings):
    thank_you: ThankYouCard = ThankYouCard()
    """In every parcel."""
    return_guide: ReturnGuide = ReturnGuide()
    """In parcels to the listed destinations."""
    gift_note: GiftNote = GiftNote()
    """In orders marked as a gift."""
    coupon: CouponCard = CouponCard()
    """In orders whose total reaches the threshold of their currency."""
    season_flyer: SeasonFlyer = SeasonFlyer()
    """In orders carrying the tag."""

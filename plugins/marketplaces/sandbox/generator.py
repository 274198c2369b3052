"""Realistic orders in the sandbox channel's own JSON (a simplified Shopify order), some of them
broken on purpose at configured rates so the hub's holds get exercised.

All randomness comes from one ``random.Random``: the same seed gives the same orders. Ids and
timestamps are handed in, because they belong to the shop's store and clock.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from plugins.marketplaces.sandbox.catalog import Product
from plugins.marketplaces.sandbox.clock import channel_time
from plugins.marketplaces.sandbox.geography import COUNTRIES, City, Country

SHOP_CURRENCY = "EUR"
"""The catalogue's prices carry no currency: the shop sells in euros everywhere."""


@dataclass(frozen=True)
class ShippingOption:
    code: str
    title: str
    price: str
    transit_days: int
    """Days after ship-by the shop promises delivery (the order's deliver-by)."""
    weight: int
    """Share of customers choosing it."""


SHIPPING = (
    ShippingOption("standard", "Standard shipping", "4.90", transit_days=3, weight=70),
    ShippingOption("express", "Express shipping", "12.90", transit_days=1, weight=15),
    ShippingOption("economy", "Economy shipping", "0.00", transit_days=6, weight=15),
)
TAGS = ("returning-customer", "newsletter", "minimal-packaging", "first-order")
GIFT_MESSAGES = (
    "Happy birthday! Enjoy.",
    "Congratulations on the new flat!",
    "A little something to say thank you.",
    "Merry Christmas from all of us.",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class Rates:
    invalid_address: float = 0.0
    unknown_sku: float = 0.0
    unpaid: float = 0.0


@dataclass(frozen=True)
class OrderNumber:
    id: int
    """The channel's id of the order (``external_id`` in the hub)."""
    number: int
    """What the customer sees: ``#1001``."""


class OrderGenerator:
    def __init__(self, products: Sequence[Product], rates: Rates, rng: random.Random) -> None:
        self.products = tuple(products)
        self.rates = rates
        self.rng = rng
        # Cheaper things sell more often; keeps a 20-order demo from emptying the lamp shelf.
        self._popularity = [1 / float(max(p.price, Decimal(1))) for p in self.products]

    def order(self, ids: OrderNumber, created_at: datetime) -> dict[str, Any]:
        rng = self.rng
        # Every draw happens whatever the rates, so a rate change does not reshuffle the rest.
        broken_address = rng.random() < self.rates.invalid_address
        unknown_sku = rng.random() < self.rates.unknown_sku
        unpaid = rng.random() < self.rates.unpaid

        country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        address = self._address(country, first, last)
        if broken_address:
            self._break_address(address)
        lines = self._lines(ids.id)
        if unknown_sku:
            line = rng.choice(lines)
            line["sku"] = f"DISCONTINUED-{rng.randint(100, 999)}"
            line["title"] = "Discontinued item"
        shipping = rng.choices(SHIPPING, weights=[option.weight for option in SHIPPING])[0]
        ship_by = created_at + timedelta(days=rng.randint(1, 2))
        deliver_by = ship_by + timedelta(days=shipping.transit_days)
        gift = rng.random() < 0.08
        tags = [tag for tag in TAGS if rng.random() < 0.15]
        stamp = channel_time(created_at)
        return {
            "id": ids.id,
            "name": f"#{ids.number}",
            "created_at": stamp,
            "updated_at": stamp,
            "currency": SHOP_CURRENCY,
            "financial_status": "pending" if unpaid else _paid_status(rng),
            "email": _email(first, last, rng),
            "phone": address["phone"],
            "line_items": lines,
            "shipping_address": address,
            "shipping_lines": [
                {"code": shipping.code, "title": shipping.title, "price": shipping.price}
            ],
            "ship_by": channel_time(ship_by),
            "deliver_by": channel_time(deliver_by),
            "gift": gift,
            "gift_message": rng.choice(GIFT_MESSAGES) if gift else None,
            "tags": ", ".join(tags),
            "cancelled_at": None,
            "cancel_reason": None,
        }

    def _lines(self, order_id: int) -> list[dict[str, Any]]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        chosen: list[Product] = []
        candidates, weights = list(self.products), list(self._popularity)
        while candidates and len(chosen) < count:
            (index,) = rng.choices(range(len(candidates)), weights=weights)
            chosen.append(candidates.pop(index))
            weights.pop(index)
        return [
            {
                "id": order_id * 100 + position,
                "sku": product.sku,
                "title": product.name,
                "quantity": rng.choices((1, 2, 3), weights=(75, 18, 7))[0],
                "price": f"{product.price:.2f}",
                "grams": product.weight_grams,
            }
            for position, product in enumerate(chosen, start=1)
        ]

    def _address(self, country: Country, first: str, last: str) -> dict[str, Any]:
        rng = self.rng
        city: City = rng.choice(country.cities)
        street, postal_code = rng.choice(city.streets)
        number = rng.randint(*country.house_numbers)
        unit = _digits(rng.choice(country.unit_lines), rng) if rng.random() < 0.25 else None
        phone = _digits(country.phone.format(area=city.phone_area), rng)
        has_phone = rng.random() < 0.7
        return {
            "first_name": first,
            "last_name": last,
            "company": rng.choice(country.companies) if rng.random() < 0.1 else None,
            "address1": country.street_line.format(street=street, number=number),
            "address2": unit,
            "city": city.name,
            "province_code": city.region,
            "zip": postal_code,
            "country_code": country.code,
            "phone": phone if has_phone else None,
        }

    def _break_address(self, address: dict[str, Any]) -> None:
        """The two mistakes customers make most: a postal code cut short, a street left out."""
        if self.rng.random() < 0.5:
            address["zip"] = address["zip"][:-1].rstrip()
        else:
            address["address1"] = ""


def _paid_status(rng: random.Random) -> str:
    return "authorized" if rng.random() < 0.1 else "paid"


def _digits(template: str, rng: random.Random) -> str:
    return "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in template)


def _email(first: str, last: str, rng: random.Random) -> str:
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    ascii_local = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    return f"{ascii_local}@{rng.choice(EMAIL_DOMAINS)}"

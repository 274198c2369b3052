"""The DHL Parcel DE products this adapter books, as data.

Source: Parcel DE Shipping API v2 OpenAPI 2.1.13, schema ``Product`` (the product codes and
names) and ``Shipment.billingNumber`` ("Digit 11 and digit 12 must correspond to the number of
the product", e.g. ``333333333301tt`` for V01PAK; the spec's examples use ``...5301`` for
V53WPAK, ``...6201`` for V62KP and ``...6601`` for V66WPI). Which product may carry a given
parcel to a given place (weight, size, countries) is left to DHL's own dry run
(``POST /orders?validate=true``): only the national / international split is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ProductCode = Literal["V01PAK", "V53WPAK", "V54EPAK", "V62WP", "V62KP", "V66WPI"]
ORIGIN_COUNTRY = "DE"
"""Parcel DE ships from Germany only (Post & Parcel Germany)."""


@dataclass(frozen=True)
class Product:
    code: ProductCode
    name: str
    procedure: str
    """Digits 11 and 12 of the billing number (Verfahren)."""
    national: bool
    """True: within Germany only; False: from Germany abroad only."""


PRODUCTS: dict[str, Product] = {
    p.code: p
    for p in (
        Product("V01PAK", "DHL Paket", "01", national=True),
        Product("V62WP", "DHL Warenpost", "62", national=True),
        Product("V62KP", "DHL Kleinpaket", "62", national=True),
        Product("V53WPAK", "DHL Paket International", "53", national=False),
        Product("V54EPAK", "DHL Europaket", "54", national=False),
        Product("V66WPI", "DHL Warenpost International", "66", national=False),
    )
}


def serves(product: Product, origin: str, destination: str) -> bool:
    """Whether the product can carry a parcel on this route at all (DHL's dry run decides the
    rest)."""
    if origin != ORIGIN_COUNTRY:
        return False
    return (destination == ORIGIN_COUNTRY) is product.national

"""The products the sandbox shop sells, read from the shared ``catalog.toml``.

The file also holds the embedded WMS's warehouses and stock; only ``[[products]]`` matter
here, and of them only sku, name, price and weight.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.errors import ConfigError, one_line


class Product(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    price: Decimal = Field(ge=0, decimal_places=2)
    weight_grams: int | None = Field(default=None, gt=0)


class _Products(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    products: tuple[Product, ...] = Field(min_length=1)


def load_products(path: Path) -> tuple[Product, ...]:
    """Parse the catalogue; any problem is a one-line ``ConfigError`` at start-up."""
    where = f"marketplaces.sandbox: catalog {path}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where} cannot be read: {exc}") from None
    try:
        products = _Products.model_validate(raw).products
    except ValidationError as exc:
        raise ConfigError(f"{where}: {one_line(exc)}") from None
    if len({p.sku for p in products}) != len(products):
        raise ConfigError(f"{where}: a product SKU appears twice")
    return products

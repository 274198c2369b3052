"""Reading ``catalog.toml``: products, warehouses and opening stock, checked as a whole.

The file is shared with other plugins (the sandbox marketplace reads prices), so product keys
this WMS does not use are ignored; warehouses and stock rows are this WMS's own and strict.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.domain.address import Address
from hub.errors import ConfigError, one_line
from plugins.warehouses.embedded.routing import Layout, Location


class Product(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str = Field(min_length=1)
    name: str = Field(min_length=1)
    barcode: str = Field(min_length=1)
    weight_grams: int = Field(gt=0)
    dimensions_mm: tuple[int, int, int]
    hs_code: str | None = None
    country_of_origin: str | None = None

    @model_validator(mode="after")
    def _positive_dimensions(self) -> Product:
        if min(self.dimensions_mm) <= 0:
            raise ValueError(f"{self.sku}: dimensions_mm must all be positive")
        return self


class Warehouse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    name: str
    address: Address


class StockRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    warehouse: str
    sku: str
    location: str
    on_hand: int = Field(ge=0)


class Catalog(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    products: tuple[Product, ...]
    warehouses: tuple[Warehouse, ...] = Field(min_length=1)
    stock: tuple[StockRow, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        _unique("product sku", [p.sku for p in self.products])
        _unique("product barcode", [p.barcode for p in self.products])
        _unique("warehouse code", [w.code for w in self.warehouses])
        # One slot per SKU per warehouse, one SKU per slot: the picker's scan relies on it.
        _unique("stock row (warehouse, sku)", [(s.warehouse, s.sku) for s in self.stock])
        _unique(
            "stock location",
            [(s.warehouse, str(Location.parse(s.location))) for s in self.stock],
        )
        skus = {p.sku for p in self.products}
        codes = {w.code for w in self.warehouses}
        for row in self.stock:
            if row.warehouse not in codes:
                raise ValueError(f"stock row for unknown warehouse {row.warehouse!r}")
            if row.sku not in skus:
                raise ValueError(f"stock row for unknown sku {row.sku!r}")
        return self


def _unique(what: str, values: list[object]) -> None:
    repeated = [value for value, count in Counter(values).items() if count > 1]
    if repeated:
        raise ValueError(f"duplicate {what}: {repeated[0]}")


def load_catalog(path: Path, layout: Layout) -> Catalog:
    """Parse and check the catalogue; every problem is a one-line ``ConfigError``."""
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"warehouses.embedded: cannot read catalog {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"warehouses.embedded: {path} is not valid TOML: {exc}") from None
    try:
        catalog = Catalog.model_validate(raw)
        for row in catalog.stock:
            layout.check(Location.parse(row.location))
    except ValidationError as exc:
        raise ConfigError(f"warehouses.embedded: {path}: {one_line(exc)}") from None
    except ValueError as exc:
        raise ConfigError(f"warehouses.embedded: {path}: {exc}") from None
    return catalog

"""A warehouse catalogue holding a channel fixture's SKUs, so its orders can be fulfilled."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

STOCKHOLM = (
    'address = { name = "Hub Fulfilment AB", line1 = "Lagervagen 12", city = "Stockholm",'
    ' postal_code = "12030", country = "SE" }'
)


def catalog_file(
    tmp_path: Path, skus: Iterable[str], on_hand: int = 50, warehouse_address: str = STOCKHOLM
) -> Path:
    """`warehouse_address` is a TOML inline table line: ``address = { ... }``."""
    skus = list(skus)
    lines = []
    for number, sku in enumerate(skus, start=1):
        lines += [
            "[[products]]",
            f'sku = "{sku}"',
            f'name = "Product {sku}"',
            f'barcode = "73501234{number:05d}"',
            'price = "10.00"',
            "weight_grams = 400",
            "dimensions_mm = [250, 180, 80]",
            'hs_code = "950300"',
            'country_of_origin = "SE"',
            "",
        ]
    lines += [
        "[[warehouses]]",
        'code = "STO1"',
        'name = "Stockholm fulfilment centre"',
        warehouse_address,
        "",
    ]
    for number, sku in enumerate(skus, start=1):
        lines += [
            "[[stock]]",
            'warehouse = "STO1"',
            f'sku = "{sku}"',
            f'location = "01-{number:02d}-1"',
            f"on_hand = {on_hand}",
            "",
        ]
    path = tmp_path / "catalog.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path

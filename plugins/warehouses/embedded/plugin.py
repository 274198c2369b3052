"""The embedded WMS plugin: warehouse hooks over a SQLite file in the plugin's state directory.

Hooks are plain functions: the host runs them in a worker thread, and each opens its own
connection and transaction (see store.py).
"""

from __future__ import annotations

import json

from hub.domain.messages import (
    ItemSpec,
    PackConfirmation,
    PackResult,
    PickList,
    PickListRequest,
    PickResult,
    ReleaseRequest,
    ReleaseResult,
    Reservation,
    ReservationRequest,
)
from hub.domain.shipment import Dimensions
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin, PluginRuntime
from plugins.warehouses.embedded import floor, inventory, release
from plugins.warehouses.embedded.catalog import Catalog, load_catalog
from plugins.warehouses.embedded.inventory import StockLevel
from plugins.warehouses.embedded.routing import Layout
from plugins.warehouses.embedded.settings import EmbeddedWarehouseSettings
from plugins.warehouses.embedded.store import Database


class EmbeddedWarehouse(HubPlugin[EmbeddedWarehouseSettings]):
    """Stock per warehouse and location, all-or-nothing reservations that never oversell,
    routed pick lists, an automated scanning picker and pack verification."""

    family = Family.WAREHOUSES
    name = "embedded"
    settings_model = EmbeddedWarehouseSettings

    def __init__(self, settings: EmbeddedWarehouseSettings, runtime: PluginRuntime) -> None:
        super().__init__(settings, runtime)
        self.layout = Layout(
            aisle_spacing_m=settings.aisle_spacing_m,
            bay_length_m=settings.bay_length_m,
            bays_per_aisle=settings.bays_per_aisle,
            depot_aisle=settings.depot_aisle,
        )
        self.catalog_file = runtime.config_dir / (settings.catalog_file or "catalog.toml")
        self.db = Database(
            self.state_dir / settings.database, busy_timeout_ms=settings.busy_timeout_ms
        )
        # At start-up, so a broken catalogue stops the hub with a ConfigError, not an order.
        self.db.initialise(self._load_catalog)

    def _load_catalog(self) -> Catalog:
        return load_catalog(self.catalog_file, self.layout)

    # ----------------------------------------------------------------- catalogue

    @hookimpl
    def warehouse_item_specs(self, skus: list[str]) -> list[ItemSpec]:
        with self.db.read() as conn:
            rows = {
                row["sku"]: row
                for row in conn.execute(
                    "SELECT * FROM products WHERE sku IN (SELECT value FROM json_each(?))",
                    (json.dumps(skus),),
                )
            }
        return [
            ItemSpec(
                sku=sku,
                name=row["name"],
                weight_grams=row["weight_grams"],
                dimensions=Dimensions(
                    length_mm=row["length_mm"],
                    width_mm=row["width_mm"],
                    height_mm=row["height_mm"],
                ),
                hs_code=row["hs_code"],
                country_of_origin=row["country_of_origin"],
            )
            for sku in dict.fromkeys(skus)  # asked order, once each
            if (row := rows.get(sku)) is not None
        ]

    # ----------------------------------------------------------------- reservations

    @hookimpl
    def warehouse_reserve(self, request: ReservationRequest) -> Reservation:
        with self.db.write() as conn:
            return inventory.reserve(conn, request)

    @hookimpl
    def warehouse_release(self, request: ReleaseRequest) -> ReleaseResult:
        with self.db.write() as conn:
            return release.release(conn, request)

    # ----------------------------------------------------------------- floor

    @hookimpl
    def warehouse_pick_list(self, request: PickListRequest) -> PickList:
        optimal = self.settings.routing == "optimal"
        with self.db.write() as conn:
            return floor.pick_list(conn, request, self.layout, optimal=optimal)

    @hookimpl
    def warehouse_confirm_pick(self, pick_list: PickList) -> PickResult:
        with self.db.write() as conn:
            return floor.confirm_pick(conn, pick_list)

    @hookimpl
    def warehouse_confirm_pack(self, confirmation: PackConfirmation) -> PackResult:
        with self.db.write() as conn:
            return floor.confirm_pack(conn, confirmation)

    # ----------------------------------------------------------------- admin (CLI, tests)

    def stock_levels(self, warehouse: str | None = None) -> list[StockLevel]:
        """Every stock row (or one warehouse's), by warehouse then SKU."""
        with self.db.read() as conn:
            return inventory.stock_levels(conn, warehouse)

    def adjust_stock(
        self, warehouse: str, sku: str, delta: int, reason: str, *, location: str | None = None
    ) -> StockLevel:
        """Count units in (delta > 0) or out; `location` places a SKU new to the warehouse."""
        with self.db.write() as conn:
            return inventory.adjust_stock(
                conn, self.layout, warehouse, sku, delta, reason, location
            )

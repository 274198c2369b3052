"""Embedded WMS: SQLite-backed stock per warehouse and location, all-or-nothing reservations
that never oversell, routed pick lists, an automated scanning picker and pack verification."""

from plugins.warehouses.embedded.inventory import StockLevel
from plugins.warehouses.embedded.plugin import EmbeddedWarehouse
from plugins.warehouses.embedded.settings import EmbeddedWarehouseSettings

__all__ = ["EmbeddedWarehouse", "EmbeddedWarehouseSettings", "StockLevel"]

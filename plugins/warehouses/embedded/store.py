"""The WMS's SQLite file: connections, transactions, schema and the first-start seed.

Hooks run in worker threads and several worker processes may share the file, so every call
opens its own short-lived connection (a connection is never shared between threads). WAL mode
lets readers run beside the one writer. Every write runs in ``BEGIN IMMEDIATE``: the write lock
is taken before the first read, so "check available stock, then reserve it" cannot interleave
with another process doing the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hub.sqlite import SqliteDatabase
from plugins.warehouses.embedded.catalog import Catalog
from plugins.warehouses.embedded.routing import Location

SCHEMA_VERSION = 1

# Quantities: stock.reserved is the sum over active reservation lines of
# (quantity - picked - released); picking takes units off both on_hand and reserved.
# on_hand may drop below reserved after a stock adjustment (damage found): available goes
# negative and the next pick of that SKU comes up short.
_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS products (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        barcode TEXT NOT NULL UNIQUE,
        weight_grams INTEGER NOT NULL CHECK (weight_grams > 0),
        length_mm INTEGER NOT NULL,
        width_mm INTEGER NOT NULL,
        height_mm INTEGER NOT NULL,
        hs_code TEXT,
        country_of_origin TEXT)""",
    """CREATE TABLE IF NOT EXISTS warehouses (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        address_json TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS stock (
        warehouse TEXT NOT NULL REFERENCES warehouses (code),
        sku TEXT NOT NULL REFERENCES products (sku),
        location TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        PRIMARY KEY (warehouse, sku),
        UNIQUE (warehouse, location))""",
    """CREATE TABLE IF NOT EXISTS stock_moves (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        warehouse TEXT NOT NULL,
        sku TEXT NOT NULL,
        delta INTEGER NOT NULL,
        reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS reservations (
        reservation_key TEXT PRIMARY KEY,
        lines_json TEXT NOT NULL,
        result_json TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'released')),
        created_at TEXT NOT NULL,
        released_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS reservation_lines (
        reservation_key TEXT NOT NULL REFERENCES reservations (reservation_key),
        line_id TEXT NOT NULL,
        warehouse TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        picked INTEGER NOT NULL DEFAULT 0 CHECK (picked >= 0),
        released INTEGER NOT NULL DEFAULT 0 CHECK (released >= 0),
        CHECK (picked + released <= quantity),
        PRIMARY KEY (reservation_key, line_id, warehouse))""",
    """CREATE TABLE IF NOT EXISTS pick_lists (
        pick_list_id TEXT PRIMARY KEY,
        shipment_id TEXT NOT NULL UNIQUE,
        reservation_key TEXT NOT NULL REFERENCES reservations (reservation_key),
        warehouse TEXT NOT NULL,
        list_json TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS pick_list_lines (
        pick_list_id TEXT NOT NULL REFERENCES pick_lists (pick_list_id),
        line_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (pick_list_id, line_id))""",
    """CREATE TABLE IF NOT EXISTS picks (
        pick_list_id TEXT PRIMARY KEY REFERENCES pick_lists (pick_list_id),
        result_json TEXT NOT NULL,
        complete INTEGER NOT NULL,
        confirmed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS packs (
        pick_list_id TEXT PRIMARY KEY REFERENCES picks (pick_list_id),
        shipment_id TEXT NOT NULL,
        packaging_option_id TEXT NOT NULL,
        parcels_json TEXT NOT NULL,
        inserts_json TEXT NOT NULL,
        result_json TEXT NOT NULL,
        packed_at TEXT NOT NULL)""",
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database(SqliteDatabase):
    def __init__(self, path: Path, *, busy_timeout_ms: int) -> None:
        # durable: an answered reservation must survive a power cut, the hub will not ask again.
        super().__init__(path, name="embedded WMS", busy_timeout_ms=busy_timeout_ms)

    def initialise(self, load_catalog: Callable[[], Catalog]) -> bool:
        """Create the schema and, on the very first start only, seed it from the catalogue.

        Safe when several processes start at once: the check and the seed share one write
        transaction. Returns True if this call seeded the database.
        """
        self.use_wal()
        with self.write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded_at'").fetchone():
                return False
            _seed(conn, load_catalog())
            conn.execute("INSERT INTO meta VALUES ('seeded_at', ?)", (now(),))
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        return True


def _seed(conn: sqlite3.Connection, catalog: Catalog) -> None:
    conn.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.sku,
                p.name,
                p.barcode,
                p.weight_grams,
                *p.dimensions_mm,
                p.hs_code,
                p.country_of_origin,
            )
            for p in catalog.products
        ],
    )
    conn.executemany(
        "INSERT INTO warehouses VALUES (?, ?, ?)",
        [(w.code, w.name, w.address.model_dump_json()) for w in catalog.warehouses],
    )
    conn.executemany(
        "INSERT INTO stock (warehouse, sku, location, on_hand) VALUES (?, ?, ?, ?)",
        [(s.warehouse, s.sku, str(Location.parse(s.location)), s.on_hand) for s in catalog.stock],
    )
    at = now()
    conn.executemany(
        "INSERT INTO stock_moves (at, warehouse, sku, delta, reason) VALUES (?, ?, ?, ?, ?)",
        [(at, s.warehouse, s.sku, s.on_hand, "opening stock from catalog") for s in catalog.stock],
    )

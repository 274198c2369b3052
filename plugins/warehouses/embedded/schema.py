"""The WMS's tables, as created in a new file; migrations.py brings older files to them."""

from __future__ import annotations

SCHEMA_VERSION = 2
"""2: picks per attempt (re-picks), per pick-list-line picked/released/put-back counts,
partial releases. Files of version 1 are upgraded in place (see migrations.py)."""

# Quantities: stock.reserved is the sum over reservation lines of (quantity - picked -
# released); picking takes units off both on_hand and reserved, and a put-back returns them to
# on_hand. Each pick-list line counts the same for its shipment (picked, released, put_back),
# so a reservation line's picked and released are the sums over its pick-list lines plus, for
# released, its units never listed. on_hand may drop below reserved after a stock adjustment
# (damage found): available goes negative and the next pick of that SKU comes up short.

# Columns of pick_list_lines added by version 2: also the migration's ALTER TABLE clauses, so
# an upgraded file has the same constraints as a new one.
PICK_LINE_COUNTS = [
    "picked INTEGER NOT NULL DEFAULT 0 CHECK (picked >= 0)",
    "released INTEGER NOT NULL DEFAULT 0 CHECK (released >= 0 AND picked + released <= quantity)",
    "put_back INTEGER NOT NULL DEFAULT 0 CHECK (put_back >= 0 AND put_back <= picked)",
]
PICK_ATTEMPTS = """CREATE TABLE IF NOT EXISTS pick_attempts (
        pick_list_id TEXT NOT NULL REFERENCES pick_lists (pick_list_id),
        attempt INTEGER NOT NULL CHECK (attempt >= 1),
        list_json TEXT NOT NULL,
        result_json TEXT,
        issued_at TEXT NOT NULL,
        confirmed_at TEXT,
        PRIMARY KEY (pick_list_id, attempt))"""
PACKS = """CREATE TABLE IF NOT EXISTS packs (
        pick_list_id TEXT PRIMARY KEY REFERENCES pick_lists (pick_list_id),
        shipment_id TEXT NOT NULL,
        packaging_option_id TEXT NOT NULL,
        parcels_json TEXT NOT NULL,
        inserts_json TEXT NOT NULL,
        result_json TEXT NOT NULL,
        packed_at TEXT NOT NULL)"""
PARTIAL_RELEASES = """CREATE TABLE IF NOT EXISTS partial_releases (
        reservation_key TEXT NOT NULL REFERENCES reservations (reservation_key),
        release_id TEXT NOT NULL,
        lines_json TEXT NOT NULL,
        result_json TEXT NOT NULL,
        released_at TEXT NOT NULL,
        PRIMARY KEY (reservation_key, release_id))"""

SCHEMA = [
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
        created_at TEXT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS pick_list_lines (
        pick_list_id TEXT NOT NULL REFERENCES pick_lists (pick_list_id),
        line_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        {", ".join(PICK_LINE_COUNTS)},
        PRIMARY KEY (pick_list_id, line_id))""",
    PICK_ATTEMPTS,
    PACKS,
    PARTIAL_RELEASES,
]

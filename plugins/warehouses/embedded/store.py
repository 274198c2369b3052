"""The WMS's SQLite file: connections, transactions, schema version and the first-start seed.

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

from hub.errors import ConfigError
from hub.sqlite import SqliteDatabase
from plugins.warehouses.embedded.catalog import Catalog
from plugins.warehouses.embedded.migrations import upgrade
from plugins.warehouses.embedded.routing import Location
from plugins.warehouses.embedded.schema import SCHEMA, SCHEMA_VERSION


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database(SqliteDatabase):
    def __init__(self, path: Path, *, busy_timeout_ms: int) -> None:
        # durable: an answered reservation must survive a power cut, the hub will not ask again.
        super().__init__(path, name="embedded WMS", busy_timeout_ms=busy_timeout_ms)

    def initialise(self, load_catalog: Callable[[], Catalog]) -> bool:
        """Create the schema and seed it from the catalogue on the very first start; upgrade
        a file of an older version in place.

        Safe when several processes start at once: the check and the seed (or upgrade) share
        one write transaction. Returns True if this call seeded the database.
        """
        self.use_wal()
        with self.write() as conn:
            version = _version(conn)
            if version is None:
                for statement in SCHEMA:
                    conn.execute(statement)
                _seed(conn, load_catalog())
                conn.execute("INSERT INTO meta VALUES ('seeded_at', ?)", (now(),))
                conn.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                return True
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"warehouses.embedded: {self.path} is schema version {version}, newer than"
                    f" this hub's {SCHEMA_VERSION}: upgrade the hub"
                )
            if version < SCHEMA_VERSION:
                upgrade(conn, version)
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
                )
        return False


def _version(conn: sqlite3.Connection) -> int | None:
    """The file's schema version; None for a new file (never seeded)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row["value"])


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

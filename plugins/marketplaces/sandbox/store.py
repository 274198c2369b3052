"""The sandbox shop's own database: its orders, kept as the channel's JSON the way a real shop
keeps them, and the shipment confirmations it received.

Hooks run in worker threads and the dev feed may share the file with a worker process, so every
call opens its own short-lived connection. Writes run in ``BEGIN IMMEDIATE``: "is this shipment
confirmed already? if not, record it" is atomic, as is handing out order numbers.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.domain.messages import ShipmentConfirmation
from hub.errors import PermanentError
from hub.sqlite import SqliteDatabase
from plugins.marketplaces.sandbox.clock import micros
from plugins.marketplaces.sandbox.generator import OrderNumber
from plugins.marketplaces.sandbox.paging import Position

Payload = dict[str, Any]
FIRST_ORDER_NUMBER = 1001
BUSY_TIMEOUT_MS = 5000
_MAX_ID = 2**63 - 1

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS orders (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        updated_us INTEGER NOT NULL,
        payload TEXT NOT NULL)""",
    # Polling reads "changed in [after, before) of one account, by (updated_at, id)".
    "CREATE INDEX IF NOT EXISTS orders_by_change ON orders (account, updated_us, id)",
    """CREATE TABLE IF NOT EXISTS confirmations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        shipment_id TEXT NOT NULL,
        order_id INTEGER NOT NULL REFERENCES orders (id),
        confirmation TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (account, shipment_id))""",
]

ConfirmationCheck = Callable[[Payload, list[ShipmentConfirmation]], str | None]
"""Given the order and the confirmations it already has: why the new one is refused, or None."""


class SandboxStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = SqliteDatabase(
            path, name="sandbox marketplace", busy_timeout_ms=BUSY_TIMEOUT_MS, durable=False
        )

    def initialise(self) -> None:
        self._db.use_wal()
        with self._db.write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            # Order ids start at a random base per shop, so two hubs (or two test runs) on one
            # Temporal server never share a workflow id `order:sandbox:<id>`.
            base = 10**12 + secrets.randbelow(8 * 10**12)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('id_base', ?)", (str(base),))
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('next_number', ?)", (str(FIRST_ORDER_NUMBER),)
            )

    # ----------------------------------------------------------------- orders

    def add_orders(
        self, account: str, count: int, build: Callable[[Sequence[OrderNumber]], list[Payload]]
    ) -> list[Payload]:
        """Hand out ``count`` order numbers, build the orders for them and store them."""
        with self._db.write() as conn:
            base = int(_meta(conn, "id_base"))
            first = int(_meta(conn, "next_number"))
            numbers = [OrderNumber(id=base + n, number=n) for n in range(first, first + count)]
            payloads = build(numbers)
            conn.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                [(p["id"], account, _updated_us(p), _dump(p)) for p in payloads],
            )
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'next_number'", (str(first + count),)
            )
        return payloads

    def order(self, account: str, external_id: str) -> Payload | None:
        order_id = _order_id(external_id)
        if order_id is None:
            return None
        with self._db.read() as conn:
            return _order(conn, account, order_id)

    def update_order(
        self, account: str, external_id: str, change: Callable[[Payload], Payload]
    ) -> Payload | None:
        """Apply ``change`` to the stored order atomically; None if there is no such order."""
        order_id = _order_id(external_id)
        if order_id is None:
            return None
        with self._db.write() as conn:
            payload = _order(conn, account, order_id)
            if payload is None:
                return None
            changed = change(payload)
            conn.execute(
                "UPDATE orders SET updated_us = ?, payload = ? WHERE id = ?",
                (_updated_us(changed), _dump(changed), order_id),
            )
        return changed

    def changed(
        self, account: str, after: datetime, before: datetime, start: Position | None, limit: int
    ) -> list[tuple[Position, Payload]]:
        """Orders with ``updated_at`` in [after, before), by (updated_at, id), past ``start``."""
        after_us = micros(after)
        start = start or Position(after_us, 0)
        with self._db.read() as conn:
            rows = conn.execute(
                """SELECT id, updated_us, payload FROM orders
                   WHERE account = ? AND updated_us >= ? AND updated_us < ?
                     AND (updated_us, id) > (?, ?)
                   ORDER BY updated_us, id LIMIT ?""",
                (account, after_us, micros(before), start.updated_us, start.order_id, limit),
            ).fetchall()
        return [
            (Position(row["updated_us"], row["id"]), json.loads(row["payload"])) for row in rows
        ]

    # ----------------------------------------------------------------- confirmations

    def record_confirmation(
        self, confirmation: ShipmentConfirmation, check: ConfirmationCheck, received_at: datetime
    ) -> tuple[str, bool]:
        """(channel reference, whether it was recorded before). The first confirmation of a
        shipment id is checked and kept; a repeat gets the first one's reference back."""
        account, external_id = confirmation.account, confirmation.external_id
        with self._db.write() as conn:
            order_id = _order_id(external_id)
            payload = None if order_id is None else _order(conn, account, order_id)
            if payload is None or order_id is None:
                raise PermanentError(f"order {external_id} is unknown to the channel")
            earlier = conn.execute(
                "SELECT seq, order_id FROM confirmations WHERE account = ? AND shipment_id = ?",
                (account, confirmation.shipment_id),
            ).fetchone()
            if earlier is not None:
                if earlier["order_id"] != order_id:
                    raise PermanentError(
                        f"shipment {confirmation.shipment_id} was confirmed for another order"
                    )
                return _reference(earlier["seq"]), True
            problem = check(payload, _confirmations(conn, account, order_id))
            if problem:
                raise PermanentError(problem)
            cursor = conn.execute(
                """INSERT INTO confirmations
                   (account, shipment_id, order_id, confirmation, received_at)
                   VALUES (?, ?, ?, ?, ?)""",
                (
                    account,
                    confirmation.shipment_id,
                    order_id,
                    confirmation.model_dump_json(),
                    received_at.isoformat(),
                ),
            )
            seq = cursor.lastrowid
        assert seq is not None  # an INSERT into a rowid table always sets it
        return _reference(seq), False

    def confirmations(self, account: str, external_id: str) -> list[ShipmentConfirmation]:
        order_id = _order_id(external_id)
        if order_id is None:
            return []
        with self._db.read() as conn:
            return _confirmations(conn, account, order_id)


def _meta(conn: sqlite3.Connection, key: str) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row["value"])


def _order(conn: sqlite3.Connection, account: str, order_id: int) -> Payload | None:
    row = conn.execute(
        "SELECT payload FROM orders WHERE id = ? AND account = ?", (order_id, account)
    ).fetchone()
    return None if row is None else dict(json.loads(row["payload"]))


def _confirmations(
    conn: sqlite3.Connection, account: str, order_id: int
) -> list[ShipmentConfirmation]:
    rows = conn.execute(
        "SELECT confirmation FROM confirmations WHERE account = ? AND order_id = ? ORDER BY seq",
        (account, order_id),
    ).fetchall()
    return [ShipmentConfirmation.model_validate_json(row["confirmation"]) for row in rows]


def _order_id(external_id: str) -> int | None:
    """The shop's ids are integers; anything else names no order of this shop."""
    if not (0 < len(external_id) <= 19 and external_id.isascii() and external_id.isdigit()):
        return None
    value = int(external_id)
    return value if 0 < value <= _MAX_ID else None


def _reference(seq: int) -> str:
    return f"gid://sandbox/Fulfillment/{seq}"


def _updated_us(payload: Payload) -> int:
    return micros(datetime.fromisoformat(payload["updated_at"]))


def _dump(payload: Payload) -> str:
    return json.dumps(payload, ensure_ascii=False)

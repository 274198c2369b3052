"""The intake's durable record of every order workflow it has started.

Temporal's own dedupe (one workflow id per order, reuse rejected) lasts only while the namespace
retains the closed run. After that a start would succeed again and ship the order twice, so the
intake asks this ledger first: an order it holds is never started again, whatever Temporal
remembers. SQLite under the data dir on one machine (the intake, the pollers of every worker
process share the file); the same Protocol for the multi-machine store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from hub.sqlite import SqliteDatabase

_SCHEMA = """CREATE TABLE IF NOT EXISTS started_orders (
    order_key TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    started_at TEXT NOT NULL)"""


@dataclass(frozen=True)
class StartedOrder:
    order_key: str
    workflow_id: str
    started_at: datetime


class OrderLedger(Protocol):
    async def find(self, order_key: str) -> StartedOrder | None:
        """The record of the order's workflow, if the intake ever started one."""
        ...

    async def record(self, started: StartedOrder) -> None:
        """Remember a started workflow; the first record of an order is kept."""
        ...


class SqliteOrderLedger:
    """One row per order; short-lived connections, so several processes can share the file."""

    def __init__(self, path: Path) -> None:
        # durable: a row lost to a power cut is an order that could ship twice.
        self._db = SqliteDatabase(path, name="intake ledger")
        self._db.use_wal()
        with self._db.write() as conn:
            conn.execute(_SCHEMA)

    async def find(self, order_key: str) -> StartedOrder | None:
        return await asyncio.to_thread(self._find, order_key)

    async def record(self, started: StartedOrder) -> None:
        await asyncio.to_thread(self._record, started)

    def _find(self, order_key: str) -> StartedOrder | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT workflow_id, started_at FROM started_orders WHERE order_key = ?",
                (order_key,),
            ).fetchone()
        if row is None:
            return None
        return StartedOrder(
            order_key, row["workflow_id"], datetime.fromisoformat(row["started_at"])
        )

    def _record(self, started: StartedOrder) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO started_orders VALUES (?, ?, ?)",
                (started.order_key, started.workflow_id, started.started_at.isoformat()),
            )

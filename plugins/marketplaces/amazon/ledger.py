"""Which packages this plugin has confirmed to Amazon, in a SQLite file in its state directory.

Amazon answers a repeated confirmShipment with 204 again (the same packageReferenceId is an
edit), so a repeat cannot be told from a first confirmation by Amazon's answer. This record is
what lets the hook answer ``already_confirmed=True`` without calling Amazon again. Losing it is
harmless: the next repeat goes to Amazon once more and is recorded again, which is also why a
failing database only logs a warning.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS confirmations (
    account TEXT NOT NULL,
    order_id TEXT NOT NULL,
    package_reference_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    channel_reference TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (account, order_id, package_reference_id)
)
"""


@dataclass(frozen=True)
class Confirmed:
    fingerprint: str
    channel_reference: str


class ConfirmationLedger:
    def __init__(self, path: Path) -> None:
        self._path = path

    async def find(
        self, account: str, order_id: str, package_reference_id: str
    ) -> Confirmed | None:
        try:
            return await asyncio.to_thread(self._find, account, order_id, package_reference_id)
        except sqlite3.Error as exc:
            log.warning("amazon confirmation ledger unreadable (%s); asking Amazon", exc)
            return None

    async def record(
        self,
        account: str,
        order_id: str,
        package_reference_id: str,
        confirmed: Confirmed,
    ) -> None:
        try:
            await asyncio.to_thread(
                self._record, account, order_id, package_reference_id, confirmed
            )
        except sqlite3.Error as exc:
            log.warning("amazon confirmation of %s not recorded locally: %s", order_id, exc)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=5.0)
        try:
            conn.execute(_SCHEMA)
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _find(self, account: str, order_id: str, package_reference_id: str) -> Confirmed | None:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT fingerprint, channel_reference FROM confirmations"
                " WHERE account = ? AND order_id = ? AND package_reference_id = ?",
                (account, order_id, package_reference_id),
            ).fetchone()
        return None if row is None else Confirmed(fingerprint=row[0], channel_reference=row[1])

    def _record(
        self, account: str, order_id: str, package_reference_id: str, confirmed: Confirmed
    ) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO confirmations VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (account, order_id, package_reference_id) DO UPDATE SET"
                " fingerprint = excluded.fingerprint,"
                " channel_reference = excluded.channel_reference,"
                " confirmed_at = excluded.confirmed_at",
                (
                    account,
                    order_id,
                    package_reference_id,
                    confirmed.fingerprint,
                    confirmed.channel_reference,
                    datetime.now(UTC).isoformat(),
                ),
            )

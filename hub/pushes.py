"""Carrier pushes that arrived before their parcel's tracking workflow started, kept until it does.

The edge stores a push here when its signal finds no tracking workflow; the tracking workflow's
`track_shipment` activity hands the stored events in with the carrier's polled ones. SQLite
under the data dir, one short-lived connection per call, so the intake and every worker process
on the machine share it.

A take *claims* the events for one activity call (its run id and activity id) instead of
deleting them: if that call's result never reaches history (the worker dies first), the re-run
of the same call gets them again. Claimed events are purged after `replay_window`. Duplicates
are harmless: the workflow dedupes by `dedupe_key`.

Bounds: an unclaimed event older than `max_age` is a push for a parcel the hub never tracked
(an old or foreign one); it is purged, logged and recorded. A push past `max_per_parcel` or
`max_events` is not stored: the edge acknowledges and drops it (recorded too), and the tracking
workflow's polling still brings the parcel's status, only later.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.domain.tracking import TrackingEvent
from hub.sqlite import SqliteDatabase

log = logging.getLogger(__name__)

DATABASE_FILENAME = "carrier-pushes.sqlite"
DROPS_FILENAME = "carrier-push-drops.jsonl"
MAX_AGE = timedelta(days=7)
REPLAY_WINDOW = timedelta(days=1)
MAX_PER_PARCEL = 200
MAX_EVENTS = 100_000

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS pushes (
        id INTEGER PRIMARY KEY,
        carrier TEXT NOT NULL,
        tracking_number TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        event_json TEXT NOT NULL,
        received_at TEXT NOT NULL,
        claim TEXT,
        claimed_at TEXT,
        UNIQUE (carrier, tracking_number, dedupe_key))""",
    "CREATE INDEX IF NOT EXISTS pushes_by_age ON pushes (received_at)",
    "CREATE INDEX IF NOT EXISTS pushes_by_claim ON pushes (claimed_at)",
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PushBuffer:
    def __init__(
        self,
        path: Path,
        *,
        drops_file: Path | None = None,
        max_age: timedelta = MAX_AGE,
        replay_window: timedelta = REPLAY_WINDOW,
        max_per_parcel: int = MAX_PER_PARCEL,
        max_events: int = MAX_EVENTS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.path = path
        self.drops_file = drops_file or path.with_name(DROPS_FILENAME)
        self._db = SqliteDatabase(path, name="carrier push buffer")
        self._max_age = max_age
        self._replay_window = replay_window
        self._max_per_parcel = max_per_parcel
        self._max_events = max_events
        self._clock = clock
        self._ready = False

    @classmethod
    def in_dir(cls, data_dir: Path) -> PushBuffer:
        """The buffer the intake and the workers of one data dir share."""
        return cls(data_dir / DATABASE_FILENAME)

    def store(self, carrier: str, tracking_number: str, events: Sequence[TrackingEvent]) -> bool:
        """Keep `events` for the parcel; False if a bound refused them (nothing was stored).
        A redelivered event (same dedupe key) is kept once."""
        self._ensure()
        now = self._clock()
        with self._db.write() as conn:
            expired = self._purge(conn, now)
            parcel, total = conn.execute(
                "SELECT COUNT(*) FILTER (WHERE carrier = ? AND tracking_number = ?), COUNT(*)"
                " FROM pushes WHERE claim IS NULL",
                (carrier, tracking_number),
            ).fetchone()
            room = int(parcel) + len(events) <= self._max_per_parcel
            kept = room and int(total) + len(events) <= self._max_events
            if kept:
                conn.executemany(
                    "INSERT OR IGNORE INTO pushes"
                    " (carrier, tracking_number, dedupe_key, event_json, received_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [
                        (carrier, tracking_number, e.dedupe_key, e.model_dump_json(), _iso(now))
                        for e in events
                    ],
                )
        self._report(expired, "expired: no tracking workflow took them", now)
        if not kept:
            reason = "parcel bound" if not room else "buffer bound"
            self._report(Counter({carrier: len(events)}), f"not buffered: {reason} reached", now)
        return kept

    def take(self, carrier: str, tracking_number: str, claim: str) -> list[TrackingEvent]:
        """The parcel's buffered events, claimed by `claim` (one activity call): unclaimed ones
        and those this same call claimed before. Claimed events are not handed to other calls."""
        self._ensure()
        args = (carrier, tracking_number, claim)
        # Every poll of every parcel comes here: look before taking the write lock.
        with self._db.read() as conn:
            waiting = conn.execute(
                "SELECT 1 FROM pushes WHERE carrier = ? AND tracking_number = ?"
                " AND (claim IS NULL OR claim = ?) LIMIT 1",
                args,
            ).fetchone()
        if waiting is None:
            return []
        now = self._clock()
        with self._db.write() as conn:
            expired = self._purge(conn, now)
            conn.execute(
                "UPDATE pushes SET claim = ?, claimed_at = ?"
                " WHERE carrier = ? AND tracking_number = ? AND claim IS NULL",
                (claim, _iso(now), carrier, tracking_number),
            )
            rows = conn.execute(
                "SELECT event_json FROM pushes"
                " WHERE carrier = ? AND tracking_number = ? AND claim = ? ORDER BY id",
                args,
            ).fetchall()
        self._report(expired, "expired: no tracking workflow took them", now)
        return [TrackingEvent.model_validate_json(row["event_json"]) for row in rows]

    def pending(self) -> int:
        """How many events wait for a tracking workflow (for ops and tests)."""
        self._ensure()
        with self._db.read() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM pushes WHERE claim IS NULL").fetchone()
        return int(count)

    def _ensure(self) -> None:
        # Idempotent, so two threads racing here on first use is harmless.
        if self._ready:
            return
        self._db.use_wal()
        with self._db.write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
        self._ready = True

    def _purge(self, conn: sqlite3.Connection, now: datetime) -> Counter[str]:
        """Delete claimed events past the replay window (delivered) and unclaimed ones past
        `max_age` (never tracked); return the latter per carrier."""
        conn.execute(
            "DELETE FROM pushes WHERE claim IS NOT NULL AND claimed_at < ?",
            (_iso(now - self._replay_window),),
        )
        rows = conn.execute(
            "DELETE FROM pushes WHERE claim IS NULL AND received_at < ? RETURNING carrier",
            (_iso(now - self._max_age),),
        ).fetchall()
        return Counter(row["carrier"] for row in rows)

    def _report(self, dropped: Counter[str], reason: str, now: datetime) -> None:
        """Log and record dropped events by carrier and count only: tracking numbers lead to a
        person, so they stay out of logs and records."""
        if not dropped:
            return
        self.drops_file.parent.mkdir(parents=True, exist_ok=True)
        with self.drops_file.open("a", encoding="utf-8") as fh:
            for carrier, count in sorted(dropped.items()):
                log.warning("%d %s tracking push event(s) dropped, %s", count, carrier, reason)
                row = {"at": _iso(now), "carrier": carrier, "events": count, "reason": reason}
                fh.write(json.dumps(row) + "\n")


def _iso(moment: datetime) -> str:
    # Fixed-width UTC text, so string order is time order in SQL comparisons.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

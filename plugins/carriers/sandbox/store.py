"""The sandbox carrier's account: labels by idempotency key, parcels, and a charge ledger.

Hooks run in worker threads and several worker processes may share the file, so every call
opens its own short-lived connection (never shared between threads). Writes run in
``BEGIN IMMEDIATE`` so "is this key taken? if not, record the label and charge" is atomic
across processes: two concurrent purchases under one key charge once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from hub.domain.messages import LabelDocument, PaperDocument, PurchasedLabel
from hub.domain.money import Money
from hub.domain.shipment import DocumentKind, LabelFormat
from hub.errors import TransientError
from hub.sqlite import SqliteDatabase
from plugins.carriers.sandbox.timeline import Route, Scenarios

SCHEMA_VERSION = 2
"""2: papers (customs declarations) kept with their label."""

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # One row per idempotency key: a repeat with the same request hash gets this label back.
    """CREATE TABLE IF NOT EXISTS labels (
        idempotency_key TEXT PRIMARY KEY,
        request_sha256 TEXT NOT NULL,
        label_id TEXT NOT NULL UNIQUE,
        shipment_id TEXT NOT NULL,
        service_code TEXT NOT NULL,
        price_amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        label_format TEXT NOT NULL,
        document BLOB NOT NULL,
        route_json TEXT NOT NULL,
        clock_speed REAL NOT NULL,
        delay_rate REAL NOT NULL,
        failed_attempt_rate REAL NOT NULL,
        created_at TEXT NOT NULL,
        voided_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS labels_by_shipment ON labels (shipment_id, created_at)",
    """CREATE TABLE IF NOT EXISTS parcels (
        tracking_number TEXT PRIMARY KEY,
        label_id TEXT NOT NULL REFERENCES labels (label_id),
        seq INTEGER NOT NULL,
        UNIQUE (label_id, seq))""",
    # What the account was charged: one 'label' row per purchase, a 'refund' row per void.
    """CREATE TABLE IF NOT EXISTS charges (
        id INTEGER PRIMARY KEY,
        label_id TEXT NOT NULL REFERENCES labels (label_id),
        kind TEXT NOT NULL CHECK (kind IN ('label', 'refund')),
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        at TEXT NOT NULL)""",
    # Documents besides the label (version 2): created if missing, so older files just gain it.
    """CREATE TABLE IF NOT EXISTS papers (
        label_id TEXT NOT NULL REFERENCES labels (label_id),
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        label_format TEXT NOT NULL,
        content BLOB NOT NULL,
        PRIMARY KEY (label_id, seq))""",
]


@dataclass(frozen=True)
class StoredLabel:
    idempotency_key: str
    request_sha256: str
    label_id: str
    shipment_id: str
    service_code: str
    price: Money
    label_format: LabelFormat
    document: bytes
    route: Route
    clock_speed: float
    scenarios: Scenarios
    """The clock and scenario rates the label was bought under: its journey keeps them."""
    created_at: datetime
    tracking_numbers: tuple[str, ...]
    voided_at: datetime | None = None
    papers: tuple[PaperDocument, ...] = ()

    def purchased(self) -> PurchasedLabel:
        return PurchasedLabel(
            label_id=self.label_id,
            service_code=self.service_code,
            tracking_numbers=self.tracking_numbers,
            price=self.price,
            document=LabelDocument(label_format=self.label_format, content=self.document),
            created_at=self.created_at,
            papers=self.papers,
        )


@dataclass(frozen=True)
class Charge:
    label_id: str
    kind: str
    """``label`` (a purchase) or ``refund`` (a void)."""
    amount: Money
    at: datetime


class VoidOutcome(StrEnum):
    VOIDED = "voided"
    ALREADY_VOIDED = "already voided"
    IN_NETWORK = "already in the network"
    UNKNOWN_LABEL = "unknown label"


class LabelStore:
    def __init__(self, path: Path, *, busy_timeout_ms: int) -> None:
        self.path = path
        # durable: a recorded purchase must survive a power cut, it has been charged.
        self._db = SqliteDatabase(path, name="sandbox carrier", busy_timeout_ms=busy_timeout_ms)

    def initialise(self) -> None:
        self._db.use_wal()
        with self._db.write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    # ----------------------------------------------------------------- purchases

    def by_key(self, idempotency_key: str) -> StoredLabel | None:
        with self._db.read() as conn:
            return _label_where(conn, "idempotency_key = ?", (idempotency_key,))

    def record_purchase(self, label: StoredLabel) -> StoredLabel:
        """Record the label and charge for it, unless its key is taken: then return the label
        already recorded under the key (the caller compares request hashes)."""
        with _collision_is_transient(), self._db.write() as conn:
            existing = _label_where(conn, "idempotency_key = ?", (label.idempotency_key,))
            if existing is not None:
                return existing
            conn.execute(
                "INSERT INTO labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    label.idempotency_key,
                    label.request_sha256,
                    label.label_id,
                    label.shipment_id,
                    label.service_code,
                    str(label.price.amount),
                    label.price.currency,
                    label.label_format.value,
                    label.document,
                    json.dumps(asdict(label.route)),
                    label.clock_speed,
                    label.scenarios.delay_rate,
                    label.scenarios.failed_attempt_rate,
                    label.created_at.isoformat(),
                ),
            )
            conn.executemany(
                "INSERT INTO parcels VALUES (?, ?, ?)",
                [(tn, label.label_id, seq) for seq, tn in enumerate(label.tracking_numbers)],
            )
            conn.executemany(
                "INSERT INTO papers VALUES (?, ?, ?, ?, ?)",
                [
                    (label.label_id, seq, p.kind.value, p.label_format.value, p.content)
                    for seq, p in enumerate(label.papers)
                ],
            )
            _charge(conn, label.label_id, "label", label.price, label.created_at)
        return label

    def find(self, idempotency_key: str, shipment_id: str) -> StoredLabel | None:
        """The label bought under the key, else the newest live label for the shipment."""
        with self._db.read() as conn:
            return _label_where(conn, "idempotency_key = ?", (idempotency_key,)) or _label_where(
                conn,
                "shipment_id = ? AND voided_at IS NULL ORDER BY created_at DESC LIMIT 1",
                (shipment_id,),
            )

    def by_tracking_number(self, tracking_number: str) -> StoredLabel | None:
        with self._db.read() as conn:
            return _label_where(
                conn,
                "label_id = (SELECT label_id FROM parcels WHERE tracking_number = ?)",
                (tracking_number,),
            )

    # ----------------------------------------------------------------- voids

    def void(
        self, label_id: str, now: datetime, in_network: Callable[[StoredLabel], bool]
    ) -> VoidOutcome:
        """Void the label unless the carrier has scanned a parcel of it; refund it once."""
        with self._db.write() as conn:
            label = _label_where(conn, "label_id = ?", (label_id,))
            if label is None:
                return VoidOutcome.UNKNOWN_LABEL
            if label.voided_at is not None:
                return VoidOutcome.ALREADY_VOIDED
            if in_network(label):
                return VoidOutcome.IN_NETWORK
            conn.execute(
                "UPDATE labels SET voided_at = ? WHERE label_id = ?", (now.isoformat(), label_id)
            )
            refund = Money(amount=-label.price.amount, currency=label.price.currency)
            _charge(conn, label_id, "refund", refund, now)
        return VoidOutcome.VOIDED

    # ----------------------------------------------------------------- ledger

    def charges(self) -> list[Charge]:
        with self._db.read() as conn:
            rows = conn.execute("SELECT * FROM charges ORDER BY id").fetchall()
        return [
            Charge(
                label_id=row["label_id"],
                kind=row["kind"],
                amount=Money(amount=Decimal(row["amount"]), currency=row["currency"]),
                at=datetime.fromisoformat(row["at"]),
            )
            for row in rows
        ]


def _charge(
    conn: sqlite3.Connection, label_id: str, kind: str, amount: Money, at: datetime
) -> None:
    conn.execute(
        "INSERT INTO charges (label_id, kind, amount, currency, at) VALUES (?, ?, ?, ?, ?)",
        (label_id, kind, str(amount.amount), amount.currency, at.isoformat()),
    )


def _label_where(
    conn: sqlite3.Connection, condition: str, params: tuple[str, ...]
) -> StoredLabel | None:
    row = conn.execute(f"SELECT * FROM labels WHERE {condition}", params).fetchone()  # noqa: S608 (fixed conditions, values bound)
    if row is None:
        return None
    numbers = conn.execute(
        "SELECT tracking_number FROM parcels WHERE label_id = ? ORDER BY seq", (row["label_id"],)
    ).fetchall()
    papers = conn.execute(
        "SELECT * FROM papers WHERE label_id = ? ORDER BY seq", (row["label_id"],)
    ).fetchall()
    return StoredLabel(
        idempotency_key=row["idempotency_key"],
        request_sha256=row["request_sha256"],
        label_id=row["label_id"],
        shipment_id=row["shipment_id"],
        service_code=row["service_code"],
        price=Money(amount=Decimal(row["price_amount"]), currency=row["currency"]),
        label_format=LabelFormat(row["label_format"]),
        document=bytes(row["document"]),
        route=Route(**json.loads(row["route_json"])),
        clock_speed=row["clock_speed"],
        scenarios=Scenarios(row["delay_rate"], row["failed_attempt_rate"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        tracking_numbers=tuple(n["tracking_number"] for n in numbers),
        voided_at=datetime.fromisoformat(row["voided_at"]) if row["voided_at"] else None,
        papers=tuple(
            PaperDocument(
                kind=DocumentKind(p["kind"]),
                label_format=LabelFormat(p["label_format"]),
                content=bytes(p["content"]),
            )
            for p in papers
        ),
    )


@contextmanager
def _collision_is_transient() -> Iterator[None]:
    """A random tracking number or label id already taken (about 1 in 10^12): a retry draws
    new ones under the same idempotency key."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise TransientError(f"sandbox carrier number collision, please retry: {exc}") from exc

"""The outbox file: one row per notice_key, written once.

Hooks run in worker threads and several worker processes may share the file, so every call
opens its own short-lived connection. Idempotence rests on the UNIQUE notice_key and a single
``INSERT ... ON CONFLICT DO NOTHING``: SQLite serialises writers, so of two concurrent calls
with the same key exactly one inserts, whatever the interleaving.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.messages import NoticeKind
from hub.errors import TransientError

_SCHEMA = (
    # status: a sender outside this plugin moves rows from queued to sent or failed.
    """CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY,
        notice_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        order_key TEXT NOT NULL,
        marketplace TEXT NOT NULL,
        recipient_email TEXT NOT NULL,
        recipient_name TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        created_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS messages_by_order ON messages (order_key)",
)


# Primary result codes that may clear up by themselves: another writer held the lock past the
# busy timeout, a full disk, an I/O error, a file that could not be opened yet.
_WORTH_RETRYING = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
    }
)


class OutboxMessage(BaseModel):
    """A stored message. Recipient and body are personal data: kept out of repr (and so of
    tracebacks and debug logs that print the object)."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    notice_key: str
    kind: NoticeKind
    order_key: str
    marketplace: str
    recipient_email: str = Field(repr=False)
    recipient_name: str = Field(repr=False)
    subject: str
    body: str = Field(repr=False)
    status: str = "queued"
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


_COLUMNS = (
    "notice_key, kind, order_key, marketplace, recipient_email, recipient_name, subject, body, "
    "status, created_at"
)


class Outbox:
    def __init__(self, path: Path, *, busy_timeout_ms: int) -> None:
        self.path = path
        self._timeout_s = busy_timeout_ms / 1000
        with self._connection() as conn:
            # WAL: readers (CLI, tests) never block the writer; set once, stored in the file.
            conn.execute("PRAGMA journal_mode = WAL")
            for statement in _SCHEMA:
                conn.execute(statement)

    def add(self, message: OutboxMessage) -> bool:
        """Store the message unless its notice_key is already there; True if it was stored."""
        with self._connection() as conn:
            cursor = conn.execute(
                f"INSERT INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608 (fixed column list)
                "ON CONFLICT (notice_key) DO NOTHING",
                (
                    message.notice_key,
                    message.kind.value,
                    message.order_key,
                    message.marketplace,
                    message.recipient_email,
                    message.recipient_name,
                    message.subject,
                    message.body,
                    message.status,
                    message.created_at.isoformat(timespec="milliseconds"),
                ),
            )
            return cursor.rowcount == 1

    def messages(self, order_key: str | None = None) -> list[OutboxMessage]:
        query = f"SELECT id, {_COLUMNS} FROM messages"  # noqa: S608 (fixed column list)
        args: tuple[str, ...] = ()
        if order_key is not None:
            query += " WHERE order_key = ?"
            args = (order_key,)
        with self._connection() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [OutboxMessage.model_validate(dict(row)) for row in rows]

    def count(self, kind: NoticeKind | None = None) -> int:
        with self._connection() as conn:
            if kind is None:
                row = conn.execute("SELECT count(*) FROM messages").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM messages WHERE kind = ?", (kind.value,)
                ).fetchone()
        return int(row[0])

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            # isolation_level=None: autocommit; each statement here is its own transaction.
            conn = sqlite3.connect(self.path, timeout=self._timeout_s, isolation_level=None)
            with closing(conn):
                conn.row_factory = sqlite3.Row
                # A queued message must survive a power cut: the workflow will not ask again.
                conn.execute("PRAGMA synchronous = FULL")
                yield conn
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _WORTH_RETRYING:
                raise
            raise TransientError(f"outbox {self.path.name}: {exc}") from exc

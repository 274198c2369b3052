"""SQLite for the embedded plugins (WMS, sandbox channel and carrier): one connection per
call, explicit transactions, and a lock held too long by another process reported as a
retryable error. SQLite is what lets several worker processes share one machine's state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hub.errors import TransientError


class SqliteDatabase:
    def __init__(
        self, path: Path, *, name: str, busy_timeout_ms: int = 5000, durable: bool = True
    ) -> None:
        """`durable`: fsync every commit (``synchronous = FULL``), for records that must survive
        a power cut because the outside world has acted on them (a charge, a reservation)."""
        self.path = path
        self._name = name
        self._timeout_s = busy_timeout_ms / 1000
        self._durable = durable

    def use_wal(self) -> None:
        """Readers never wait for the writer (persistent: stored in the file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._busy_is_transient(), self._open() as conn:
            conn.execute("PRAGMA journal_mode = WAL")

    def connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; write() and read() say BEGIN.
        conn = sqlite3.connect(self.path, timeout=self._timeout_s, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        if self._durable:
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its first statement; rolled back on
        error, so two processes never interleave a read-then-write."""
        with self._busy_is_transient(), self._open() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A snapshot: every query in the block sees the same committed state."""
        with self._busy_is_transient(), self._open() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _busy_is_transient(self) -> Iterator[None]:
        """Another process held the lock past the busy timeout: worth retrying, so say so."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if "locked" in message or "busy" in message:
                raise TransientError(f"{self._name} database is busy: {exc}") from exc
            raise

"""The intake's own records: the ledger of started orders and the no-op deliveries."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.ledger import SqliteOrderLedger, StartedOrder
from hub.noops import MAX_CAUSES, OTHER_CAUSES, NoOpRecords

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def started(key: str, at: datetime = T0) -> StartedOrder:
    return StartedOrder(key, f"order:{key}", at)


async def test_the_ledger_remembers_the_first_start_of_an_order(tmp_path: Path):
    ledger = SqliteOrderLedger(tmp_path / "ledger.sqlite3")
    assert await ledger.find("shop:1") is None
    await ledger.record(started("shop:1"))
    await ledger.record(StartedOrder("shop:1", "order:shop:1", T0 + timedelta(days=90)))
    assert await ledger.find("shop:1") == started("shop:1")
    assert await ledger.find("shop:2") is None
    # Reopened (a restart, or another process on the same data dir): still there.
    assert await SqliteOrderLedger(tmp_path / "ledger.sqlite3").find("shop:1") == started("shop:1")


def _record_many(path: str, prefix: str, count: int) -> None:
    ledger = SqliteOrderLedger(Path(path))
    for n in range(count):
        asyncio.run(ledger.record(started(f"{prefix}:{n}")))


async def test_several_processes_share_one_ledger(tmp_path: Path):
    path = tmp_path / "ledger.sqlite3"
    SqliteOrderLedger(path)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=3, mp_context=spawn) as pool:
        done = [pool.submit(_record_many, str(path), f"p{i}", 40) for i in range(3)]
        for future in done:
            future.result(timeout=120)
    ledger = SqliteOrderLedger(path)
    found = await asyncio.gather(*(ledger.find(f"p{i}:{n}") for i in range(3) for n in range(40)))
    assert all(found) and len(found) == 120


def test_no_ops_are_recorded_without_the_body_and_warned_once_per_cause(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    records = NoOpRecords(tmp_path / "noops.jsonl")
    with caplog.at_level(logging.WARNING, logger="hub.noops"):
        for n in range(3):
            records.record(
                "ignored",
                "shop not configured: other.myshopify.com",
                marketplace="shopify",
                account="jsmith.myshopify.com",
                external_id=str(n),
                dedupe_key=f"evt-{n}",
                occurred_at=T0,
            )
        records.record("ignored", "the delivery carried no event", marketplace="echo")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and "other.myshopify.com" in warnings[0]
    assert records.counts() == {
        "shop not configured: other.myshopify.com": 3,
        "the delivery carried no event": 1,
    }
    rows = [json.loads(line) for line in (tmp_path / "noops.jsonl").read_text().splitlines()]
    assert [r["external_id"] for r in rows] == ["0", "1", "2", None]
    assert set(rows[0]) == {
        "marketplace",
        "account",
        "external_id",
        "dedupe_key",
        "occurred_at",
        "recorded_at",
        "outcome",
        "reason",
    }
    assert rows[0]["occurred_at"] == T0.isoformat() and rows[3]["marketplace"] == "echo"


def test_a_plugin_that_puts_ids_in_its_reasons_cannot_grow_the_counts(tmp_path: Path):
    records = NoOpRecords(tmp_path / "noops.jsonl")
    for n in range(MAX_CAUSES + 50):
        records.record("ignored", f"order {n} skipped", marketplace="noisy")
    counts = records.counts()
    assert len(counts) == MAX_CAUSES + 1 and counts[OTHER_CAUSES] == 50
    assert len((tmp_path / "noops.jsonl").read_text().splitlines()) == MAX_CAUSES + 50

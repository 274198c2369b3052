"""The embedded WMS upgrades a version 1 file (from before re-picks and put-back) in place."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from hub.domain.messages import PickListRequest, ReleaseRequest, ReleaseResult
from hub.domain.shipment import ShipmentLine
from hub.errors import ConfigError, PermanentError
from plugins.warehouses.embedded import EmbeddedWarehouse
from plugins.warehouses.embedded.schema import SCHEMA_VERSION
from tests.plugins.test_embedded_wms import (
    assert_books_balance,
    build,
    level,
    line,
    pack,
    release,
)

VERSION_1 = Path(__file__).parent / "fixtures" / "embedded" / "wms-v1.sql"
NOT_READ = Path("/nonexistent/catalog.toml")  # an upgrade never seeds again


def version_1_file(data_dir: Path) -> Path:
    path = data_dir / "warehouses" / "embedded" / "wms.sqlite3"
    path.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(VERSION_1.read_text())
    return path


def meta_version(wms: EmbeddedWarehouse) -> str:
    with contextlib.closing(sqlite3.connect(wms.db.path)) as conn:
        (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return str(version)


def shape(wms: EmbeddedWarehouse) -> dict[str, tuple[object, ...]]:
    """Per table: its columns (name, type, not null, default, key) and foreign keys."""
    with contextlib.closing(sqlite3.connect(wms.db.path)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: (
                tuple(row[1:] for row in conn.execute(f"PRAGMA table_info({table})")),
                tuple(row[2:5] for row in conn.execute(f"PRAGMA foreign_key_list({table})")),
            )
            for table in tables
        }


def pick_request(key: str, shipment: str, attempt: int, *lines: ShipmentLine) -> PickListRequest:
    return PickListRequest(
        reservation_key=key, shipment_id=shipment, warehouse="RTM1", lines=lines, attempt=attempt
    )


def test_a_version_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    version_1_file(tmp_path)
    wms = build(tmp_path, catalog_file=NOT_READ)
    assert meta_version(wms) == str(SCHEMA_VERSION) == "2"
    assert shape(wms) == shape(build(tmp_path / "new")), "the same tables as a new file"
    assert_books_balance(wms)
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (0, 2)

    # The held short pick answers as before, now naming its short line; a restock clears it.
    held = (line("1", "LAMP-DESK-LED", 3), line("2", "LAMP-DESK-LED", 2))
    first = wms.warehouse_pick_list(pick_request("order:held", "held-1", 1, *held))
    assert (first.attempt, [i.quantity for i in first.items]) == (1, [5])
    recorded = wms.warehouse_confirm_pick(first)
    assert [(i.quantity, i.short) for i in recorded.items] == [(3, 2)]
    assert recorded.short_lines == (line("2", "LAMP-DESK-LED", 2),)
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", 2, "delivery")
    second = wms.warehouse_pick_list(pick_request("order:held", "held-1", 2, *held))
    assert [i.quantity for i in second.items] == [2]
    assert wms.warehouse_confirm_pick(second).short_lines == ()
    assert pack(wms, second, 7000).verified

    # The shipped order keeps its pack; handed over, nothing of it comes back.
    shipped = wms.warehouse_pick_list(
        pick_request("order:shipped", "shipped-1", 1, line("1", "BAG-TOTE-NAT", 2))
    )
    assert pack(wms, shipped, 1).message == "1 parcel(s), 600 g, packaging mailer"
    assert release(wms, "order:shipped", "shipped-1") == ReleaseResult()
    # Version 1 lost the cancelled order's picked caps; the upgrade does not invent them back.
    assert release(wms, "order:cancelled") == ReleaseResult()
    assert level(wms, "RTM1", "CAP-CAN-NVY").on_hand == 246
    assert release(wms, "order:reserved") == ReleaseResult(released_units=2)
    listed = wms.warehouse_pick_list(
        pick_request("order:listed", "listed-1", 1, line("1", "BOTL-STL-750", 1))
    )
    assert wms.warehouse_confirm_pick(listed).short_lines == ()
    partial = ReleaseRequest(
        reservation_key="order:listed", lines=(line("1", "BOTL-STL-750", 1),), release_id="x"
    )
    with pytest.raises(PermanentError, match="only 0 reserved and not picked"):
        wms.warehouse_release(partial)
    assert_books_balance(wms)

    levels = wms.stock_levels()
    again = build(tmp_path, catalog_file=NOT_READ)
    assert (meta_version(again), again.stock_levels()) == ("2", levels), "upgraded once"


def test_a_file_from_a_newer_hub_is_refused(tmp_path: Path) -> None:
    wms = build(tmp_path)
    with contextlib.closing(sqlite3.connect(wms.db.path)) as conn, conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(ConfigError, match="schema version 3, newer than this hub's 2"):
        build(tmp_path)

"""Upgrading a WMS file of an older schema version in place, inside the caller's write
transaction (see store.py), so a crash midway leaves the old file as it was."""

from __future__ import annotations

import sqlite3

from hub.domain.messages import PickResult
from hub.domain.shipment import ShipmentLine
from plugins.warehouses.embedded.schema import (
    PACKS,
    PARTIAL_RELEASES,
    PICK_ATTEMPTS,
    PICK_LINE_COUNTS,
)


def upgrade(conn: sqlite3.Connection, version: int) -> None:
    if version < 2:
        _to_2(conn)


def _to_2(conn: sqlite3.Connection) -> None:
    """Version 1 kept one pick per list and booked picked units on reservation lines only.

    Each list becomes attempt 1; its recorded pick is spread over the list's lines of each SKU
    in line order, as version 1 booked it; lines of released reservations count their unpicked
    units released. Version 1 never put picked units back, so a cancelled order's picked units
    stay off the shelf here too: a stock take (``adjust_stock``) corrects them.
    """
    for column in PICK_LINE_COUNTS:
        conn.execute(f"ALTER TABLE pick_list_lines ADD COLUMN {column}")
    conn.execute(PICK_ATTEMPTS)
    conn.execute(PARTIAL_RELEASES)
    lists = conn.execute(
        "SELECT l.pick_list_id, l.list_json, l.created_at, r.status, p.result_json,"
        " p.confirmed_at FROM pick_lists AS l JOIN reservations AS r USING (reservation_key)"
        " LEFT JOIN picks AS p USING (pick_list_id)"
    ).fetchall()
    for row in lists:
        result = row["result_json"]
        if result is not None:
            result = _book_pick(conn, PickResult.model_validate_json(result)).model_dump_json()
        conn.execute(
            "INSERT INTO pick_attempts VALUES (?, 1, ?, ?, ?, ?)",
            (row["pick_list_id"], row["list_json"], result, row["created_at"], row["confirmed_at"]),
        )
        if row["status"] == "released":
            conn.execute(
                "UPDATE pick_list_lines SET released = quantity - picked WHERE pick_list_id = ?",
                (row["pick_list_id"],),
            )
    # packs referred to picks; the table is rebuilt to refer to pick_lists, then picks goes.
    conn.execute("ALTER TABLE packs RENAME TO packs_v1")
    conn.execute(PACKS)
    conn.execute("INSERT INTO packs SELECT * FROM packs_v1")
    conn.execute("DROP TABLE packs_v1")
    conn.execute("DROP TABLE picks")
    conn.execute("ALTER TABLE pick_lists DROP COLUMN list_json")  # now in pick_attempts


def _book_pick(conn: sqlite3.Connection, result: PickResult) -> PickResult:
    """Spread a version 1 pick over its list's lines; the result gains its short lines."""
    left = {item.sku: item.quantity for item in result.items}
    short: list[ShipmentLine] = []
    for line in conn.execute(
        "SELECT line_id, sku, quantity FROM pick_list_lines WHERE pick_list_id = ?"
        " ORDER BY line_id",
        (result.pick_list_id,),
    ).fetchall():
        take = min(line["quantity"], left.get(line["sku"], 0))
        left[line["sku"]] = left.get(line["sku"], 0) - take
        conn.execute(
            "UPDATE pick_list_lines SET picked = ? WHERE pick_list_id = ? AND line_id = ?",
            (take, result.pick_list_id, line["line_id"]),
        )
        if take < line["quantity"]:
            short.append(
                ShipmentLine(
                    line_id=line["line_id"], sku=line["sku"], quantity=line["quantity"] - take
                )
            )
    return result.model_copy(update={"short_lines": tuple(short)})

"""Giving stock back: a whole release (cancel) with put-back, or a partial release (ship what
is available after a short pick).

Every function takes a connection inside a write transaction opened by the caller (see
store.py). Both kinds are recorded, so a repeat (an activity retry) moves nothing.
"""

from __future__ import annotations

import json
import sqlite3

from hub.domain.messages import ReleaseRequest, ReleaseResult
from hub.domain.shipment import ShipmentLine
from hub.errors import PermanentError
from plugins.warehouses.embedded.floor import unlisted
from plugins.warehouses.embedded.store import now


def release(conn: sqlite3.Connection, request: ReleaseRequest) -> ReleaseResult:
    if request.lines:
        return _release_lines(conn, request)
    return _release_all(conn, request)


def _release_all(conn: sqlite3.Connection, request: ReleaseRequest) -> ReleaseResult:
    """Unreserve every unpicked unit; put picked units of shipments not kept back on the shelf.

    The reservation and its lists stay on record (status 'released'), so a repeat, whatever
    its kept shipments, finds nothing left to move.
    """
    key = request.reservation_key
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (key,)
    ).fetchone()
    if status is None or status["status"] == "released":
        return ReleaseResult()
    outstanding = conn.execute(
        "SELECT line_id, warehouse, sku, quantity - picked - released AS units"
        " FROM reservation_lines WHERE reservation_key = ? AND quantity - picked - released > 0",
        (key,),
    ).fetchall()
    for row in outstanding:
        _unreserve(conn, key, row["line_id"], row["warehouse"], row["sku"], row["units"])
    conn.execute(
        "UPDATE pick_list_lines SET released = quantity - picked WHERE pick_list_id IN"
        " (SELECT pick_list_id FROM pick_lists WHERE reservation_key = ?)",
        (key,),
    )
    put_back = _put_back(conn, key, request.kept_shipments)
    conn.execute(
        "UPDATE reservations SET status = 'released', released_at = ? WHERE reservation_key = ?",
        (now(), key),
    )
    return ReleaseResult(
        released_units=sum(row["units"] for row in outstanding), put_back_units=put_back
    )


def _put_back(conn: sqlite3.Connection, key: str, kept: tuple[str, ...]) -> int:
    rows = conn.execute(
        "SELECT l.pick_list_id, l.line_id, l.sku, l.picked - l.put_back AS units, p.warehouse"
        " FROM pick_list_lines AS l JOIN pick_lists AS p USING (pick_list_id)"
        " WHERE p.reservation_key = ? AND l.picked > l.put_back"
        " AND p.shipment_id NOT IN (SELECT value FROM json_each(?))",
        (key, json.dumps(list(kept))),
    ).fetchall()
    for row in rows:
        conn.execute(
            "UPDATE pick_list_lines SET put_back = picked WHERE pick_list_id = ? AND line_id = ?",
            (row["pick_list_id"], row["line_id"]),
        )
        conn.execute(
            "UPDATE stock SET on_hand = on_hand + ? WHERE warehouse = ? AND sku = ?",
            (row["units"], row["warehouse"], row["sku"]),
        )
        conn.execute(
            "INSERT INTO stock_moves (at, warehouse, sku, delta, reason) VALUES (?, ?, ?, ?, ?)",
            (
                now(),
                row["warehouse"],
                row["sku"],
                row["units"],
                f"put back from {row['pick_list_id']}: reservation {key} released",
            ),
        )
    return sum(row["units"] for row in rows)


def _release_lines(conn: sqlite3.Connection, request: ReleaseRequest) -> ReleaseResult:
    """Unreserve exactly the given unpicked units, once per release id.

    A line's units are taken first from shipments whose pick came up short (the operator's
    "ship what is available"), then from lists not yet picked, then from units on no list.
    """
    key, release_id = request.reservation_key, request.release_id
    fingerprint = json.dumps(sorted((ln.line_id, ln.sku, ln.quantity) for ln in request.lines))
    recorded = conn.execute(
        "SELECT lines_json, result_json FROM partial_releases"
        " WHERE reservation_key = ? AND release_id = ?",
        (key, release_id),
    ).fetchone()
    if recorded is not None:
        if recorded["lines_json"] != fingerprint:
            raise PermanentError(f"release {release_id} of {key} was made for other lines")
        return ReleaseResult.model_validate_json(recorded["result_json"])
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (key,)
    ).fetchone()
    if status is None or status["status"] != "active":
        raise PermanentError(f"no active reservation {key} to release lines of")

    released = 0
    for line_id, (sku, quantity) in _by_line(request.lines).items():
        released += _release_line(conn, key, line_id, sku, quantity)
    result = ReleaseResult(released_units=released)
    conn.execute(
        "INSERT INTO partial_releases VALUES (?, ?, ?, ?, ?)",
        (key, release_id, fingerprint, result.model_dump_json(), now()),
    )
    return result


def _by_line(lines: tuple[ShipmentLine, ...]) -> dict[str, tuple[str, int]]:
    wanted: dict[str, tuple[str, int]] = {}
    for line in lines:
        sku, quantity = wanted.get(line.line_id, (line.sku, 0))
        if sku != line.sku:
            raise PermanentError(f"line {line.line_id} names two SKUs")
        wanted[line.line_id] = (sku, quantity + line.quantity)
    return wanted


def _release_line(conn: sqlite3.Connection, key: str, line_id: str, sku: str, units: int) -> int:
    reserved = list(unlisted(conn, key, line_id).values())
    if not reserved or any(row["sku"] != sku for row in reserved):
        raise PermanentError(f"line {line_id} ({sku}) is not reserved by {key}")
    listed = conn.execute(
        "SELECT l.pick_list_id, p.warehouse, l.quantity - l.picked - l.released AS open,"
        " EXISTS (SELECT 1 FROM pick_attempts AS a WHERE a.pick_list_id = l.pick_list_id"
        "  AND a.result_json IS NOT NULL) AS attempted"
        " FROM pick_list_lines AS l JOIN pick_lists AS p USING (pick_list_id)"
        " WHERE p.reservation_key = ? AND l.line_id = ? AND l.quantity - l.picked - l.released > 0"
        " ORDER BY attempted DESC, l.pick_list_id",
        (key, line_id),
    ).fetchall()
    pools: list[tuple[str | None, str, int]] = [
        (row["pick_list_id"], row["warehouse"], row["open"]) for row in listed
    ]
    pools += [(None, row["warehouse"], row["unlisted"]) for row in reserved if row["unlisted"] > 0]
    unpicked = sum(open_units for _, _, open_units in pools)
    if unpicked < units:
        raise PermanentError(
            f"line {line_id}: {units} of {sku} to release, but only {unpicked} reserved"
            f" and not picked under {key}"
        )
    left = units
    for list_id, warehouse, open_units in pools:
        take = min(left, open_units)
        if list_id is not None:
            conn.execute(
                "UPDATE pick_list_lines SET released = released + ?"
                " WHERE pick_list_id = ? AND line_id = ?",
                (take, list_id, line_id),
            )
        _unreserve(conn, key, line_id, warehouse, sku, take)
        left -= take
        if not left:
            break
    return units


def _unreserve(
    conn: sqlite3.Connection, key: str, line_id: str, warehouse: str, sku: str, units: int
) -> None:
    conn.execute(
        "UPDATE stock SET reserved = reserved - ? WHERE warehouse = ? AND sku = ?",
        (units, warehouse, sku),
    )
    conn.execute(
        "UPDATE reservation_lines SET released = released + ?"
        " WHERE reservation_key = ? AND line_id = ? AND warehouse = ?",
        (units, key, line_id, warehouse),
    )

"""The warehouse floor: pick lists, the automated picker and pack verification.

A shipment has one pick list and any number of pick attempts: the first lists every unit, a
re-pick after a short pick only the units still missing. Every function takes a connection
inside a write transaction opened by the caller, and records its outcome per attempt, so a
repeated call (an activity retry) returns the first answer and moves nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from hub.domain.messages import (
    PackConfirmation,
    PackResult,
    PickedItem,
    PickItem,
    PickList,
    PickListRequest,
    PickResult,
)
from hub.domain.shipment import ShipmentLine
from hub.errors import PermanentError
from plugins.warehouses.embedded.routing import Layout, Location, route
from plugins.warehouses.embedded.store import now

_UNLISTED = (
    "SELECT warehouse, sku, quantity - picked - released - COALESCE(("
    "  SELECT SUM(l.quantity - l.picked - l.released) FROM pick_list_lines AS l"
    "  JOIN pick_lists AS p USING (pick_list_id) WHERE p.reservation_key = r.reservation_key"
    "  AND p.warehouse = r.warehouse AND l.line_id = r.line_id), 0) AS unlisted"
    " FROM reservation_lines AS r WHERE reservation_key = ? AND line_id = ? ORDER BY warehouse"
)


def unlisted(conn: sqlite3.Connection, key: str, line_id: str) -> dict[str, sqlite3.Row]:
    """Warehouse -> (sku, unlisted) of a reserved line: its reserved, unpicked units on no
    pick list, in each warehouse the line is reserved in."""
    return {row["warehouse"]: row for row in conn.execute(_UNLISTED, (key, line_id))}


def pick_list_id(shipment_id: str) -> str:
    return f"PL-{shipment_id}"


def pick_list(
    conn: sqlite3.Connection, request: PickListRequest, layout: Layout, *, optimal: bool
) -> PickList:
    """The list for one pick attempt of a shipment: the units still due and not yet picked."""
    list_id = pick_list_id(request.shipment_id)
    issued = conn.execute(
        "SELECT reservation_key, warehouse FROM pick_lists WHERE pick_list_id = ?", (list_id,)
    ).fetchone()
    if issued is None:
        wanted = _lines_to_pick(conn, request)
        conn.execute(
            "INSERT INTO pick_lists VALUES (?, ?, ?, ?, ?)",
            (list_id, request.shipment_id, request.reservation_key, request.warehouse, now()),
        )
        conn.executemany(
            "INSERT INTO pick_list_lines (pick_list_id, line_id, sku, quantity)"
            " VALUES (?, ?, ?, ?)",
            [(list_id, line_id, sku, quantity) for line_id, (sku, quantity) in wanted.items()],
        )
    else:
        if (issued["reservation_key"], issued["warehouse"]) != (
            request.reservation_key,
            request.warehouse,
        ):
            raise PermanentError(
                f"{list_id} was issued for {issued['reservation_key']} in {issued['warehouse']}"
            )
        recorded = conn.execute(
            "SELECT list_json FROM pick_attempts WHERE pick_list_id = ? AND attempt = ?",
            (list_id, request.attempt),
        ).fetchone()
        if recorded is not None:
            return PickList.model_validate_json(recorded["list_json"])
        _check_latest(conn, list_id, request.attempt)
        _check_active(conn, request.reservation_key)

    per_sku: dict[str, int] = {}
    for row in conn.execute(
        "SELECT sku, quantity - picked - released AS due FROM pick_list_lines"
        " WHERE pick_list_id = ? AND quantity - picked - released > 0",
        (list_id,),
    ):
        per_sku[row["sku"]] = per_sku.get(row["sku"], 0) + row["due"]
    slots = {
        row["sku"]: (row["location"], row["barcode"])
        for row in conn.execute(
            "SELECT s.sku, s.location, p.barcode FROM stock AS s JOIN products AS p USING (sku)"
            " WHERE s.warehouse = ? AND s.sku IN (SELECT value FROM json_each(?))",
            (request.warehouse, json.dumps(sorted(per_sku))),
        )
    }
    skus = sorted(per_sku)
    walk = route([Location.parse(slots[sku][0]) for sku in skus], layout, optimal=optimal)
    result = PickList(
        pick_list_id=list_id,
        warehouse=request.warehouse,
        shipment_id=request.shipment_id,
        items=tuple(
            PickItem(
                sku=skus[i],
                quantity=per_sku[skus[i]],
                location=slots[skus[i]][0],
                barcode=slots[skus[i]][1],
            )
            for i in walk.order
        ),
        route_length_m=round(walk.length_m, 2),
        attempt=request.attempt,
    )
    conn.execute(
        "INSERT INTO pick_attempts (pick_list_id, attempt, list_json, issued_at)"
        " VALUES (?, ?, ?, ?)",
        (list_id, request.attempt, result.model_dump_json(), now()),
    )
    return result


def _check_latest(conn: sqlite3.Connection, list_id: str, attempt: int) -> None:
    """A new attempt must come after every earlier one: a stale one would pick twice."""
    latest = conn.execute(
        "SELECT MAX(attempt) FROM pick_attempts WHERE pick_list_id = ?", (list_id,)
    ).fetchone()[0]
    if latest is not None and attempt < latest:
        raise PermanentError(f"attempt {attempt} of {list_id} was overtaken by attempt {latest}")


def _check_active(conn: sqlite3.Connection, key: str) -> None:
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (key,)
    ).fetchone()
    if status is None or status["status"] != "active":
        raise PermanentError(f"no active reservation {key} to pick for")


def _lines_to_pick(
    conn: sqlite3.Connection, request: PickListRequest
) -> dict[str, tuple[str, int]]:
    """line id -> (sku, quantity), each checked against what is reserved and not yet listed."""
    key, warehouse = request.reservation_key, request.warehouse
    _check_active(conn, key)
    if not request.lines:
        raise PermanentError(f"shipment {request.shipment_id} has no lines to pick")
    wanted: dict[str, tuple[str, int]] = {}
    for line in request.lines:
        sku, quantity = wanted.get(line.line_id, (line.sku, 0))
        if sku != line.sku:
            raise PermanentError(f"line {line.line_id} names two SKUs")
        wanted[line.line_id] = (sku, quantity + line.quantity)
    for line_id, (sku, quantity) in wanted.items():
        row = unlisted(conn, key, line_id).get(warehouse)
        if row is None or row["sku"] != sku:
            raise PermanentError(f"line {line_id} ({sku}) is not reserved in {warehouse} by {key}")
        if row["unlisted"] < quantity:
            raise PermanentError(
                f"line {line_id}: {quantity} to pick, but only {row['unlisted']} of {sku}"
                f" reserved in {warehouse} and not yet on a pick list"
            )
    return wanted


def confirm_pick(conn: sqlite3.Connection, pick_list: PickList) -> PickResult:
    """Run the automated picker over one attempt's list, once.

    At each location it scans the product and compares the barcode with the catalogue's for the
    SKU on the list; a mismatch (wrong product in the slot, stale list) picks nothing. It takes
    what is on the shelf, up to the quantity: if an adjustment left fewer units than reserved,
    the rest is short and stays reserved for a later attempt (after a restock), a partial
    release (ship what is available) or a release. The result is cumulative over attempts.
    """
    list_id, attempt = pick_list.pick_list_id, pick_list.attempt
    issued = conn.execute("SELECT * FROM pick_lists WHERE pick_list_id = ?", (list_id,)).fetchone()
    recorded = conn.execute(
        "SELECT list_json, result_json FROM pick_attempts WHERE pick_list_id = ? AND attempt = ?",
        (list_id, attempt),
    ).fetchone()
    if issued is None or recorded is None:
        raise PermanentError(f"unknown pick list {list_id} (attempt {attempt})")
    original = PickList.model_validate_json(recorded["list_json"])
    if (
        pick_list.warehouse != original.warehouse
        or pick_list.shipment_id != original.shipment_id
        or _quantities(pick_list.items) != _quantities(original.items)
    ):
        raise PermanentError(f"pick list {list_id} differs from the one issued")
    if recorded["result_json"] is not None:
        return PickResult.model_validate_json(recorded["result_json"])
    _check_latest(conn, list_id, attempt)
    key = issued["reservation_key"]
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (key,)
    ).fetchone()
    if status["status"] != "active":
        raise PermanentError(f"reservation {key} was released")

    for item in pick_list.items:
        _pick_item(conn, pick_list, key, item)
    result = progress(conn, list_id, attempt)
    conn.execute(
        "UPDATE pick_attempts SET result_json = ?, confirmed_at = ?"
        " WHERE pick_list_id = ? AND attempt = ?",
        (result.model_dump_json(), now(), list_id, attempt),
    )
    return result


def _quantities(items: Iterable[PickItem]) -> list[tuple[str, int]]:
    return sorted((item.sku, item.quantity) for item in items)


def _pick_item(conn: sqlite3.Connection, pick_list: PickList, key: str, item: PickItem) -> None:
    warehouse = pick_list.warehouse
    in_slot = conn.execute(
        "SELECT p.barcode FROM stock AS s JOIN products AS p USING (sku)"
        " WHERE s.warehouse = ? AND s.location = ?",
        (warehouse, item.location),
    ).fetchone()
    expected = conn.execute("SELECT barcode FROM products WHERE sku = ?", (item.sku,)).fetchone()
    scanned_ok = (
        in_slot is not None
        and expected is not None
        and in_slot["barcode"] == expected["barcode"] == item.barcode
    )
    if not scanned_ok:
        return

    on_hand = conn.execute(
        "SELECT on_hand FROM stock WHERE warehouse = ? AND sku = ?", (warehouse, item.sku)
    ).fetchone()["on_hand"]
    left = min(item.quantity, on_hand)
    taken = 0
    # Book the units on this list's lines, never beyond what each is still due.
    for line in conn.execute(
        "SELECT line_id, quantity - picked - released AS due FROM pick_list_lines"
        " WHERE pick_list_id = ? AND sku = ? AND quantity - picked - released > 0"
        " ORDER BY line_id",
        (pick_list.pick_list_id, item.sku),
    ).fetchall():
        take = min(left - taken, line["due"])
        if take <= 0:
            break
        conn.execute(
            "UPDATE pick_list_lines SET picked = picked + ? WHERE pick_list_id = ? AND line_id = ?",
            (take, pick_list.pick_list_id, line["line_id"]),
        )
        conn.execute(
            "UPDATE reservation_lines SET picked = picked + ?"
            " WHERE reservation_key = ? AND line_id = ? AND warehouse = ?",
            (take, key, line["line_id"], warehouse),
        )
        taken += take
    if taken:
        conn.execute(
            "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ?"
            " WHERE warehouse = ? AND sku = ?",
            (taken, taken, warehouse, item.sku),
        )
        conn.execute(
            "INSERT INTO stock_moves (at, warehouse, sku, delta, reason) VALUES (?, ?, ?, ?, ?)",
            (
                now(),
                warehouse,
                item.sku,
                -taken,
                f"picked for {pick_list.pick_list_id} (attempt {pick_list.attempt})",
            ),
        )


def progress(conn: sqlite3.Connection, list_id: str, attempt: int) -> PickResult:
    """Picked and still missing per SKU and per line of the list, over every attempt so far."""
    lines = conn.execute(
        "SELECT line_id, sku, picked, quantity - picked - released AS missing"
        " FROM pick_list_lines WHERE pick_list_id = ? ORDER BY line_id",
        (list_id,),
    ).fetchall()
    per_sku: dict[str, tuple[int, int]] = {}
    for line in lines:
        picked, missing = per_sku.get(line["sku"], (0, 0))
        per_sku[line["sku"]] = (picked + line["picked"], missing + line["missing"])
    return PickResult(
        pick_list_id=list_id,
        attempt=attempt,
        items=tuple(
            PickedItem(sku=sku, quantity=picked, short=missing)
            for sku, (picked, missing) in sorted(per_sku.items())
        ),
        short_lines=tuple(
            ShipmentLine(line_id=line["line_id"], sku=line["sku"], quantity=line["missing"])
            for line in lines
            if line["missing"]
        ),
    )


def confirm_pack(conn: sqlite3.Connection, confirmation: PackConfirmation) -> PackResult:
    """Verify the shipment's pick is confirmed and complete (every unit still due is picked)
    and the parcels can hold it; record once."""
    list_id, shipment_id = confirmation.pick_list_id, confirmation.shipment_id

    def refuse(message: str) -> PackResult:
        return PackResult(shipment_id=shipment_id, verified=False, message=message)

    issued = conn.execute(
        "SELECT shipment_id, warehouse, reservation_key FROM pick_lists WHERE pick_list_id = ?",
        (list_id,),
    ).fetchone()
    if issued is None:
        return refuse(f"no pick list {list_id}")
    if (issued["shipment_id"], issued["warehouse"]) != (shipment_id, confirmation.warehouse):
        return refuse(f"{list_id} is for shipment {issued['shipment_id']} in {issued['warehouse']}")
    recorded = conn.execute(
        "SELECT result_json FROM packs WHERE pick_list_id = ?", (list_id,)
    ).fetchone()
    if recorded is not None:
        return PackResult.model_validate_json(recorded["result_json"])
    confirmed = conn.execute(
        "SELECT MAX(attempt) FROM pick_attempts WHERE pick_list_id = ? AND result_json IS NOT NULL",
        (list_id,),
    ).fetchone()[0]
    if confirmed is None:
        return refuse(f"pick of {list_id} is not confirmed")
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (issued["reservation_key"],)
    ).fetchone()
    if status["status"] != "active":
        return refuse(f"reservation {issued['reservation_key']} was released")
    # Against the lines as they are now: a partial release lowered what is still due.
    picked = progress(conn, list_id, confirmed)
    if picked.short_skus:
        return refuse(f"pick of {list_id} was short: {', '.join(picked.short_skus)}")
    if not any(item.quantity for item in picked.items):
        return refuse(f"nothing was picked for {list_id}")
    if not confirmation.parcels:
        return refuse("no parcels to ship")

    goods = sum(
        item.quantity
        * conn.execute("SELECT weight_grams FROM products WHERE sku = ?", (item.sku,)).fetchone()[0]
        for item in picked.items
    )
    parcels = sum(parcel.weight_grams for parcel in confirmation.parcels)
    if parcels < goods:  # a check weigher would stop this: something was left out
        return refuse(f"parcels weigh {parcels} g, less than the {goods} g of goods picked")

    result = PackResult(
        shipment_id=shipment_id,
        verified=True,
        message=f"{len(confirmation.parcels)} parcel(s), {parcels} g,"
        f" packaging {confirmation.packaging_option_id}",
    )
    conn.execute(
        "INSERT INTO packs VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            list_id,
            shipment_id,
            confirmation.packaging_option_id,
            json.dumps([parcel.model_dump(mode="json") for parcel in confirmation.parcels]),
            json.dumps(list(confirmation.inserts)),
            result.model_dump_json(),
            now(),
        ),
    )
    return result

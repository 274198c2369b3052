"""The warehouse floor: pick lists, the automated picker and pack verification.

Every function takes a connection inside a write transaction opened by the caller, and records
its outcome, so a repeated call (an activity retry) returns the first answer and moves nothing.
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
from hub.errors import PermanentError
from plugins.warehouses.embedded.routing import Layout, Location, route
from plugins.warehouses.embedded.store import now


def pick_list_id(shipment_id: str) -> str:
    return f"PL-{shipment_id}"


def pick_list(
    conn: sqlite3.Connection, request: PickListRequest, layout: Layout, *, optimal: bool
) -> PickList:
    list_id = pick_list_id(request.shipment_id)
    issued = conn.execute(
        "SELECT reservation_key, warehouse, list_json FROM pick_lists WHERE pick_list_id = ?",
        (list_id,),
    ).fetchone()
    if issued is not None:
        if (issued["reservation_key"], issued["warehouse"]) != (
            request.reservation_key,
            request.warehouse,
        ):
            raise PermanentError(
                f"{list_id} was issued for {issued['reservation_key']} in {issued['warehouse']}"
            )
        return PickList.model_validate_json(issued["list_json"])

    wanted = _lines_to_pick(conn, request)
    per_sku: dict[str, int] = {}
    for sku, quantity in wanted.values():
        per_sku[sku] = per_sku.get(sku, 0) + quantity
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
    )
    conn.execute(
        "INSERT INTO pick_lists VALUES (?, ?, ?, ?, ?, ?)",
        (
            list_id,
            request.shipment_id,
            request.reservation_key,
            request.warehouse,
            result.model_dump_json(),
            now(),
        ),
    )
    conn.executemany(
        "INSERT INTO pick_list_lines VALUES (?, ?, ?, ?)",
        [(list_id, line_id, sku, quantity) for line_id, (sku, quantity) in wanted.items()],
    )
    return result


def _lines_to_pick(
    conn: sqlite3.Connection, request: PickListRequest
) -> dict[str, tuple[str, int]]:
    """line id -> (sku, quantity), each checked against what is reserved and not yet listed."""
    key, warehouse = request.reservation_key, request.warehouse
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (key,)
    ).fetchone()
    if status is None or status["status"] != "active":
        raise PermanentError(f"no active reservation {key} to pick for")
    if not request.lines:
        raise PermanentError(f"shipment {request.shipment_id} has no lines to pick")
    wanted: dict[str, tuple[str, int]] = {}
    for line in request.lines:
        sku, quantity = wanted.get(line.line_id, (line.sku, 0))
        if sku != line.sku:
            raise PermanentError(f"line {line.line_id} names two SKUs")
        wanted[line.line_id] = (sku, quantity + line.quantity)
    for line_id, (sku, quantity) in wanted.items():
        row = conn.execute(
            "SELECT sku, quantity - released - COALESCE(("
            "  SELECT SUM(l.quantity) FROM pick_list_lines AS l JOIN pick_lists AS p"
            "  USING (pick_list_id) WHERE p.reservation_key = r.reservation_key"
            "  AND p.warehouse = r.warehouse AND l.line_id = r.line_id), 0) AS unlisted"
            " FROM reservation_lines AS r"
            " WHERE reservation_key = ? AND line_id = ? AND warehouse = ?",
            (key, line_id, warehouse),
        ).fetchone()
        if row is None or row["sku"] != sku:
            raise PermanentError(f"line {line_id} ({sku}) is not reserved in {warehouse} by {key}")
        if row["unlisted"] < quantity:
            raise PermanentError(
                f"line {line_id}: {quantity} to pick, but only {row['unlisted']} of {sku}"
                f" reserved in {warehouse} and not yet on a pick list"
            )
    return wanted


def confirm_pick(conn: sqlite3.Connection, pick_list: PickList) -> PickResult:
    """Run the automated picker over the list, once.

    At each location it scans the product and compares the barcode with the catalogue's for the
    SKU on the list; a mismatch (wrong product in the slot, stale list) picks nothing. It takes
    what is on the shelf, up to the quantity: if an adjustment left fewer units than reserved,
    the rest is short and stays reserved until stock arrives or the reservation is released.
    """
    issued = _issued(conn, pick_list)
    recorded = conn.execute(
        "SELECT result_json FROM picks WHERE pick_list_id = ?", (pick_list.pick_list_id,)
    ).fetchone()
    if recorded is not None:
        return PickResult.model_validate_json(recorded["result_json"])
    status = conn.execute(
        "SELECT status FROM reservations WHERE reservation_key = ?", (issued["reservation_key"],)
    ).fetchone()
    if status["status"] != "active":
        raise PermanentError(f"reservation {issued['reservation_key']} was released")

    picked = tuple(
        _pick_item(conn, pick_list, issued["reservation_key"], item) for item in pick_list.items
    )
    result = PickResult(pick_list_id=pick_list.pick_list_id, items=picked)
    conn.execute(
        "INSERT INTO picks VALUES (?, ?, ?, ?)",
        (pick_list.pick_list_id, result.model_dump_json(), not result.short_skus, now()),
    )
    return result


def _issued(conn: sqlite3.Connection, pick_list: PickList) -> sqlite3.Row:
    """The stored pick list; the one given must ask for the same SKUs and quantities."""
    issued: sqlite3.Row | None = conn.execute(
        "SELECT * FROM pick_lists WHERE pick_list_id = ?", (pick_list.pick_list_id,)
    ).fetchone()
    if issued is None:
        raise PermanentError(f"unknown pick list {pick_list.pick_list_id}")
    original = PickList.model_validate_json(issued["list_json"])
    if (
        pick_list.warehouse != original.warehouse
        or pick_list.shipment_id != original.shipment_id
        or _quantities(pick_list.items) != _quantities(original.items)
    ):
        raise PermanentError(f"pick list {pick_list.pick_list_id} differs from the one issued")
    return issued


def _quantities(items: Iterable[PickItem]) -> list[tuple[str, int]]:
    return sorted((item.sku, item.quantity) for item in items)


def _pick_item(
    conn: sqlite3.Connection, pick_list: PickList, key: str, item: PickItem
) -> PickedItem:
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
        return PickedItem(sku=item.sku, quantity=0, short=item.quantity)

    on_hand = conn.execute(
        "SELECT on_hand FROM stock WHERE warehouse = ? AND sku = ?", (warehouse, item.sku)
    ).fetchone()["on_hand"]
    on_shelf = min(item.quantity, on_hand)
    left = on_shelf
    # Book the units against the reservation lines this list was made for.
    for line in conn.execute(
        "SELECT l.line_id, MIN(l.quantity, r.quantity - r.picked - r.released) AS open"
        " FROM pick_list_lines AS l JOIN reservation_lines AS r"
        " ON r.reservation_key = ? AND r.warehouse = ? AND r.line_id = l.line_id"
        " WHERE l.pick_list_id = ? AND l.sku = ? ORDER BY l.line_id",
        (key, warehouse, pick_list.pick_list_id, item.sku),
    ).fetchall():
        take = min(left, line["open"])
        if take > 0:
            conn.execute(
                "UPDATE reservation_lines SET picked = picked + ?"
                " WHERE reservation_key = ? AND line_id = ? AND warehouse = ?",
                (take, key, line["line_id"], warehouse),
            )
            left -= take
    taken = on_shelf - left  # never more than is still reserved for these lines
    if taken:
        conn.execute(
            "UPDATE stock SET on_hand = on_hand - ?, reserved = reserved - ?"
            " WHERE warehouse = ? AND sku = ?",
            (taken, taken, warehouse, item.sku),
        )
        conn.execute(
            "INSERT INTO stock_moves (at, warehouse, sku, delta, reason) VALUES (?, ?, ?, ?, ?)",
            (now(), warehouse, item.sku, -taken, f"picked for {pick_list.pick_list_id}"),
        )
    return PickedItem(sku=item.sku, quantity=taken, short=item.quantity - taken)


def confirm_pack(conn: sqlite3.Connection, confirmation: PackConfirmation) -> PackResult:
    """Verify the pick was confirmed and complete and the parcels can hold it; record once."""
    list_id, shipment_id = confirmation.pick_list_id, confirmation.shipment_id

    def refuse(message: str) -> PackResult:
        return PackResult(shipment_id=shipment_id, verified=False, message=message)

    issued = conn.execute(
        "SELECT shipment_id, warehouse FROM pick_lists WHERE pick_list_id = ?", (list_id,)
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
    pick = conn.execute(
        "SELECT result_json FROM picks WHERE pick_list_id = ?", (list_id,)
    ).fetchone()
    if pick is None:
        return refuse(f"pick of {list_id} is not confirmed")
    picked = PickResult.model_validate_json(pick["result_json"])
    if picked.short_skus:
        return refuse(f"pick of {list_id} was short: {', '.join(picked.short_skus)}")
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

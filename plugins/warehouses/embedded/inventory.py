"""Stock and reservations: the SQL behind reserve, stock levels and adjustments.

Every function takes a connection inside a transaction opened by the caller (see store.py),
so each hook is one atomic step.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from hub.domain.address import Address
from hub.domain.messages import Allocation, Reservation, ReservationRequest
from hub.errors import PermanentError
from plugins.warehouses.embedded.allocation import allocate
from plugins.warehouses.embedded.routing import Layout, Location
from plugins.warehouses.embedded.store import now


@dataclass(frozen=True)
class StockLevel:
    warehouse: str
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int
    """on_hand - reserved; negative after a downward adjustment of reserved stock."""


def reserve(conn: sqlite3.Connection, request: ReservationRequest) -> Reservation:
    key = request.reservation_key
    lines_json = _lines_fingerprint(request)
    recorded = conn.execute(
        "SELECT lines_json, result_json, status FROM reservations WHERE reservation_key = ?",
        (key,),
    ).fetchone()
    if recorded is not None:
        if recorded["status"] == "released":
            raise PermanentError(f"reservation {key} was released; reserve under a new key")
        if recorded["lines_json"] != lines_json:
            raise PermanentError(f"reservation key {key} was already used for other lines")
        return Reservation.model_validate_json(recorded["result_json"])

    _check_lines(conn, request)
    skus = json.dumps(sorted({line.sku for line in request.lines}))
    available: dict[str, dict[str, int]] = {}
    for row in conn.execute(
        "SELECT warehouse, sku, on_hand - reserved AS free FROM stock"
        " WHERE sku IN (SELECT value FROM json_each(?))",
        (skus,),
    ):
        available.setdefault(row["warehouse"], {})[row["sku"]] = row["free"]
    addresses = warehouse_addresses(conn)
    countries = {code: address.country for code, address in addresses.items()}
    plan = allocate(request.lines, available, countries, request.destination_country)
    if plan.shortages:
        # Nothing is recorded: the same key may try again once stock arrives.
        return Reservation(reservation_key=key, shortages=plan.shortages)

    for warehouse, lines in plan.allocations:
        for line in lines:
            taken = conn.execute(
                "UPDATE stock SET reserved = reserved + ?"
                " WHERE warehouse = ? AND sku = ? AND on_hand - reserved >= ?",
                (line.quantity, warehouse, line.sku, line.quantity),
            ).rowcount
            # Cannot fail under the write lock; checked so a planning bug can never oversell.
            if taken != 1:
                raise PermanentError(f"allocation of {line.sku} in {warehouse} exceeds stock")
    reservation = Reservation(
        reservation_key=key,
        allocations=tuple(
            Allocation(warehouse=warehouse, ship_from=addresses[warehouse], lines=lines)
            for warehouse, lines in plan.allocations
        ),
    )
    conn.execute(
        "INSERT INTO reservations (reservation_key, lines_json, result_json, status, created_at)"
        " VALUES (?, ?, ?, 'active', ?)",
        (key, lines_json, reservation.model_dump_json(), now()),
    )
    conn.executemany(
        "INSERT INTO reservation_lines (reservation_key, line_id, warehouse, sku, quantity)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (key, line.line_id, warehouse, line.sku, line.quantity)
            for warehouse, lines in plan.allocations
            for line in lines
        ],
    )
    return reservation


def stock_levels(conn: sqlite3.Connection, warehouse: str | None = None) -> list[StockLevel]:
    rows = conn.execute(
        "SELECT warehouse, sku, location, on_hand, reserved, on_hand - reserved AS available"
        " FROM stock"
        " WHERE ? IS NULL OR warehouse = ? ORDER BY warehouse, sku",
        (warehouse, warehouse),
    )
    return [StockLevel(**dict(row)) for row in rows]


def adjust_stock(
    conn: sqlite3.Connection,
    layout: Layout,
    warehouse: str,
    sku: str,
    delta: int,
    reason: str,
    location: str | None,
) -> StockLevel:
    """Count stock in or out (delivery, damage, stock take). A SKU new to a warehouse needs a
    free location. Reserved units are not touched: if on_hand drops below them, picks go short.
    """
    reason = reason.strip()
    if not reason:
        raise PermanentError("a stock adjustment needs a reason")
    if delta == 0:
        raise PermanentError("a stock adjustment of 0 changes nothing")
    if warehouse not in warehouse_addresses(conn):
        raise PermanentError(f"unknown warehouse {warehouse!r}")
    if conn.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is None:
        raise PermanentError(f"unknown SKU {sku!r}")
    row = conn.execute(
        "SELECT location, on_hand FROM stock WHERE warehouse = ? AND sku = ?", (warehouse, sku)
    ).fetchone()
    if row is None:
        _new_slot(conn, layout, warehouse, sku, delta, location)
    else:
        if location is not None and _slot(layout, location) != row["location"]:
            raise PermanentError(f"{sku} is kept at {row['location']} in {warehouse}, not there")
        if row["on_hand"] + delta < 0:
            raise PermanentError(f"{warehouse} has only {row['on_hand']} of {sku} on hand")
        conn.execute(
            "UPDATE stock SET on_hand = on_hand + ? WHERE warehouse = ? AND sku = ?",
            (delta, warehouse, sku),
        )
    conn.execute(
        "INSERT INTO stock_moves (at, warehouse, sku, delta, reason) VALUES (?, ?, ?, ?, ?)",
        (now(), warehouse, sku, delta, reason),
    )
    (level,) = (s for s in stock_levels(conn, warehouse) if s.sku == sku)
    return level


def _new_slot(
    conn: sqlite3.Connection,
    layout: Layout,
    warehouse: str,
    sku: str,
    delta: int,
    location: str | None,
) -> None:
    if location is None:
        raise PermanentError(f"{warehouse} has no location for {sku}: give one to stock it")
    if delta < 0:
        raise PermanentError(f"{warehouse} holds no {sku} to take out")
    location = _slot(layout, location)
    taken = conn.execute(
        "SELECT sku FROM stock WHERE warehouse = ? AND location = ?", (warehouse, location)
    ).fetchone()
    if taken is not None:
        raise PermanentError(f"location {location} in {warehouse} already holds {taken['sku']}")
    conn.execute(
        "INSERT INTO stock (warehouse, sku, location, on_hand) VALUES (?, ?, ?, ?)",
        (warehouse, sku, location, delta),
    )


def _slot(layout: Layout, location: str) -> str:
    """The canonical spelling of a location on this floor ("1-3-1" -> "01-03-1")."""
    try:
        parsed = Location.parse(location)
        layout.check(parsed)
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    return str(parsed)


def warehouse_addresses(conn: sqlite3.Connection) -> dict[str, Address]:
    return {
        row["code"]: Address.model_validate_json(row["address_json"])
        for row in conn.execute("SELECT code, address_json FROM warehouses ORDER BY code")
    }


def _check_lines(conn: sqlite3.Connection, request: ReservationRequest) -> None:
    if not request.lines:
        raise PermanentError(f"reservation {request.reservation_key} has no lines")
    line_ids = [line.line_id for line in request.lines]
    if len(set(line_ids)) != len(line_ids):
        raise PermanentError(f"reservation {request.reservation_key} repeats a line id")
    skus = sorted({line.sku for line in request.lines})
    known = {
        row["sku"]
        for row in conn.execute(
            "SELECT sku FROM products WHERE sku IN (SELECT value FROM json_each(?))",
            (json.dumps(skus),),
        )
    }
    unknown = [sku for sku in skus if sku not in known]
    if unknown:
        raise PermanentError(f"unknown SKU: {', '.join(unknown)}")


def _lines_fingerprint(request: ReservationRequest) -> str:
    """The request's lines in a canonical form, to spot a key reused for another order."""
    return json.dumps(sorted((line.line_id, line.sku, line.quantity) for line in request.lines))

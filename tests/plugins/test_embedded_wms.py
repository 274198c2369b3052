"""The embedded WMS: allocation and routing (pure), then the plugin over a real SQLite file."""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import random
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hub import hookspecs
from hub.domain.messages import (
    PackConfirmation,
    PackResult,
    PickList,
    PickListRequest,
    PickResult,
    ReleaseRequest,
    ReleaseResult,
    ReservationRequest,
)
from hub.domain.shipment import Dimensions, Parcel, ShipmentLine
from hub.errors import ConfigError, PermanentError
from hub.host import PluginHost
from hub.plugin import PluginRuntime
from plugins.warehouses.embedded import EmbeddedWarehouse, EmbeddedWarehouseSettings, StockLevel
from plugins.warehouses.embedded.allocation import allocate
from plugins.warehouses.embedded.routing import (
    Layout,
    Location,
    optimal_route,
    s_shape_route,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"

# A small catalogue of our own where the real one does not have the shape a test needs.
SMALL_CATALOG = """
[[products]]
sku = "LAST"
name = "The last one"
barcode = "4000000000001"
weight_grams = 100
dimensions_mm = [100, 100, 100]

[[products]]
sku = "PLENTY"
name = "Plenty of these"
barcode = "4000000000002"
weight_grams = 200
dimensions_mm = [100, 100, 50]

[[warehouses]]
code = "STO1"
name = "Stockholm"

[warehouses.address]
name = "Hub AB"
line1 = "Lagervägen 12"
city = "Stockholm"
postal_code = "12030"
country = "SE"

[[stock]]
warehouse = "STO1"
sku = "LAST"
location = "02-10-1"
on_hand = 1

[[stock]]
warehouse = "STO1"
sku = "PLENTY"
location = "01-01-1"
on_hand = 100
"""


def line(line_id: str, sku: str, quantity: int) -> ShipmentLine:
    return ShipmentLine(line_id=line_id, sku=sku, quantity=quantity)


def reserve_request(key: str, *lines: ShipmentLine, country: str = "DE") -> ReservationRequest:
    return ReservationRequest(reservation_key=key, lines=lines, destination_country=country)


def build(data_dir: Path, config_dir: Path = CONFIG_DIR, **settings: Any) -> EmbeddedWarehouse:
    return EmbeddedWarehouse(
        EmbeddedWarehouseSettings(**settings),
        PluginRuntime(data_dir=data_dir, config_dir=config_dir),
    )


@pytest.fixture
def wms(tmp_path: Path) -> EmbeddedWarehouse:
    return build(tmp_path / "data")


def level(wms: EmbeddedWarehouse, warehouse: str, sku: str) -> StockLevel:
    (found,) = (s for s in wms.stock_levels(warehouse) if s.sku == sku)
    return found


def total_reserved(wms: EmbeddedWarehouse) -> int:
    return sum(s.reserved for s in wms.stock_levels())


def assert_books_balance(wms: EmbeddedWarehouse) -> None:
    """stock.reserved is exactly what reservation lines still hold; nothing is negative."""
    with contextlib.closing(sqlite3.connect(wms.db.path)) as conn:
        rows = conn.execute(
            "SELECT s.warehouse, s.sku, s.on_hand, s.reserved, COALESCE(("
            "  SELECT SUM(quantity - picked - released) FROM reservation_lines AS r"
            "  WHERE r.warehouse = s.warehouse AND r.sku = s.sku), 0) FROM stock AS s"
        ).fetchall()
    for warehouse, sku, on_hand, reserved, outstanding in rows:
        assert reserved == outstanding, (warehouse, sku)
        assert on_hand >= 0 and reserved >= 0, (warehouse, sku)


def release(wms: EmbeddedWarehouse, key: str, *kept: str) -> ReleaseResult:
    """A whole release (cancel), keeping the picked units of the `kept` shipments out."""
    return wms.warehouse_release(ReleaseRequest(reservation_key=key, kept_shipments=kept))


def parcel(grams: int) -> Parcel:
    return Parcel(
        weight_grams=grams, dimensions=Dimensions(length_mm=400, width_mm=300, height_mm=200)
    )


# =========================================================================== allocation (pure)

COUNTRIES = {"A": "SE", "B": "NL", "C": "DE"}


def test_allocation_prefers_one_warehouse_in_the_destination_country() -> None:
    stock = {"A": {"X": 5, "Y": 5}, "B": {"X": 50, "Y": 50}}
    plan = allocate([line("1", "X", 2), line("2", "Y", 1)], stock, COUNTRIES, "SE")
    assert [w for w, _ in plan.allocations] == ["A"]
    abroad = allocate([line("1", "X", 2), line("2", "Y", 1)], stock, COUNTRIES, "FR")
    assert [w for w, _ in abroad.allocations] == ["B"], "most headroom when none is local"


def test_allocation_ties_break_by_warehouse_code() -> None:
    stock = {"B": {"X": 5}, "A": {"X": 5}}
    plan = allocate([line("1", "X", 1)], stock, {"A": "SE", "B": "SE"}, "SE")
    assert plan.allocations[0][0] == "A"


def test_allocation_splits_across_the_fewest_warehouses_keeping_lines_whole() -> None:
    stock = {"A": {"X": 3}, "B": {"Y": 2, "X": 1}, "C": {"Z": 4}}
    plan = allocate(
        [line("1", "X", 3), line("2", "Y", 2), line("3", "Z", 1)], stock, COUNTRIES, "DE"
    )
    assert dict(plan.allocations) == {
        "C": (line("3", "Z", 1),),
        "A": (line("1", "X", 3),),
        "B": (line("2", "Y", 2),),
    }
    assert [w for w, _ in plan.allocations] == ["C", "A", "B"], "in-country first, then code"


def test_allocation_splits_a_line_only_when_it_must() -> None:
    stock = {"A": {"X": 4}, "B": {"X": 3}}
    plan = allocate([line("1", "X", 6)], stock, COUNTRIES, "SE")
    assert dict(plan.allocations) == {"A": (line("1", "X", 4),), "B": (line("1", "X", 2),)}
    # Two lines of one SKU that no single warehouse holds: each line stays whole.
    two = allocate([line("1", "X", 3), line("2", "X", 4)], stock, COUNTRIES, "SE")
    assert dict(two.allocations) == {"A": (line("2", "X", 4),), "B": (line("1", "X", 3),)}


def test_allocation_finds_the_fewest_warehouses_where_greedy_does_not() -> None:
    # Greedy set cover takes W (covers 4 units) and then needs both others: 3 warehouses.
    stock = {
        "W": {"s1": 1, "s2": 1, "s3": 1, "s4": 1},
        "X": {"s1": 1, "s2": 1, "s5": 1},
        "Y": {"s3": 1, "s4": 1, "s6": 1},
    }
    countries = {"W": "SE", "X": "SE", "Y": "SE"}
    lines = [line(str(n), f"s{n}", 1) for n in range(1, 7)]
    exact = allocate(lines, stock, countries, "SE")
    assert [w for w, _ in exact.allocations] == ["X", "Y"]
    greedy = allocate(lines, stock, countries, "SE", max_subsets=1)
    assert [w for w, _ in greedy.allocations] == ["W", "X", "Y"]
    assert not greedy.shortages


def test_allocation_is_all_or_nothing() -> None:
    stock = {"A": {"X": 1, "Y": 9}, "B": {"X": 1}}
    plan = allocate([line("1", "X", 3), line("2", "Y", 2)], stock, COUNTRIES, "SE")
    assert plan.allocations == ()
    assert [(s.sku, s.requested, s.available) for s in plan.shortages] == [("X", 3, 2)]


def test_allocation_ignores_negative_availability() -> None:
    plan = allocate([line("1", "X", 1)], {"A": {"X": -3}, "B": {"X": 1}}, COUNTRIES, "SE")
    assert [w for w, _ in plan.allocations] == ["B"]


# =========================================================================== routing (pure)

LAYOUT = Layout(aisle_spacing_m=3.0, bay_length_m=1.0, bays_per_aisle=20)


def _distance(p: tuple[int, float], q: tuple[int, float], layout: Layout) -> float:
    (aisle_p, y_p), (aisle_q, y_q) = p, q
    if aisle_p == aisle_q:
        return abs(y_p - y_q)
    full = layout.aisle_length_m
    across = abs(aisle_p - aisle_q) * layout.aisle_spacing_m
    return across + min(y_p + y_q, 2 * full - y_p - y_q)


def _walk(order: list[Location], layout: Layout) -> float:
    depot = (layout.depot_aisle, 0.0)
    points = [depot, *((loc.aisle, layout.depth(loc.bay)) for loc in order), depot]
    return sum(_distance(a, b, layout) for a, b in itertools.pairwise(points))


def _shortest_by_brute_force(locations: list[Location], layout: Layout) -> float:
    return min(_walk(list(p), layout) for p in itertools.permutations(locations))


def test_location_parse() -> None:
    assert Location.parse("01-03-1") == Location(1, 3, 1)
    assert str(Location.parse("4-7-2")) == "04-07-2"
    for bad in ("1-2", "A-1-1", "00-01-1", "1-2-3-4"):
        with pytest.raises(ValueError, match="location"):
            Location.parse(bad)
    with pytest.raises(ValueError, match="bays"):
        optimal_route([Location(1, 21, 1)], LAYOUT)


def test_optimal_route_is_exact() -> None:
    rng = random.Random(20240601)
    for _ in range(250):
        layout = Layout(
            aisle_spacing_m=rng.choice([1.5, 3.0, 6.0]),
            bay_length_m=rng.choice([0.5, 1.0]),
            bays_per_aisle=rng.randint(2, 12),
            depot_aisle=rng.randint(1, 5),
        )
        # Distinct bays: a stop is visited once, so brute force over its points is the optimum.
        bays = {(rng.randint(1, 6), rng.randint(1, layout.bays_per_aisle)) for _ in range(6)}
        locations = [Location(aisle, bay, 1) for aisle, bay in sorted(bays)]
        best = _shortest_by_brute_force(locations, layout)
        found = optimal_route(locations, layout)
        assert found.length_m == pytest.approx(best)
        assert sorted(found.order) == list(range(len(locations)))
        assert _walk([locations[i] for i in found.order], layout) == pytest.approx(best)
        s_shape = s_shape_route(locations, layout)
        assert s_shape.length_m >= best - 1e-9
        assert _walk([locations[i] for i in s_shape.order], layout) <= s_shape.length_m + 1e-9


def test_s_shape_route_snakes_through_the_aisles() -> None:
    locations = [Location(3, 5, 1), Location(1, 10, 1), Location(1, 2, 2), Location(2, 4, 1)]
    s_shape = s_shape_route(locations, LAYOUT)
    # Up aisle 1, down aisle 2, into aisle 3 and back, then home along the front.
    assert [locations[i] for i in s_shape.order] == [
        Location(1, 2, 2),
        Location(1, 10, 1),
        Location(2, 4, 1),
        Location(3, 5, 1),
    ]
    assert s_shape.length_m == pytest.approx(20 + 3 + 20 + 3 + 2 * 4.5 + 6)
    optimal = optimal_route(locations, LAYOUT)
    assert optimal.length_m < s_shape.length_m


def test_locations_in_one_bay_are_one_stop_ordered_by_level() -> None:
    locations = [Location(1, 4, 3), Location(1, 4, 1), Location(1, 2, 1)]
    found = optimal_route(locations, LAYOUT)
    assert list(found.order) == [2, 1, 0]
    assert found.length_m == pytest.approx(2 * 3.5)
    assert optimal_route([], LAYOUT).length_m == 0


# =========================================================================== plugin: catalogue


def test_item_specs_in_asked_order_and_unknown_skus_absent(wms: EmbeddedWarehouse) -> None:
    specs = wms.warehouse_item_specs(["MUG-CER-350", "NO-SUCH-SKU", "TEE-ORG-BLK-M", "MUG-CER-350"])
    assert [s.sku for s in specs] == ["MUG-CER-350", "TEE-ORG-BLK-M"]
    mug = specs[0]
    assert (mug.weight_grams, mug.hs_code, mug.country_of_origin) == (420, "691200", "PT")
    assert mug.dimensions == Dimensions(length_mm=120, width_mm=120, height_mm=110)
    assert wms.warehouse_item_specs([]) == []


def test_database_is_seeded_on_first_start_only(tmp_path: Path) -> None:
    first = build(tmp_path)
    assert first.db.path == tmp_path / "warehouses" / "embedded" / "wms.sqlite3"
    first.adjust_stock("STO1", "BOOK-FIELD-GUIDE", -5, "water damage")
    again = build(tmp_path, catalog_file=tmp_path / "not-read-once-seeded.toml")
    assert level(again, "STO1", "BOOK-FIELD-GUIDE").on_hand == 75
    with contextlib.closing(sqlite3.connect(again.db.path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_catalogue_problems_stop_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read catalog"):
        build(tmp_path / "a", catalog_file=tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text(
        SMALL_CATALOG.replace('warehouse = "STO1"\nsku = "LAST"', 'warehouse = "X"\nsku = "LAST"')
    )
    with pytest.raises(ConfigError, match="unknown warehouse 'X'"):
        build(tmp_path / "b", catalog_file=broken)
    far = tmp_path / "far.toml"
    far.write_text(SMALL_CATALOG.replace("02-10-1", "02-30-1"))
    with pytest.raises(ConfigError, match="bay 30"):
        build(tmp_path / "c", catalog_file=far)


def test_database_setting_is_a_file_name() -> None:
    with pytest.raises(ValueError, match="file name"):
        EmbeddedWarehouseSettings(database="../elsewhere.sqlite3")


# =========================================================================== plugin: reservations


def test_reserve_from_one_warehouse(wms: EmbeddedWarehouse) -> None:
    lines = (line("1", "TEE-ORG-BLK-M", 2), line("2", "MUG-CER-350", 1))
    # Both warehouses hold both SKUs; neither is in Germany; Stockholm has more headroom.
    to_germany = wms.warehouse_reserve(reserve_request("order:1", *lines))
    assert to_germany.complete
    (allocation,) = to_germany.allocations
    assert (allocation.warehouse, allocation.lines) == ("STO1", lines)
    assert allocation.ship_from.city == "Stockholm"
    # Shipping to the Netherlands prefers the Rotterdam warehouse.
    to_netherlands = wms.warehouse_reserve(reserve_request("order:2", *lines, country="NL"))
    assert [a.warehouse for a in to_netherlands.allocations] == ["RTM1"]
    assert to_netherlands.allocations[0].ship_from.postal_code == "3087 BM"
    assert (
        level(wms, "STO1", "TEE-ORG-BLK-M").reserved,
        level(wms, "RTM1", "MUG-CER-350").reserved,
    ) == (2, 1)


def test_reserve_split_across_warehouses(wms: EmbeddedWarehouse) -> None:
    # Socks are only in Stockholm, lamps only in Rotterdam; 250 mugs need both warehouses.
    lines = (
        line("1", "SOCK-WOOL-3PK", 1),
        line("2", "LAMP-DESK-LED", 1),
        line("3", "MUG-CER-350", 250),
    )
    reservation = wms.warehouse_reserve(reserve_request("order:split", *lines, country="SE"))
    by_warehouse = {a.warehouse: a.lines for a in reservation.allocations}
    assert [a.warehouse for a in reservation.allocations] == ["STO1", "RTM1"], "in-country first"
    assert by_warehouse == {
        "STO1": (line("1", "SOCK-WOOL-3PK", 1), line("3", "MUG-CER-350", 200)),
        "RTM1": (line("2", "LAMP-DESK-LED", 1), line("3", "MUG-CER-350", 50)),
    }
    assert level(wms, "STO1", "MUG-CER-350").available == 0
    assert level(wms, "RTM1", "MUG-CER-350").available == 50
    assert_books_balance(wms)


def test_shortage_reserves_nothing(wms: EmbeddedWarehouse) -> None:
    lines = (line("1", "SOCK-WOOL-3PK", 1), line("2", "LAMP-DESK-LED", 41))
    reservation = wms.warehouse_reserve(reserve_request("order:short", *lines))
    assert not reservation.complete
    assert reservation.allocations == ()
    assert [(s.sku, s.requested, s.available) for s in reservation.shortages] == [
        ("LAMP-DESK-LED", 41, 40)
    ]
    assert total_reserved(wms) == 0
    # Nothing was recorded under the key: once restocked, the same key succeeds.
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", 1, "delivery")
    assert wms.warehouse_reserve(reserve_request("order:short", *lines)).complete


def test_reserve_is_idempotent_per_key(wms: EmbeddedWarehouse) -> None:
    request = reserve_request("order:idem", line("1", "HOOD-MER-GRY-M", 3))
    first = wms.warehouse_reserve(request)
    again = wms.warehouse_reserve(request)
    assert again == first
    assert level(wms, "STO1", "HOOD-MER-GRY-M").reserved == 3
    with pytest.raises(PermanentError, match="already used for other lines"):
        wms.warehouse_reserve(reserve_request("order:idem", line("1", "HOOD-MER-GRY-M", 4)))


def test_reserve_rejects_bad_input(wms: EmbeddedWarehouse) -> None:
    with pytest.raises(PermanentError, match="unknown SKU: NOPE"):
        wms.warehouse_reserve(
            reserve_request("k1", line("1", "NOPE", 1), line("2", "MUG-CER-350", 1))
        )
    with pytest.raises(PermanentError, match="repeats a line id"):
        wms.warehouse_reserve(
            reserve_request("k2", line("1", "MUG-CER-350", 1), line("1", "BAG-TOTE-NAT", 1))
        )
    with pytest.raises(PermanentError, match="no lines"):
        wms.warehouse_reserve(reserve_request("k3"))
    assert total_reserved(wms) == 0


def test_release(wms: EmbeddedWarehouse) -> None:
    wms.warehouse_reserve(reserve_request("order:rel", line("1", "CAP-CAN-NVY", 5)))
    assert level(wms, "RTM1", "CAP-CAN-NVY").reserved == 5
    assert release(wms, "order:rel") == ReleaseResult(released_units=5)
    assert level(wms, "RTM1", "CAP-CAN-NVY").reserved == 0
    assert release(wms, "order:rel") == ReleaseResult(), "a repeat moves nothing"
    assert release(wms, "never-reserved") == ReleaseResult()
    with pytest.raises(PermanentError, match="was released"):
        wms.warehouse_reserve(reserve_request("order:rel", line("1", "CAP-CAN-NVY", 5)))


# =========================================================================== plugin: floor

SPREAD = (
    line("a", "BOOK-FIELD-GUIDE", 1),  # 05-01-3
    line("b", "TEE-ORG-BLK-M", 2),  # 01-03-1
    line("c", "SOCK-WOOL-3PK", 1),  # 03-10-1
    line("d", "HOOD-MER-GRY-M", 1),  # 02-02-2
)


def reserve_and_list(wms: EmbeddedWarehouse, key: str, *lines: ShipmentLine) -> PickList:
    reservation = wms.warehouse_reserve(reserve_request(key, *lines, country="SE"))
    (allocation,) = reservation.allocations
    return wms.warehouse_pick_list(
        PickListRequest(
            reservation_key=key,
            shipment_id=f"{key}-1",
            warehouse=allocation.warehouse,
            lines=allocation.lines,
        )
    )


def test_pick_list_is_in_walking_order_and_idempotent(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(wms, "walk", *SPREAD)
    assert pick_list.pick_list_id == "PL-walk-1"
    assert pick_list.warehouse == "STO1"
    assert [i.location for i in pick_list.items] == ["01-03-1", "02-02-2", "03-10-1", "05-01-3"]
    assert pick_list.items[0].barcode == "7350123400011"
    assert pick_list.route_length_m == pytest.approx(
        optimal_route([Location.parse(i.location) for i in pick_list.items], wms.layout).length_m
    )
    request = PickListRequest(
        reservation_key="walk", shipment_id="walk-1", warehouse="STO1", lines=SPREAD
    )
    assert wms.warehouse_pick_list(request) == pick_list
    with pytest.raises(PermanentError, match="not yet on a pick list"):
        wms.warehouse_pick_list(request.model_copy(update={"shipment_id": "walk-2"}))


def test_s_shape_routing_is_a_setting(tmp_path: Path) -> None:
    wms = build(tmp_path, routing="s_shape")
    pick_list = reserve_and_list(wms, "snake", *SPREAD)
    locations = [Location.parse(i.location) for i in pick_list.items]
    assert pick_list.route_length_m == pytest.approx(s_shape_route(locations, wms.layout).length_m)


def test_pick_list_only_for_reserved_lines(wms: EmbeddedWarehouse) -> None:
    wms.warehouse_reserve(reserve_request("pl", line("1", "MUG-CER-350", 2), country="SE"))

    def request(shipment: str, *lines: ShipmentLine, **changes: str) -> PickListRequest:
        fields = {"reservation_key": "pl", "warehouse": "STO1", **changes}
        return PickListRequest(shipment_id=shipment, lines=lines, **fields)

    with pytest.raises(PermanentError, match="only 2 of MUG-CER-350 reserved in STO1"):
        wms.warehouse_pick_list(request("pl-1", line("1", "MUG-CER-350", 3)))
    with pytest.raises(PermanentError, match="not reserved in RTM1"):
        wms.warehouse_pick_list(request("pl-1", line("1", "MUG-CER-350", 1), warehouse="RTM1"))
    with pytest.raises(PermanentError, match="no active reservation other"):
        wms.warehouse_pick_list(
            request("pl-1", line("1", "MUG-CER-350", 1), reservation_key="other")
        )
    # Part of a line now, the rest on a second list; nothing beyond what is reserved.
    assert (
        wms.warehouse_pick_list(request("pl-1", line("1", "MUG-CER-350", 1))).items[0].quantity == 1
    )
    assert (
        wms.warehouse_pick_list(request("pl-2", line("1", "MUG-CER-350", 1))).items[0].quantity == 1
    )
    with pytest.raises(PermanentError, match="only 0"):
        wms.warehouse_pick_list(request("pl-3", line("1", "MUG-CER-350", 1)))


def test_confirm_pick_moves_stock_once(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(wms, "pick", *SPREAD)
    tees = level(wms, "STO1", "TEE-ORG-BLK-M")
    assert (tees.on_hand, tees.reserved) == (400, 2)
    result = wms.warehouse_confirm_pick(pick_list)
    assert result.short_skus == []
    assert {i.sku: i.quantity for i in result.items}["TEE-ORG-BLK-M"] == 2
    tees = level(wms, "STO1", "TEE-ORG-BLK-M")
    assert (tees.on_hand, tees.reserved) == (398, 0)
    assert wms.warehouse_confirm_pick(pick_list) == result
    assert level(wms, "STO1", "TEE-ORG-BLK-M").on_hand == 398
    assert total_reserved(wms) == 0
    assert release(wms, "pick", "pick-1") == ReleaseResult(), "all picked and handed over"
    with pytest.raises(PermanentError, match="differs from the one issued"):
        wms.warehouse_confirm_pick(
            pick_list.model_copy(
                update={"pick_list_id": pick_list.pick_list_id, "items": pick_list.items[:1]}
            )
        )


def test_short_pick_after_a_downward_adjustment(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(wms, "short", line("1", "LAMP-DESK-LED", 5))
    # A stock take finds only 2 lamps: 38 gone, including 3 of the 5 reserved ones.
    after = wms.adjust_stock("RTM1", "LAMP-DESK-LED", -38, "stock take")
    assert (after.on_hand, after.reserved, after.available) == (2, 5, -3)
    result = wms.warehouse_confirm_pick(pick_list)
    assert [(i.sku, i.quantity, i.short) for i in result.items] == [("LAMP-DESK-LED", 2, 3)]
    assert result.short_skus == ["LAMP-DESK-LED"]
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (0, 3), "the short units stay reserved"
    assert release(wms, "short") == ReleaseResult(released_units=3, put_back_units=2)
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (2, 0), "the picked ones are back on the shelf"
    assert_books_balance(wms)


def test_a_barcode_mismatch_is_a_short_pick(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(
        wms, "scan", line("1", "MUG-CER-350", 1), line("2", "SOCK-WOOL-3PK", 2)
    )
    stale = pick_list.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"barcode": "0000000000000"}) if i.sku == "MUG-CER-350" else i
                for i in pick_list.items
            )
        }
    )
    result = wms.warehouse_confirm_pick(stale)
    assert {i.sku: (i.quantity, i.short) for i in result.items} == {
        "MUG-CER-350": (0, 1),
        "SOCK-WOOL-3PK": (2, 0),
    }
    mugs = level(wms, "STO1", "MUG-CER-350")
    assert (mugs.on_hand, mugs.reserved) == (200, 1)
    assert_books_balance(wms)


def test_pack_verification(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(wms, "pack", line("1", "BOOK-FIELD-GUIDE", 2))
    confirmation = PackConfirmation(
        pick_list_id=pick_list.pick_list_id,
        shipment_id="pack-1",
        warehouse="STO1",
        parcels=(parcel(1900),),
        packaging_option_id="box-m",
        inserts=("thank-you-card",),
    )
    early = wms.warehouse_confirm_pack(confirmation)
    assert (early.verified, early.message) == (False, "pick of PL-pack-1 is not confirmed")
    wms.warehouse_confirm_pick(pick_list)
    light = wms.warehouse_confirm_pack(confirmation.model_copy(update={"parcels": (parcel(1000),)}))
    assert not light.verified
    assert "less than the 1700 g" in light.message
    wrong = wms.warehouse_confirm_pack(confirmation.model_copy(update={"shipment_id": "other"}))
    assert not wrong.verified
    packed = wms.warehouse_confirm_pack(confirmation)
    assert packed.verified
    assert packed.message == "1 parcel(s), 1900 g, packaging box-m"
    assert wms.warehouse_confirm_pack(confirmation) == packed
    assert not wms.warehouse_confirm_pack(
        confirmation.model_copy(update={"pick_list_id": "PL-x"})
    ).verified


def test_pack_refuses_a_short_pick(wms: EmbeddedWarehouse) -> None:
    pick_list = reserve_and_list(wms, "sp", line("1", "LAMP-DESK-LED", 1))
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", -40, "flooded")
    wms.warehouse_confirm_pick(pick_list)
    result = wms.warehouse_confirm_pack(
        PackConfirmation(
            pick_list_id=pick_list.pick_list_id,
            shipment_id="sp-1",
            warehouse="RTM1",
            parcels=(parcel(2000),),
            packaging_option_id="box-l",
            inserts=(),
        )
    )
    assert (result.verified, result.message) == (False, "pick of PL-sp-1 was short: LAMP-DESK-LED")


# ================================================================ plugin: re-picks, releases

LAMPS = (line("1", "LAMP-DESK-LED", 3), line("2", "LAMP-DESK-LED", 2))  # RTM1 only, 1400 g each


def attempt(wms: EmbeddedWarehouse, key: str, number: int, *lines: ShipmentLine) -> PickList:
    """The pick list of shipment `{key}-1` (from RTM1) for pick attempt `number`."""
    return wms.warehouse_pick_list(
        PickListRequest(
            reservation_key=key,
            shipment_id=f"{key}-1",
            warehouse="RTM1",
            lines=lines,
            attempt=number,
        )
    )


def pack(wms: EmbeddedWarehouse, pick_list: PickList, grams: int) -> PackResult:
    return wms.warehouse_confirm_pack(
        PackConfirmation(
            pick_list_id=pick_list.pick_list_id,
            shipment_id=pick_list.shipment_id,
            warehouse=pick_list.warehouse,
            parcels=(parcel(grams),),
            packaging_option_id="box-l",
            inserts=(),
        )
    )


def short_of_lamps(wms: EmbeddedWarehouse, key: str) -> PickResult:
    """5 lamps reserved, a stock take leaves 3: attempt 1 picks 3, line 2 is short 2."""
    first = reserve_and_list(wms, key, *LAMPS)
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", -37, "stock take")
    result = wms.warehouse_confirm_pick(first)
    assert [(i.sku, i.quantity, i.short) for i in result.items] == [("LAMP-DESK-LED", 3, 2)]
    assert result.short_lines == (line("2", "LAMP-DESK-LED", 2),)
    return result


def test_a_short_pick_clears_on_a_re_pick_after_a_restock(wms: EmbeddedWarehouse) -> None:
    first = short_of_lamps(wms, "re")
    # A retry of attempt 1 gets its recorded answer and moves nothing, even after a restock.
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", 10, "delivery")
    assert attempt(wms, "re", 1, *LAMPS).attempt == 1
    assert wms.warehouse_confirm_pick(attempt(wms, "re", 1, *LAMPS)) == first
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (10, 2)

    second = attempt(wms, "re", 2, *LAMPS)
    assert (second.pick_list_id, second.attempt) == ("PL-re-1", 2)
    assert [(i.sku, i.quantity, i.location) for i in second.items] == [
        ("LAMP-DESK-LED", 2, "04-12-1")
    ], "only what is still missing"
    assert attempt(wms, "re", 2, *LAMPS) == second
    result = wms.warehouse_confirm_pick(second)
    assert (result.attempt, result.short_skus, result.short_lines) == (2, [], ())
    assert [(i.sku, i.quantity, i.short) for i in result.items] == [("LAMP-DESK-LED", 5, 0)]
    assert wms.warehouse_confirm_pick(second) == result
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (8, 0)
    assert pack(wms, second, 7000).verified
    assert_books_balance(wms)


def test_a_stale_attempt_moves_nothing(wms: EmbeddedWarehouse) -> None:
    first = reserve_and_list(wms, "stale", *LAMPS)
    second = attempt(wms, "stale", 2, *LAMPS)
    assert second.items == first.items, "nothing picked yet: the whole shipment again"
    with pytest.raises(PermanentError, match="overtaken by attempt 2"):
        wms.warehouse_confirm_pick(first)
    with pytest.raises(PermanentError, match="unknown pick list PL-stale-1 \\(attempt 3\\)"):
        wms.warehouse_confirm_pick(second.model_copy(update={"attempt": 3}))
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 40
    assert wms.warehouse_confirm_pick(second).short_skus == []
    assert attempt(wms, "stale", 1, *LAMPS) == first, "an issued list is answered again"
    # Attempt numbers only need to grow; one below the latest would come too late.
    fourth = attempt(wms, "stale", 4, *LAMPS)
    assert fourth.items == (), "nothing is missing"
    with pytest.raises(PermanentError, match="attempt 3 of PL-stale-1 was overtaken by attempt 4"):
        attempt(wms, "stale", 3, *LAMPS)
    assert wms.warehouse_confirm_pick(fourth).short_lines == ()
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 35


def test_a_re_pick_scans_again(wms: EmbeddedWarehouse) -> None:
    short_of_lamps(wms, "scan2")
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", 10, "delivery")
    second = attempt(wms, "scan2", 2, *LAMPS)
    stale = second.model_copy(
        update={"items": tuple(i.model_copy(update={"barcode": "0"}) for i in second.items)}
    )
    assert wms.warehouse_confirm_pick(stale).short_lines == (line("2", "LAMP-DESK-LED", 2),)
    assert level(wms, "RTM1", "LAMP-DESK-LED").on_hand == 10, "a wrong scan picks nothing"
    third = wms.warehouse_confirm_pick(attempt(wms, "scan2", 3, *LAMPS))
    assert (third.attempt, third.short_lines) == (3, ())


def test_ship_what_is_available_releases_the_short_units(wms: EmbeddedWarehouse) -> None:
    short = short_of_lamps(wms, "avail")
    before = pack(wms, attempt(wms, "avail", 1, *LAMPS), 7000)
    assert (before.verified, before.message) == (
        False,
        "pick of PL-avail-1 was short: LAMP-DESK-LED",
    )
    partial = ReleaseRequest(
        reservation_key="avail", lines=short.short_lines, release_id="avail-1:ship-available"
    )
    assert wms.warehouse_release(partial) == ReleaseResult(released_units=2)
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (0, 0)
    assert wms.warehouse_release(partial) == ReleaseResult(released_units=2), "recorded answer"
    assert level(wms, "RTM1", "LAMP-DESK-LED") == lamps, "a retry moves nothing"
    with pytest.raises(PermanentError, match="made for other lines"):
        wms.warehouse_release(
            partial.model_copy(update={"lines": (line("1", "LAMP-DESK-LED", 1),)})
        )
    with pytest.raises(PermanentError, match="only 0 reserved and not picked"):
        wms.warehouse_release(partial.model_copy(update={"release_id": "again"}))

    # The shipment is now due what was picked: 3 lamps, 4200 g.
    light = pack(wms, attempt(wms, "avail", 1, *LAMPS), 4000)
    assert "less than the 4200 g" in light.message
    packed = pack(wms, attempt(wms, "avail", 1, *LAMPS), 4300)
    assert packed.verified
    # A cancel before handover puts the 3 picked lamps back; nothing is released twice.
    assert release(wms, "avail") == ReleaseResult(put_back_units=3)
    assert release(wms, "avail") == ReleaseResult()
    lamps = level(wms, "RTM1", "LAMP-DESK-LED")
    assert (lamps.on_hand, lamps.reserved) == (3, 0)
    assert_books_balance(wms)


def test_a_partial_release_needs_an_id_and_reserved_lines(wms: EmbeddedWarehouse) -> None:
    with pytest.raises(ValueError, match="needs a release_id"):
        ReleaseRequest(reservation_key="k", lines=(line("1", "MUG-CER-350", 1),))
    wms.warehouse_reserve(reserve_request("part", line("1", "MUG-CER-350", 2), country="SE"))

    def partial(release_id: str, *lines: ShipmentLine, key: str = "part") -> ReleaseResult:
        request = ReleaseRequest(reservation_key=key, lines=lines, release_id=release_id)
        return wms.warehouse_release(request)

    with pytest.raises(PermanentError, match="not reserved by part"):
        partial("a", line("9", "MUG-CER-350", 1))
    with pytest.raises(PermanentError, match="not reserved by part"):
        partial("a", line("1", "BAG-TOTE-NAT", 1))
    with pytest.raises(PermanentError, match="no active reservation other"):
        partial("a", line("1", "MUG-CER-350", 1), key="other")
    # Before any pick list: from the reserved units; then the rest.
    assert partial("a", line("1", "MUG-CER-350", 1)) == ReleaseResult(released_units=1)
    assert level(wms, "STO1", "MUG-CER-350").reserved == 1
    assert release(wms, "part") == ReleaseResult(released_units=1)
    with pytest.raises(PermanentError, match="no active reservation part"):
        partial("b", line("1", "MUG-CER-350", 1))
    assert_books_balance(wms)


def test_a_partial_release_takes_the_short_shipment_s_units(wms: EmbeddedWarehouse) -> None:
    # One order line of 3 mugs in two shipments from STO1; only the second is picked, short.
    wms.warehouse_reserve(reserve_request("two", line("1", "MUG-CER-350", 3), country="SE"))

    def listed(shipment: str, quantity: int) -> PickList:
        return wms.warehouse_pick_list(
            PickListRequest(
                reservation_key="two",
                shipment_id=shipment,
                warehouse="STO1",
                lines=(line("1", "MUG-CER-350", quantity),),
            )
        )

    first, second = listed("two-1", 1), listed("two-2", 2)
    wms.adjust_stock("STO1", "MUG-CER-350", -199, "shelf collapsed")
    short = wms.warehouse_confirm_pick(second)
    assert short.short_lines == (line("1", "MUG-CER-350", 1),)
    wms.warehouse_release(
        ReleaseRequest(reservation_key="two", lines=short.short_lines, release_id="two-2:avail")
    )
    assert pack(wms, second, 500).verified, "the short shipment is due only what it picked"
    assert wms.warehouse_confirm_pick(first).short_skus == ["MUG-CER-350"], "still due 1"
    assert_books_balance(wms)


def test_cancel_after_pick_puts_the_units_back(wms: EmbeddedWarehouse) -> None:
    opening = wms.stock_levels()
    pick_list = reserve_and_list(wms, "back", *SPREAD)
    assert wms.warehouse_confirm_pick(pick_list).short_skus == []
    assert pack(wms, pick_list, 5000).verified
    assert release(wms, "back") == ReleaseResult(put_back_units=5)
    assert wms.stock_levels() == opening
    assert release(wms, "back") == ReleaseResult(), "a repeat moves nothing"
    assert release(wms, "back", "back-1") == ReleaseResult()
    assert wms.stock_levels() == opening
    with contextlib.closing(sqlite3.connect(wms.db.path)) as conn:
        moves = conn.execute(
            "SELECT sku, delta, reason FROM stock_moves WHERE reason LIKE 'put back%' ORDER BY sku"
        ).fetchall()
    assert moves[0] == ("BOOK-FIELD-GUIDE", 1, "put back from PL-back-1: reservation back released")
    assert sorted((sku, delta) for sku, delta, _ in moves) == sorted(
        (ln.sku, ln.quantity) for ln in SPREAD
    )
    # The cancelled order's records stay, and nothing more can move under them.
    assert wms.warehouse_confirm_pick(pick_list).short_skus == [], "recorded answer"
    with pytest.raises(PermanentError, match="no active reservation back"):
        wms.warehouse_pick_list(
            PickListRequest(
                reservation_key="back",
                shipment_id="back-1",
                warehouse="STO1",
                lines=SPREAD,
                attempt=2,
            )
        )


def test_cancel_keeps_the_shipment_handed_to_the_carrier(wms: EmbeddedWarehouse) -> None:
    opening = {(s.warehouse, s.sku): s for s in wms.stock_levels()}
    lines = (line("1", "SOCK-WOOL-3PK", 2), line("2", "LAMP-DESK-LED", 4))
    reservation = wms.warehouse_reserve(reserve_request("kept", *lines, country="SE"))
    lists = {
        a.warehouse: wms.warehouse_pick_list(
            PickListRequest(
                reservation_key="kept",
                shipment_id=f"kept-{a.warehouse}",
                warehouse=a.warehouse,
                lines=a.lines,
            )
        )
        for a in reservation.allocations
    }
    assert wms.warehouse_confirm_pick(lists["STO1"]).short_skus == []
    assert pack(wms, lists["STO1"], 1000).verified  # shipped
    wms.adjust_stock("RTM1", "LAMP-DESK-LED", -39, "stock take")
    assert wms.warehouse_confirm_pick(lists["RTM1"]).short_lines == (line("2", "LAMP-DESK-LED", 3),)

    outcome = release(wms, "kept", "kept-STO1")
    assert outcome == ReleaseResult(released_units=3, put_back_units=1)
    socks, lamps = level(wms, "STO1", "SOCK-WOOL-3PK"), level(wms, "RTM1", "LAMP-DESK-LED")
    assert (socks.on_hand, socks.reserved) == (opening["STO1", "SOCK-WOOL-3PK"].on_hand - 2, 0)
    assert (lamps.on_hand, lamps.reserved) == (1, 0), "the picked lamp is back"
    assert release(wms, "kept") == ReleaseResult(), "released once, whatever is kept"
    assert_books_balance(wms)


# =========================================================================== plugin: admin


def test_stock_levels_and_adjustments(wms: EmbeddedWarehouse) -> None:
    rows = wms.stock_levels()
    assert len(rows) == 12
    assert rows[0] == StockLevel("RTM1", "BAG-TOTE-NAT", "03-02-1", 400, 0, 400)
    assert [r.warehouse for r in wms.stock_levels("STO1")] == ["STO1"] * 6
    # A SKU new to a warehouse needs a free location.
    with pytest.raises(PermanentError, match="give one"):
        wms.adjust_stock("STO1", "LAMP-DESK-LED", 10, "delivery")
    with pytest.raises(PermanentError, match="already holds MUG-CER-350"):
        wms.adjust_stock("STO1", "LAMP-DESK-LED", 10, "delivery", location="4-7-1")
    added = wms.adjust_stock("STO1", "LAMP-DESK-LED", 10, "delivery", location="6-2-1")
    assert (added.location, added.on_hand, added.available) == ("06-02-1", 10, 10)
    for args, message in [
        (("XX1", "MUG-CER-350", 1, "r"), "unknown warehouse"),
        (("STO1", "NOPE", 1, "r"), "unknown SKU"),
        (("STO1", "MUG-CER-350", -201, "r"), "only 200"),
        (("STO1", "MUG-CER-350", 0, "r"), "changes nothing"),
        (("STO1", "MUG-CER-350", 1, " "), "needs a reason"),
    ]:
        with pytest.raises(PermanentError, match=message):
            wms.adjust_stock(*args)


@dataclass
class _Shipment:
    key: str
    warehouse: str
    lines: tuple[ShipmentLine, ...]
    attempt: int = 0
    picked: dict[str, int] = field(default_factory=dict)
    """SKU -> units picked so far, from the warehouse's cumulative answers."""
    short: tuple[ShipmentLine, ...] = ()
    packed: bool = False


# Every write is fsynced (synchronous = FULL): on tmpfs, where there is one, a write costs a
# tenth, so the machine runs many more steps in the same time.
_FAST_DIR = "/dev/shm" if Path("/dev/shm").is_dir() else None


class StockBooks(RuleBasedStateMachine):
    """Whatever the sequence of reservations, picks and re-picks, partial and whole releases,
    packs and stock adjustments, nothing is oversold, on_hand moves only with picks,
    put-backs and adjustments, and a retry of any call moves nothing."""

    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(dir=_FAST_DIR)
        self.wms = build(Path(self._dir.name))
        self.levels = self.wms.stock_levels()
        self.on_hand = {(s.warehouse, s.sku): s.on_hand for s in self.levels}
        self.shipments: dict[str, _Shipment] = {}
        self.outstanding: dict[str, int] = {}
        """Active reservation key -> units reserved and neither picked nor released."""
        self.serial = 0

    def teardown(self) -> None:
        self._dir.cleanup()

    def _open(self, when: Callable[[_Shipment], bool]) -> list[str]:
        """Shipments of active reservations, not handed over, that satisfy `when`."""
        return sorted(
            sid
            for sid, s in self.shipments.items()
            if s.key in self.outstanding and not s.packed and when(s)
        )

    # ----------------------------------------------------------------- reservations

    @rule(
        data=st.data(),
        country=st.sampled_from(["SE", "NL", "DE"]),
        quantities=st.lists(st.integers(1, 60), min_size=1, max_size=3),
    )
    def reserve(self, data: st.DataObject, country: str, quantities: list[int]) -> None:
        # Lines may repeat a SKU: their units then share one slot on the pick list.
        sku = st.sampled_from(sorted({sku for _, sku in self.on_hand}))
        lines = [line(str(i), data.draw(sku), n) for i, n in enumerate(quantities)]
        self.serial += 1
        key = f"r{self.serial}"
        reservation = self.wms.warehouse_reserve(reserve_request(key, *lines, country=country))
        if not reservation.complete:
            assert self.wms.stock_levels() == self.levels, "a shortage reserves nothing"
            return
        self.outstanding[key] = sum(quantities)
        for number, allocation in enumerate(reservation.allocations):
            self.shipments[f"{key}-{number}"] = _Shipment(
                key, allocation.warehouse, allocation.lines
            )
            for ln in allocation.lines:
                assert level(self.wms, allocation.warehouse, ln.sku).available >= 0, "oversold"

    @precondition(lambda self: self.outstanding)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        """A cancel: the packed shipments drawn as kept were handed to the carrier."""
        key = data.draw(st.sampled_from(sorted(self.outstanding)))
        mine = {sid: s for sid, s in self.shipments.items() if s.key == key}
        packed = sorted(sid for sid, s in mine.items() if s.packed)
        kept = data.draw(st.lists(st.sampled_from(packed), unique=True)) if packed else []
        request = ReleaseRequest(reservation_key=key, kept_shipments=tuple(kept))
        result = self.wms.warehouse_release(request)
        back = [
            (s.warehouse, sku, n)
            for sid, s in mine.items()
            if sid not in kept
            for sku, n in s.picked.items()
        ]
        assert result == ReleaseResult(
            released_units=self.outstanding.pop(key), put_back_units=sum(n for *_, n in back)
        )
        for warehouse, sku, n in back:
            self.on_hand[warehouse, sku] += n
        again = ReleaseRequest(reservation_key=key)  # kept or not: nothing moves twice
        assert self.wms.warehouse_release(again) == ReleaseResult(), "released once"

    # ----------------------------------------------------------------- floor

    @precondition(lambda self: self._open(lambda s: not s.attempt))
    @rule(data=st.data())
    def pick(self, data: st.DataObject) -> None:
        self._pick(data.draw(st.sampled_from(self._open(lambda s: not s.attempt))))

    @precondition(lambda self: self._open(lambda s: bool(s.short)))
    @rule(
        data=st.data(),
        way=st.sampled_from(["restock, re-pick", "re-pick", "ship what is available"]),
    )
    def resolve_short_pick(self, data: st.DataObject, way: str) -> None:
        sid = data.draw(st.sampled_from(self._open(lambda s: bool(s.short))))
        shipment = self.shipments[sid]
        if way == "ship what is available":
            self._ship_available(sid)
            return
        if way == "restock, re-pick":
            missing: dict[str, int] = {}
            for ln in shipment.short:
                missing[ln.sku] = missing.get(ln.sku, 0) + ln.quantity
            for sku, units in missing.items():
                delivery = units - self.on_hand[shipment.warehouse, sku]
                if delivery > 0:
                    self._adjust(shipment.warehouse, sku, delivery)
        self._pick(sid)
        if way == "restock, re-pick":
            assert shipment.short == (), "a re-pick after a restock clears the short pick"

    def _pick(self, sid: str) -> None:
        shipment = self.shipments[sid]
        shipment.attempt += 1
        request = PickListRequest(
            reservation_key=shipment.key,
            shipment_id=sid,
            warehouse=shipment.warehouse,
            lines=shipment.lines,
            attempt=shipment.attempt,
        )
        pick_list = self.wms.warehouse_pick_list(request)
        result = self.wms.warehouse_confirm_pick(pick_list)
        levels = self.wms.stock_levels()
        assert self.wms.warehouse_pick_list(request) == pick_list
        assert self.wms.warehouse_confirm_pick(pick_list) == result
        assert self.wms.stock_levels() == levels, "a retry moves nothing"
        for item in result.items:
            taken = item.quantity - shipment.picked.get(item.sku, 0)
            assert 0 <= taken <= sum(i.quantity for i in pick_list.items if i.sku == item.sku)
            assert sum(ln.quantity for ln in result.short_lines if ln.sku == item.sku) == item.short
            shipment.picked[item.sku] = item.quantity
            self.on_hand[shipment.warehouse, item.sku] -= taken
            self.outstanding[shipment.key] -= taken
        shipment.short = result.short_lines

    def _ship_available(self, sid: str) -> None:
        """Release the short units, then pack what was picked (as the order workflow does)."""
        shipment = self.shipments[sid]
        request = ReleaseRequest(
            reservation_key=shipment.key, lines=shipment.short, release_id=f"{sid}:available"
        )
        result = self.wms.warehouse_release(request)
        assert result == ReleaseResult(released_units=sum(ln.quantity for ln in shipment.short))
        levels = self.wms.stock_levels()
        assert self.wms.warehouse_release(request) == result
        assert self.wms.stock_levels() == levels, "a retry moves nothing"
        self.outstanding[shipment.key] -= result.released_units
        shipment.short = ()
        self._pack(sid)

    @precondition(lambda self: self._open(lambda s: s.attempt > 0 and not s.short))
    @rule(data=st.data())
    def pack(self, data: st.DataObject) -> None:
        self._pack(data.draw(st.sampled_from(self._open(lambda s: s.attempt > 0 and not s.short))))

    def _pack(self, sid: str) -> None:
        shipment = self.shipments[sid]
        result = self.wms.warehouse_confirm_pack(
            PackConfirmation(
                pick_list_id=f"PL-{sid}",
                shipment_id=sid,
                warehouse=shipment.warehouse,
                parcels=(parcel(500_000),),
                packaging_option_id="pallet",
                inserts=(),
            )
        )
        assert result.verified == any(shipment.picked.values()), result.message
        shipment.packed = result.verified

    # ----------------------------------------------------------------- stock counts

    @rule(data=st.data(), delta=st.integers(-60, 60).filter(bool))
    def adjust(self, data: st.DataObject, delta: int) -> None:
        warehouse, sku = data.draw(st.sampled_from(sorted(self.on_hand)))
        self._adjust(warehouse, sku, max(delta, -self.on_hand[warehouse, sku]) or 1)

    @precondition(lambda self: any(s.reserved and s.on_hand for s in self.levels))
    @rule(data=st.data())
    def lose_reserved_stock(self, data: st.DataObject) -> None:
        """A stock take finds less than is reserved: the next pick of it comes up short."""
        row = data.draw(st.sampled_from([s for s in self.levels if s.reserved and s.on_hand]))
        left = data.draw(st.integers(0, min(row.on_hand, row.reserved) - 1))
        self._adjust(row.warehouse, row.sku, left - row.on_hand)

    def _adjust(self, warehouse: str, sku: str, delta: int) -> None:
        self.wms.adjust_stock(warehouse, sku, delta, "count")
        self.on_hand[warehouse, sku] += delta

    @invariant()
    def books_balance(self) -> None:
        self.levels = self.wms.stock_levels()
        assert {(s.warehouse, s.sku): s.on_hand for s in self.levels} == self.on_hand
        assert sum(self.outstanding.values()) == total_reserved(self.wms)
        assert_books_balance(self.wms)
        with contextlib.closing(sqlite3.connect(self.wms.db.path)) as conn:
            # Every picked unit is on exactly one shipment's list.
            assert conn.execute(
                "SELECT COUNT(*) FROM reservation_lines AS r WHERE picked != COALESCE(("
                " SELECT SUM(l.picked) FROM pick_list_lines AS l JOIN pick_lists AS p"
                " USING (pick_list_id) WHERE p.reservation_key = r.reservation_key"
                " AND p.warehouse = r.warehouse AND l.line_id = r.line_id), 0)"
            ).fetchone() == (0,)


TestStockBooks = StockBooks.TestCase
TestStockBooks.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# =========================================================================== through pluggy


async def test_full_flow_through_the_plugin_host(wms: EmbeddedWarehouse) -> None:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(wms, name="warehouses.embedded")
    pm.check_pending()
    host = PluginHost(pm, {"warehouses.embedded": wms})

    assert [s.sku for s in await host.item_specs("embedded", ["BAG-TOTE-NAT", "NOPE"])] == [
        "BAG-TOTE-NAT"
    ]
    request = reserve_request("order:host", line("1", "BAG-TOTE-NAT", 2), country="NL")
    reservation = await host.reserve("embedded", request)
    assert reservation.complete
    (allocation,) = reservation.allocations
    pick_list = await host.pick_list(
        "embedded",
        PickListRequest(
            reservation_key="order:host",
            shipment_id="host-1",
            warehouse=allocation.warehouse,
            lines=allocation.lines,
        ),
    )
    picked = await host.confirm_pick("embedded", pick_list)
    assert picked.short_skus == []
    packed = await host.confirm_pack(
        "embedded",
        PackConfirmation(
            pick_list_id=pick_list.pick_list_id,
            shipment_id="host-1",
            warehouse="RTM1",
            parcels=(parcel(600),),
            packaging_option_id="mailer",
            inserts=(),
        ),
    )
    assert packed.verified
    kept = ReleaseRequest(reservation_key="order:host", kept_shipments=("host-1",))
    assert await host.release("embedded", kept) == ReleaseResult()
    assert level(wms, "RTM1", "BAG-TOTE-NAT").on_hand == 398


# =========================================================================== concurrency

RACE_ROUNDS = 20


def _race_worker(data_dir: str, catalog: str, name: str, barrier: Any, results: Any) -> None:
    """Runs in a spawned process: in each round, try to reserve the one unit left."""
    wms = build(Path(data_dir), catalog_file=Path(catalog))
    for round_no in range(RACE_ROUNDS):
        barrier.wait(timeout=60)
        reservation = wms.warehouse_reserve(
            reserve_request(f"{name}-{round_no}", line("1", "LAST", 1), country="SE")
        )
        results.put((round_no, name, reservation.complete))
        barrier.wait(timeout=60)


def test_two_processes_race_for_the_last_unit(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(SMALL_CATALOG)
    data_dir = tmp_path / "data"
    wms = build(data_dir, catalog_file=catalog)  # seeds before the racers start
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    racers = [
        context.Process(
            target=_race_worker, args=(str(data_dir), str(catalog), name, barrier, results)
        )
        for name in ("left", "right")
    ]
    for racer in racers:
        racer.start()
    try:
        for round_no in range(RACE_ROUNDS):
            assert level(wms, "STO1", "LAST").available == 1
            barrier.wait(timeout=60)  # go
            barrier.wait(timeout=60)  # both answered
            outcomes = [results.get(timeout=10) for _ in racers]
            assert {r for r, _, _ in outcomes} == {round_no}
            assert sorted(won for _, _, won in outcomes) == [False, True], outcomes
            last = level(wms, "STO1", "LAST")
            assert (last.on_hand, last.reserved, last.available) == (round_no + 1, round_no + 1, 0)
            wms.adjust_stock("STO1", "LAST", 1, "restock for the next round")
    finally:
        barrier.abort()
        for racer in racers:
            racer.join(timeout=10)
            if racer.is_alive():
                racer.terminate()
                racer.join()
        results.close()
        results.join_thread()
    assert [racer.exitcode for racer in racers] == [0, 0]

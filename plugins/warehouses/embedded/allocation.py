"""Which warehouses ship which order lines. Pure and deterministic, so it is tested without a
database and two calls with the same stock always give the same plan.

Policy, in order of importance:

1. All or nothing: if any SKU lacks stock summed over every warehouse, the plan is shortages only.
2. Fewest warehouses (fewest parcels and carrier labels). Warehouse sets are searched exactly by
   growing size while that stays small (at most ``max_subsets`` sets of one size; a WMS of this
   kind has a handful of sites). Beyond that, greedy set cover: repeatedly add the warehouse
   that covers the most still-uncovered units; not always minimal, within a log factor of it.
3. Among sets of that size: fewest SKUs split across warehouses, then most warehouses in the
   destination country (no customs, cheaper carriage), then most headroom (the smallest stock
   left behind at any warehouse/SKU used, so the next order is least likely to run short),
   then warehouse codes.

Within the chosen set a SKU goes whole to one warehouse when one holds enough (in-country first,
then the most stock); otherwise it is filled from the warehouse with the most stock down. Order
lines of a split SKU are kept whole where the quantities allow (largest line first, first fit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from hub.domain.messages import Shortage
from hub.domain.shipment import ShipmentLine

Availability = Mapping[str, Mapping[str, int]]
"""warehouse -> sku -> units available (on hand minus reserved); absent means none."""

_Assignment = dict[str, list[tuple[str, int]]]
"""sku -> [(warehouse, units)]; several entries means the SKU is split."""
_Stock = Callable[[str, str], int]
"""(warehouse, sku) -> units available, never negative."""


@dataclass(frozen=True)
class Plan:
    allocations: tuple[tuple[str, tuple[ShipmentLine, ...]], ...] = ()
    """(warehouse, its lines), in-country warehouses first, then by code."""
    shortages: tuple[Shortage, ...] = ()
    """Non-empty means nothing may be reserved."""


def allocate(
    lines: Sequence[ShipmentLine],
    available: Availability,
    countries: Mapping[str, str],
    destination_country: str,
    *,
    max_subsets: int = 5000,
) -> Plan:
    """Plan an all-or-nothing allocation; `countries` maps every warehouse to its country."""
    demand: dict[str, int] = {}
    for line in lines:
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity

    def stock(warehouse: str, sku: str) -> int:
        return max(0, available.get(warehouse, {}).get(sku, 0))

    warehouses = sorted(countries)
    shortages = tuple(
        Shortage(sku=sku, requested=wanted, available=total)
        for sku, wanted in demand.items()
        if (total := sum(stock(w, sku) for w in warehouses)) < wanted
    )
    if shortages or not demand:
        return Plan(shortages=shortages)

    home = destination_country.upper()

    def assign(chosen: Sequence[str]) -> _Assignment:
        assignment: _Assignment = {}
        for sku, wanted in demand.items():
            holders = [w for w in chosen if stock(w, sku) > 0]
            whole = [w for w in holders if stock(w, sku) >= wanted]
            if whole:
                best = min(whole, key=lambda w: (countries[w] != home, -stock(w, sku), w))
                assignment[sku] = [(best, wanted)]
                continue
            parts, left = [], wanted
            for w in sorted(holders, key=lambda w: (-stock(w, sku), countries[w] != home, w)):
                take = min(left, stock(w, sku))
                parts.append((w, take))
                left -= take
                if not left:
                    break
            assignment[sku] = parts
        return assignment

    def rank(chosen: tuple[str, ...]) -> tuple[int, int, int, tuple[str, ...]]:
        assignment = assign(chosen)
        splits = sum(len(parts) > 1 for parts in assignment.values())
        abroad = sum(countries[w] != home for w in chosen)
        headroom = min(stock(w, sku) - n for sku, parts in assignment.items() for w, n in parts)
        return (splits, abroad, -headroom, chosen)

    def covers(chosen: Sequence[str]) -> bool:
        return all(sum(stock(w, sku) for w in chosen) >= n for sku, n in demand.items())

    useful = [w for w in warehouses if any(stock(w, sku) for sku in demand)]
    chosen: Sequence[str] | None = None
    for size in range(1, len(useful) + 1):
        if math.comb(len(useful), size) > max_subsets:
            chosen = _greedy_cover(demand, useful, stock, home, countries)
            break
        feasible = [subset for subset in combinations(useful, size) if covers(subset)]
        if feasible:
            chosen = min(feasible, key=rank)
            break
    assert chosen is not None, "total stock covers demand, so the full set does"
    return Plan(allocations=_to_lines(lines, assign(chosen), countries, home))


def _greedy_cover(
    demand: Mapping[str, int],
    useful: Sequence[str],
    stock: _Stock,
    home: str,
    countries: Mapping[str, str],
) -> list[str]:
    uncovered = dict(demand)
    chosen: list[str] = []
    while any(uncovered.values()):

        def gain(w: str) -> int:
            return sum(min(stock(w, sku), n) for sku, n in uncovered.items())

        best = min(
            (w for w in useful if w not in chosen),
            key=lambda w: (-gain(w), countries[w] != home, w),
        )
        chosen.append(best)
        for sku, n in uncovered.items():
            uncovered[sku] = n - min(stock(best, sku), n)
    return chosen


@dataclass
class _Quota:
    warehouse: str
    left: int


def _to_lines(
    lines: Sequence[ShipmentLine],
    assignment: _Assignment,
    countries: Mapping[str, str],
    home: str,
) -> tuple[tuple[str, tuple[ShipmentLine, ...]], ...]:
    """Spread each SKU's per-warehouse quotas over its order lines, splitting as few as may be."""
    quotas = {sku: [_Quota(w, n) for w, n in parts] for sku, parts in assignment.items()}
    pieces: list[tuple[int, str, ShipmentLine]] = []  # (line index, warehouse, piece)
    largest_first = sorted(range(len(lines)), key=lambda i: (-lines[i].quantity, i))
    for index in largest_first:
        line = lines[index]
        mine = quotas[line.sku]
        fit = next((q for q in mine if q.left >= line.quantity), None)
        if fit is not None:
            fit.left -= line.quantity
            pieces.append((index, fit.warehouse, line))
            continue
        wanted = line.quantity
        for quota in mine:
            take = min(wanted, quota.left)
            if take:
                quota.left -= take
                wanted -= take
                pieces.append((index, quota.warehouse, line.model_copy(update={"quantity": take})))
    by_warehouse: dict[str, list[tuple[int, ShipmentLine]]] = {}
    for index, warehouse, piece in pieces:
        by_warehouse.setdefault(warehouse, []).append((index, piece))
    order = sorted(by_warehouse, key=lambda w: (countries[w] != home, w))
    return tuple(
        (w, tuple(piece for _, piece in sorted(by_warehouse[w], key=lambda p: p[0]))) for w in order
    )

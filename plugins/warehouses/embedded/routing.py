"""Pick-path routing in a single-block warehouse. Pure: no I/O, deterministic.

The floor is one block of parallel aisles joined by a front and a back cross-aisle; the picker
starts and ends at the front end of the depot aisle. A location "<aisle>-<bay>-<level>" is a point
in its aisle at the middle of its bay; the level is a shelf height and costs no walking.

- :func:`optimal_route` finds a shortest tour exactly with the dynamic programme of Ratliff and
  Rosenthal (1983): it sweeps the aisles left to right and keeps, for the two ends of the current
  aisle, the degree parity and whether they are already connected by the partial tour. Any
  connected even-degree subgraph covering the picks is a closed walk, so the cheapest one is the
  shortest route; an Euler circuit of it gives the visiting order.
- :func:`s_shape_route` is the rule pickers follow on paper: traverse every aisle that has a pick,
  and turn back in the last one when their number is odd.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

_LOCATION = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)")
_EPSILON = 1e-9


@dataclass(frozen=True)
class Layout:
    aisle_spacing_m: float
    """Centre-to-centre distance between adjacent aisles (walked along a cross-aisle)."""
    bay_length_m: float
    bays_per_aisle: int
    depot_aisle: int = 1

    @property
    def aisle_length_m(self) -> float:
        return self.bays_per_aisle * self.bay_length_m

    def depth(self, bay: int) -> float:
        """Distance of a bay's pick face from the front cross-aisle."""
        return (bay - 0.5) * self.bay_length_m

    def check(self, location: Location) -> None:
        if location.bay > self.bays_per_aisle:
            raise ValueError(
                f"location {location} is in bay {location.bay}, "
                f"but aisles have {self.bays_per_aisle} bays"
            )


@dataclass(frozen=True, order=True)
class Location:
    aisle: int
    bay: int
    level: int

    @classmethod
    def parse(cls, text: str) -> Location:
        match = _LOCATION.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"location {text!r} is not of the form <aisle>-<bay>-<level>")
        aisle, bay, level = (int(part) for part in match.groups())
        if min(aisle, bay, level) < 1:
            raise ValueError(f"location {text!r}: aisle, bay and level start at 1")
        return cls(aisle, bay, level)

    def __str__(self) -> str:
        return f"{self.aisle:02d}-{self.bay:02d}-{self.level}"


@dataclass(frozen=True)
class Route:
    order: tuple[int, ...]
    """Indices into the locations given, in walking order."""
    length_m: float


def route(locations: Sequence[Location], layout: Layout, *, optimal: bool = True) -> Route:
    return optimal_route(locations, layout) if optimal else s_shape_route(locations, layout)


# --------------------------------------------------------------------------- stops

_Stop = tuple[int, int]  # (aisle, bay): locations on different levels of one bay are one stop


def _stops(locations: Sequence[Location], layout: Layout) -> dict[int, list[int]]:
    """Aisle -> bays with picks, front to back."""
    for location in locations:
        layout.check(location)
    bays: dict[int, set[int]] = defaultdict(set)
    for location in locations:
        bays[location.aisle].add(location.bay)
    return {aisle: sorted(found) for aisle, found in sorted(bays.items())}


def _expand(visits: Sequence[_Stop], locations: Sequence[Location]) -> tuple[int, ...]:
    """Location indices in stop order; within a stop by level, then as given."""
    rank = {stop: n for n, stop in enumerate(visits)}
    return tuple(
        sorted(
            range(len(locations)),
            key=lambda i: (rank[(locations[i].aisle, locations[i].bay)], locations[i].level, i),
        )
    )


# --------------------------------------------------------------------------- S-shape


def s_shape_route(locations: Sequence[Location], layout: Layout) -> Route:
    stops = _stops(locations, layout)
    if not stops:
        return Route((), 0.0)
    aisles = list(stops)
    spacing, full = layout.aisle_spacing_m, layout.aisle_length_m
    length = abs(layout.depot_aisle - aisles[0]) * spacing
    visits: list[_Stop] = []
    at_front = True
    for n, aisle in enumerate(aisles):
        if n:
            length += (aisle - aisles[n - 1]) * spacing
        bays = stops[aisle]
        if at_front and n == len(aisles) - 1:  # odd count: go in to the last pick and back out
            length += 2 * layout.depth(bays[-1])
        else:
            length += full
            at_front = not at_front
        ordered = bays if n % 2 == 0 else list(reversed(bays))
        visits.extend((aisle, bay) for bay in ordered)
    length += abs(aisles[-1] - layout.depot_aisle) * spacing
    return Route(_expand(visits, locations), length)


# --------------------------------------------------------------------------- exact routing

# Degree classes of an aisle end in the partial tour.
_ABSENT, _ODD, _EVEN = 0, 1, 2
# (front end, back end, joined): joined means both ends lie in one component of the partial
# tour. (0, 0, False) is the empty partial tour; every component touches an end of the aisle.
_State = tuple[int, int, bool]
_EMPTY: _State = (_ABSENT, _ABSENT, False)
# How often each segment of an aisle is walked; segment i joins point i and i + 1, where point 0
# is the front end, the last point the back end, and the picks lie in between.
_Walk = tuple[int, ...]
_Node = tuple[int, int]  # (aisle, point index)


def _add(degree: int, edges: int) -> int:
    if edges == 0:
        return degree
    return _ODD if (degree + edges) % 2 else _EVEN


def _walks(points: Sequence[float]) -> list[_Walk]:
    """The walks of one aisle that can be part of a shortest tour (Ratliff & Rosenthal)."""
    segments = len(points) - 1
    once, twice = (1,) * segments, (2,) * segments
    if segments == 1:  # no picks in this aisle
        return [(0,), once, twice]

    def skipping(gap: int) -> _Walk:
        return tuple(0 if i == gap else 2 for i in range(segments))

    walks = [once, twice, skipping(0), skipping(segments - 1)]
    if segments > 2:  # enter from both ends, leave out the largest gap between two picks
        inner = range(1, segments - 1)
        largest = max(inner, key=lambda i: (points[i + 1] - points[i], -i))
        walks.append(skipping(largest))
    return walks


def _walk_cost(walk: _Walk, points: Sequence[float]) -> float:
    return sum(times * (points[i + 1] - points[i]) for i, times in enumerate(walk))


def _after_walk(state: _State, walk: _Walk) -> _State:
    front, back, joined = state
    return (_add(front, walk[0]), _add(back, walk[-1]), joined or min(walk) > 0)


def _after_cross(state: _State, bottom: int, top: int, depot: bool) -> _State | None:
    """Leave an aisle with `bottom`/`top` cross-aisle edges to the next; None if not allowed."""
    front, back, joined = state
    final_front, final_back = _add(front, bottom), _add(back, top)
    if _ODD in (final_front, final_back) or (depot and final_front == _ABSENT):
        return None
    if state != _EMPTY:
        # A component left behind could never join the rest of the tour.
        if joined:
            carried = bottom > 0 or top > 0
        else:
            carried = (front == _ABSENT or bottom > 0) and (back == _ABSENT or top > 0)
        if not carried:
            return None
    return (bottom, top, joined and bottom > 0 and top > 0)


def _closed(state: _State, depot: bool) -> bool:
    front, back, joined = state
    if _ODD in (front, back) or state == _EMPTY or (depot and front == _ABSENT):
        return False
    return joined or (front == _ABSENT) != (back == _ABSENT)


def _relax(
    table: dict[_State, float],
    back: dict[_State, tuple[_State, tuple[int, ...]]],
    state: _State,
    cost: float,
    via: tuple[_State, tuple[int, ...]],
) -> None:
    if state not in table or cost < table[state] - _EPSILON:
        table[state] = cost
        back[state] = via


def optimal_route(locations: Sequence[Location], layout: Layout) -> Route:
    stops = _stops(locations, layout)
    if not stops:
        return Route((), 0.0)
    depot = layout.depot_aisle
    lo, hi = min(*stops, depot), max(*stops, depot)
    full = layout.aisle_length_m
    points = {
        aisle: [0.0, *(layout.depth(bay) for bay in stops.get(aisle, ())), full]
        for aisle in range(lo, hi + 1)
    }

    # Sweep: per aisle, first its walk, then the cross-aisle edges to the next aisle.
    walk_back: dict[int, dict[_State, tuple[_State, tuple[int, ...]]]] = {}
    cross_back: dict[int, dict[_State, tuple[_State, tuple[int, ...]]]] = {}
    costs: dict[_State, float] = {_EMPTY: 0.0}
    for aisle in range(lo, hi + 1):
        walked: dict[_State, float] = {}
        walk_back[aisle] = {}
        for state, cost in sorted(costs.items()):
            for walk in _walks(points[aisle]):
                after = _after_walk(state, walk)
                total = cost + _walk_cost(walk, points[aisle])
                _relax(walked, walk_back[aisle], after, total, (state, walk))
        if aisle == hi:
            costs = walked
            break
        costs = {}
        cross_back[aisle + 1] = {}
        for state, cost in sorted(walked.items()):
            for bottom in range(3):
                for top in range(3):
                    after_cross = _after_cross(state, bottom, top, aisle == depot)
                    if after_cross is not None:
                        total = cost + (bottom + top) * layout.aisle_spacing_m
                        via = (state, (bottom, top))
                        _relax(costs, cross_back[aisle + 1], after_cross, total, via)

    finals = [(cost, s) for s, cost in costs.items() if _closed(s, hi == depot)]
    length, state = min(finals)

    # Walk the back-pointers to the chosen walk per aisle and edges between aisles.
    walks: dict[int, _Walk] = {}
    crossings: dict[int, tuple[int, ...]] = {}
    for aisle in range(hi, lo - 1, -1):
        state, walks[aisle] = walk_back[aisle][state]
        if aisle > lo:
            state, crossings[aisle - 1] = cross_back[aisle][state]

    circuit = _euler_circuit((depot, 0), _edges(walks, crossings, points))
    seen: dict[_Stop, None] = {}
    for aisle, point in circuit:
        bays = stops.get(aisle, [])
        if 0 < point <= len(bays):
            seen.setdefault((aisle, bays[point - 1]), None)
    return Route(_expand(list(seen), locations), length)


def _edges(
    walks: dict[int, _Walk],
    crossings: dict[int, tuple[int, ...]],
    points: dict[int, list[float]],
) -> list[tuple[_Node, _Node]]:
    edges: list[tuple[_Node, _Node]] = []
    for aisle, walk in sorted(walks.items()):
        for i, times in enumerate(walk):
            edges.extend([((aisle, i), (aisle, i + 1))] * times)
    for aisle, (bottom, top) in sorted(crossings.items()):
        back_here, back_next = len(points[aisle]) - 1, len(points[aisle + 1]) - 1
        edges.extend([((aisle, 0), (aisle + 1, 0))] * bottom)
        edges.extend([((aisle, back_here), (aisle + 1, back_next))] * top)
    return edges


def _euler_circuit(start: _Node, edges: Sequence[tuple[_Node, _Node]]) -> list[_Node]:
    """Hierholzer's algorithm; the DP guarantees the multigraph is connected and even."""
    incident: dict[_Node, list[int]] = defaultdict(list)
    for number, (u, v) in enumerate(edges):
        incident[u].append(number)
        incident[v].append(number)
    used = [False] * len(edges)
    cursor: dict[_Node, int] = defaultdict(int)
    stack, circuit = [start], []
    while stack:
        node = stack[-1]
        mine = incident[node]
        while cursor[node] < len(mine) and used[mine[cursor[node]]]:
            cursor[node] += 1
        if cursor[node] == len(mine):
            circuit.append(stack.pop())
            continue
        number = mine[cursor[node]]
        used[number] = True
        u, v = edges[number]
        stack.append(v if u == node else u)
    circuit.reverse()
    return circuit
